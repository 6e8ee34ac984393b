import { useEffect, useState } from 'react'
import type { SourceOffsetRow } from '../../../../shared/dto'
import { formatBytes, formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'

/** A file by its folder and name (the whole path on hover): the name is what tells files apart. */
const shortKey = (r: SourceOffsetRow): string => (r.sourceKind === 'kafka' ? r.key : r.key.split(/[\\/]/).slice(-2).join('/'))

/**
 * The checkpoint inspector: every source offset the lake has committed, what its source holds
 * now, and the lag between them. Read-only; fetched again with each committed snapshot (so it
 * holds still while paused).
 */
export function Checkpoints() {
  const { client, dashboard } = useStores()
  const updatedAt = useSlice(dashboard, (s) => s.updatedAt)
  const [rows, setRows] = useState<SourceOffsetRow[] | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    let alive = true
    client.invoke('query.sourceOffsets', {}).then(
      (r) => alive && (setRows(r), setError(null)),
      (err: unknown) => alive && setError(err instanceof Error ? err.message : String(err))
    )
    return () => {
      alive = false
    }
  }, [client, updatedAt])

  const behind = rows?.filter((r) => (r.lag ?? 0) > 0).length ?? 0
  return (
    <Card
      title="Checkpoints"
      hint={rows ? `${formatNumber(rows.length)} source offset${rows.length === 1 ? '' : 's'} in the lake · ${formatNumber(behind)} with input not yet read` : undefined}
      flush
      testId="checkpoints-card"
    >
      {error ? (
        <EmptyState title="Checkpoints unavailable">
          <p>{error}</p>
        </EmptyState>
      ) : !rows || rows.length === 0 ? (
        <EmptyState title={rows ? 'No offsets yet' : 'Loading…'}>{rows && <p>Each file or partition the pipeline reads is listed once its first batch commits.</p>}</EmptyState>
      ) : (
        <div className="table-wrap short">
          <table className="data" data-testid="checkpoints-table">
            <thead>
              <tr>
                <th>Source</th>
                <th className="num">Committed offset</th>
                <th className="num">Size / end</th>
                <th className="num">Lag</th>
                <th className="num">Last batch</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.sourceKind}:${r.key}`} data-testid="checkpoint-row">
                  <td className="mono ellipsis" title={r.key}>
                    <span className="chip">{r.sourceKind === 'kafka' ? 'partition' : 'file'}</span>
                    {shortKey(r)}
                  </td>
                  <td className="num" title={`${formatNumber(r.committedOffset)} ${r.unit}`}>
                    {r.unit === 'bytes' ? formatBytes(r.committedOffset) : formatNumber(r.committedOffset)}
                  </td>
                  <td
                    className="num"
                    title={r.end === null ? (r.unit === 'bytes' ? 'the file is gone' : 'the pipeline is not reading Kafka now') : `${formatNumber(r.end)} ${r.unit}`}
                  >
                    {r.end === null ? '—' : r.unit === 'bytes' ? formatBytes(r.end) : formatNumber(r.end)}
                  </td>
                  <td className="num" data-testid="checkpoint-lag">
                    {r.lag === null ? '—' : r.unit === 'bytes' ? formatBytes(r.lag) : `${formatNumber(r.lag)} msg`}
                  </td>
                  <td className="num" title={r.batchCommittedAt ?? undefined}>
                    #{r.batchId} · {formatTime(r.batchCommittedAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  )
}
