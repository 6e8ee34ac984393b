import { useEffect, useState } from 'react'
import { formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import type { AlertSinkStatus } from '../../../../shared/dto'
import { sinkHealth } from './sink-health'

const REFRESH_MS = 2000

/** Each alert sink of the run: backlog in the lake's outbox, last error, last success. */
export function AlertSinks() {
  const { client, pipeline, liveUpdates } = useStores()
  const state = useSlice(pipeline, (s) => s.status?.state)
  const paused = useSlice(liveUpdates, (s) => s.paused)
  const [rows, setRows] = useState<AlertSinkStatus[] | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    if (state !== 'running' || paused) return
    let alive = true
    const load = async () => {
      try {
        const r = await client.invoke('query.alertSinks', {})
        if (alive) {
          setRows(r)
          setError(null)
        }
      } catch (err) {
        if (alive) setError(err instanceof Error ? err.message : String(err))
      }
    }
    void load()
    const timer = setInterval(() => void load(), REFRESH_MS)
    return () => {
      alive = false
      clearInterval(timer)
    }
  }, [client, state, paused])

  if (state !== 'running' || ((!rows || rows.length === 0) && !error)) return null
  return (
    <Card title="Alert sinks" hint="alerts queued in the lake until each sink has them" flush testId="alert-sinks-card">
      {error ? (
        <EmptyState title="Sink status unavailable">
          <p>{error}</p>
        </EmptyState>
      ) : (
        <div className="table-wrap short">
          <table className="data" data-testid="alert-sinks-table">
            <thead>
              <tr>
                <th>Sink</th>
                <th>Status</th>
                <th className="num">Backlog</th>
                <th>Last success</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {rows!.map((s) => {
                const health = sinkHealth(s)
                return (
                  <tr key={s.id} data-testid="alert-sink-row">
                    <td>
                      {s.id} <span className="badge plain">{s.kind}</span>
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
            </tbody>
          </table>
        </div>
      )}
    </Card>
  )
}
