import type { AlertSinkStatus } from '../../../../shared/dto'

export type SinkHealth = 'running' | 'error' | 'starting' | 'orphaned'

/**
 * Green when the last attempt went through, red when it failed, amber while alerts wait for a
 * first attempt (or a grouping interval): the badge answers "are my alerts getting out?".
 */
export function sinkHealth(s: AlertSinkStatus): { tone: SinkHealth; label: string } {
  // no sender: nothing will go out until the sink is configured again or its alerts discarded
  if (s.orphaned) return { tone: 'orphaned', label: 'orphaned' }
  const failedLast = s.lastErrorAt !== null && (s.lastSuccessAt === null || s.lastErrorAt > s.lastSuccessAt)
  if (failedLast) return { tone: 'error', label: 'failing' }
  if (s.lastSuccessAt !== null) return { tone: 'running', label: s.backlog > 0 ? 'delivering' : 'ok' }
  return { tone: 'starting', label: s.backlog > 0 ? 'waiting' : 'no alerts yet' }
}
