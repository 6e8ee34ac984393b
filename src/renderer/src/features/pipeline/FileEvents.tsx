import { useMemo } from 'react'
import type { BatchEvent, BatchRow } from '../../../../shared/dto'
import { formatTime } from '../../lib/format'
import { Card } from '../../ui/Card'
import { DataTable, num } from '../../ui/DataTable'

const LABEL: Record<BatchEvent['kind'], string> = {
  renamed: 'renamed',
  truncated: 'truncated',
  replaced: 'replaced',
  changed: 'changed while read',
  rewound: 'rewound',
  reread: 'read again'
}

const MAX_SHOWN = 100

/**
 * What happened to input files (renamed, truncated, replaced, changed while being read) and to
 * sources (rewound, then read again), newest first, from the batches kept in the history: each
 * means a source was not simply appended to, and its message says what was read again or not.
 * Hidden when there are none.
 */
export function FileEvents({ batches }: { batches: readonly BatchRow[] }) {
  const rows = useMemo(() => {
    const out: { batch: BatchRow; event: BatchEvent; key: string }[] = []
    for (let i = batches.length - 1; i >= 0 && out.length < MAX_SHOWN; i--) {
      const events = batches[i].events ?? []
      for (let j = events.length - 1; j >= 0 && out.length < MAX_SHOWN; j--) {
        out.push({ batch: batches[i], event: events[j], key: `${batches[i].batchId}-${j}` })
      }
    }
    return out
  }, [batches])

  if (rows.length === 0) return null
  return (
    <Card title="File events" hint="input files renamed, truncated or replaced, sources rewound, and what the pipeline did" flush testId="file-events-card">
      <DataTable wrapClassName="short" testId="file-events-table" columns={[num('Batch'), 'Committed', 'Event', 'File', 'What happened']}>
        {rows.map(({ batch, event, key }) => (
          <tr key={key} data-testid="file-event-row">
            <td className="num">{batch.batchId}</td>
            <td className="tnum">{formatTime(batch.committedAt)}</td>
            <td>
              <span className="badge plain" style={{ background: 'var(--warning-soft)', color: 'var(--warning)' }} data-testid="file-event-kind">
                {LABEL[event.kind] ?? event.kind}
              </span>
            </td>
            <td className="mono ellipsis" title={event.from ? `${event.from} → ${event.path}` : event.path}>
              {event.path.split(/[\\/]/).pop()}
            </td>
            <td style={{ maxWidth: 640 }} data-testid="file-event-message">
              {event.message}
            </td>
          </tr>
        ))}
      </DataTable>
    </Card>
  )
}
