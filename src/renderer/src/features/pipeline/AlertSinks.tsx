import { useState } from 'react'
import { formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import { DataTable, num } from '../../ui/DataTable'
import type { AlertSinkStatus } from '../../../../shared/dto'
import { sinkHealth } from './sink-health'
import { usePolled } from '../../lib/use-polled'

const REFRESH_MS = 2000

/** Each alert sink of the run: backlog in the lake's outbox, last error, last success; then orphans. */
export function AlertSinks() {
  const { client, pipeline, liveUpdates } = useStores()
  const state = useSlice(pipeline, (s) => s.status?.state)
  const paused = useSlice(liveUpdates, (s) => s.paused)
  const [reload, setReload] = useState(0)
  // stopped too: a sink removed in the settings (here or through the API) becomes an orphan
  const { data: rows, error } = usePolled(() => client.invoke('query.alertSinks', {}), REFRESH_MS, !paused, [client, state, reload])

  if ((!rows || rows.length === 0) && !error) return null
  return (
    <Card title="Alert sinks" hint="alerts queued in the lake until each sink has them" flush testId="alert-sinks-card">
      {error ? (
        <EmptyState title="Sink status unavailable">
          <p>{error}</p>
        </EmptyState>
      ) : (
        <DataTable wrapClassName="short" testId="alert-sinks-table" columns={['Sink', 'Status', num('Backlog'), 'Last success', 'Last error']}>
          {rows!.map((s) => {
            const health = sinkHealth(s)
            return (
              <tr key={`${s.orphaned ? 'orphan' : 'sink'}:${s.id}`} data-testid="alert-sink-row">
                <td>
                  {s.id} {s.kind && <span className="badge plain">{s.kind}</span>}
                  {s.orphaned && <OrphanActions sink={s} onDone={() => setReload((n) => n + 1)} />}
                </td>
                <td>
                  <span className={`badge ${health.tone}`} data-testid="alert-sink-health">
                    {health.label}
                  </span>
                </td>
                <td className="num">{formatNumber(s.backlog)}</td>
                <td>{formatTime(s.lastSuccessAt)}</td>
                <td title={s.lastError ?? undefined}>{s.lastError ? `${formatTime(s.lastErrorAt)} · ${s.lastError}` : '—'}</td>
              </tr>
            )
          })}
        </DataTable>
      )}
    </Card>
  )
}

/**
 * An orphan's alerts wait for the same sink to come back; discarding them is asked for twice,
 * since they will never be sent.
 */
function OrphanActions({ sink, onDone }: { sink: AlertSinkStatus; onDone: () => void }) {
  const { client } = useStores()
  const [asking, setAsking] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const discard = async () => {
    try {
      await client.invoke('alerts.discardOrphaned', { sinkId: sink.id })
      setAsking(false)
      onDone()
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    }
  }
  const n = `${formatNumber(sink.backlog)} undelivered alert${sink.backlog === 1 ? '' : 's'}`
  return (
    <div className="orphan" data-testid="alert-sink-orphan">
      <span className="muted">
        No longer in the settings: {n} kept. Add the same sink again (same name, or kind and target) to deliver them.
      </span>{' '}
      {asking ? (
        <span>
          Discard {n} for good?{' '}
          <button type="button" className="btn danger" onClick={() => void discard()} data-testid="alert-sink-discard-confirm">
            Discard
          </button>{' '}
          <button type="button" className="btn ghost" onClick={() => setAsking(false)}>
            Keep
          </button>
        </span>
      ) : (
        <button type="button" className="btn ghost" onClick={() => setAsking(true)} data-testid="alert-sink-discard">
          Discard…
        </button>
      )}
      {error && <span className="form-error">{error}</span>}
    </div>
  )
}
