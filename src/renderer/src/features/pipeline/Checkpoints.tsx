import { useEffect, useState } from 'react'
import type { SourceOffsetRow } from '../../../../shared/dto'
import { formatBytes, formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import { DataTable, num } from '../../ui/DataTable'
import { RewindDialog } from './RewindDialog'

/** Why Rewind is unavailable while the pipeline runs: a running batch would commit its offset over it. */
export const REWIND_WHILE_RUNNING = 'Stop the pipeline to rewind a source: a running batch would commit its own offset over the rewind.'

/** A file by its folder and name (the whole path on hover): the name is what tells files apart. */
const shortKey = (r: SourceOffsetRow): string => (r.sourceKind === 'kafka' ? r.key : r.key.split(/[\\/]/).slice(-2).join('/'))

/**
 * The card's counts. `behind` counts only offsets the lake holds: a file never read has none, so a
 * folder of new files shows 0 here while the input activity counts them as waiting; the hint says so.
 */
function checkpointsHint(offsets: number, behind: number): string {
  return `${formatNumber(offsets)} source offset${offsets === 1 ? '' : 's'} in the lake · ${formatNumber(behind)} of them behind their input (files never read yet are not listed)`
}

/**
 * The checkpoint inspector: every source offset the lake has committed, what its source holds
 * now, and the lag between them; fetched again with each committed snapshot (so it holds still
 * while paused). Its one action, Rewind, is offered only while the pipeline is stopped.
 */
export function Checkpoints() {
  const { client, dashboard, pipeline } = useStores()
  const updatedAt = useSlice(dashboard, (s) => s.updatedAt)
  const stopped = useSlice(pipeline, (s) => s.status?.state === 'stopped' || s.status?.state === 'error')
  const [rows, setRows] = useState<SourceOffsetRow[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [rewinding, setRewinding] = useState<SourceOffsetRow | null>(null)
  const [reload, setReload] = useState(0)

  useEffect(() => {
    let alive = true
    client.invoke('query.sourceOffsets', {}).then(
      (r) => alive && (setRows(r), setError(null)),
      (err: unknown) => alive && setError(err instanceof Error ? err.message : String(err))
    )
    return () => {
      alive = false
    }
  }, [client, updatedAt, reload])

  const behind = rows?.filter((r) => (r.lag ?? 0) > 0).length ?? 0
  return (
    <Card
      title="Checkpoints"
      hint={rows ? checkpointsHint(rows.length, behind) : undefined}
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
        <DataTable
          wrapClassName="short"
          testId="checkpoints-table"
          columns={['Source', num('Committed offset'), num('Size / end'), num('Lag'), num('Last batch'), '']}
          after={
            !stopped && (
              <p className="muted" style={{ margin: '6px 12px' }} data-testid="checkpoint-rewind-reason">
                {REWIND_WHILE_RUNNING}
              </p>
            )
          }
        >
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
              <td>
                <button
                  type="button"
                  className="btn small"
                  disabled={!stopped}
                  title={stopped ? 'Read this source again from an earlier offset or time' : REWIND_WHILE_RUNNING}
                  onClick={() => setRewinding(r)}
                  data-testid="checkpoint-rewind"
                >
                  Rewind…
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {rewinding && <RewindDialog row={rewinding} onClose={() => setRewinding(null)} onDone={() => setReload((n) => n + 1)} />}
    </Card>
  )
}
