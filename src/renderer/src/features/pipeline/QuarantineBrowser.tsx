import { useEffect, useState } from 'react'
import { formatDateTime, formatNumber, truncate } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import type { QuarantineRow } from '../../../../shared/dto'
import { DataTable, num } from '../../ui/DataTable'
import { SlicePageControls } from '../../ui/PageControls'

const PREVIEW_CHARS = 160

function RawLine({ row }: { row: QuarantineRow }) {
  const [open, setOpen] = useState(false)
  const long = row.raw.length > PREVIEW_CHARS
  return (
    <div>
      <pre className={`raw${open ? '' : ' collapsed'}`} data-testid="quarantine-raw">
        {open || !long ? row.raw : truncate(row.raw, PREVIEW_CHARS)}
      </pre>
      {long && (
        <button type="button" className="link-btn" onClick={() => setOpen(!open)} data-testid="quarantine-expand">
          {open ? 'Collapse' : `Show all ${formatNumber(row.raw.length)} characters`}
        </button>
      )}
    </div>
  )
}

/**
 * Re-validation of an order line whose cause was fixed (a rate added): this one, or every line
 * with its reason. The engine writes silver for it, so only while the pipeline is stopped.
 */
function RevalidateButtons({ row, stopped }: { row: QuarantineRow; stopped: boolean }) {
  const { quarantine } = useStores()
  const busy = useSlice(quarantine, (s) => s.revalidating !== null)
  if (row.kind !== 'order') return null
  if (row.resolvedBatchId !== null) {
    return (
      <div className="revalidate muted" data-testid="quarantine-resolved">
        in silver (batch {row.resolvedBatchId})
      </div>
    )
  }
  const title = stopped ? undefined : 'Stop the pipeline to re-validate'
  return (
    <div className="revalidate">
      <button
        type="button"
        className="link-btn"
        disabled={!stopped || busy}
        title={title}
        onClick={() => void quarantine.getState().revalidate({ id: row.id })}
        data-testid="quarantine-revalidate"
      >
        Re-validate
      </button>
      <button
        type="button"
        className="link-btn"
        disabled={!stopped || busy}
        title={title}
        onClick={() => void quarantine.getState().revalidate({ reason: row.reason })}
        data-testid="quarantine-revalidate-reason"
      >
        All with this reason
      </button>
    </div>
  )
}

export function QuarantineBrowser() {
  const { quarantine, pipeline } = useStores()
  const q = useSlice(quarantine, (s) => s)
  const quarantinedTotal = useSlice(pipeline, (s) => s.status?.totals.quarantined ?? 0)
  const stopped = useSlice(pipeline, (s) => s.status?.state === 'stopped' || s.status?.state === 'error')

  useEffect(() => {
    void quarantine.getState().load(0)
  }, [quarantine])

  const stale = q.loaded && quarantinedTotal > q.total

  return (
    <Card
      title="Quarantine"
      hint="input lines that could not be used, with the reason"
      flush
      testId="quarantine"
      right={
        <SlicePageControls
          page={q}
          testId="quarantine"
          after={
            <button
              type="button"
              className={`btn small${stale ? ' primary' : ''}`}
              disabled={q.loading}
              onClick={() => void q.load(q.offset)}
              data-testid="quarantine-refresh"
            >
              {stale ? 'New lines · Refresh' : 'Refresh'}
            </button>
          }
        />
      }
    >
      {q.revalidated && (
        <p className={`banner ${q.revalidated.ok ? 'info' : 'warning'}`} role="status" data-testid="quarantine-revalidated">
          {q.revalidated.message}
        </p>
      )}
      {q.error ? (
        <EmptyState title="Could not load the quarantine">
          <p>{q.error}</p>
        </EmptyState>
      ) : q.rows.length === 0 ? (
        <EmptyState title={q.loading ? 'Loading…' : 'Nothing quarantined'} testId="quarantine-empty">
          {!q.loading && <p>Malformed or invalid input lines show up here with the reason they were rejected.</p>}
        </EmptyState>
      ) : (
        <DataTable testId="quarantine-table" columns={['Ingested', num('Batch'), 'Kind', 'Reason', 'Where', 'Line']}>
          {q.rows.map((r) => (
            <tr key={r.id} data-testid="quarantine-row">
              <td className="tnum">
                {formatDateTime(r.ingestedAt)}
              </td>
              <td className="num">{r.batchId}</td>
              <td>{r.kind}</td>
              <td style={{ maxWidth: 220 }}>
                <div data-testid="quarantine-reason" style={{ color: 'var(--danger)' }}>
                  {r.reason}
                </div>
                <RevalidateButtons row={r} stopped={stopped} />
              </td>
              <td className="mono ellipsis" title={`${r.source} ${r.position}`}>
                {r.source.split(/[\\/]/).pop()}:{r.position}
              </td>
              <td style={{ maxWidth: 520 }}>
                <RawLine row={r} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </Card>
  )
}
