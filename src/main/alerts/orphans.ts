import type { AlertSinkStatus } from '../../shared/dto'
import type { AlertSinkSettings } from '../../shared/settings'
import type { SinkBacklog } from '../lake/alert-outbox'
import type { Reveal } from '../../shared/secrets'
import { revealSink } from './open-sink'
import { sinkId } from './sink'

// A sink removed from the settings leaves its undelivered alerts in the outbox. They are neither
// dropped silently nor left unnoticed: listed as orphans (Pipeline tab, /metrics), delivered
// when the same sink comes back (its id is its name, or its kind and target), discarded only on
// an explicit request.

/**
 * The ids of the configured sinks. A sink whose secret cannot be read (its Slack URL) has an
 * unknown id: `unknown` is then true, and no orphan may be discarded, as it may be that sink's.
 */
export async function configuredSinkIds(sinks: readonly AlertSinkSettings[], reveal: Reveal): Promise<{ ids: Set<string>; unknown: boolean }> {
  const ids = new Set<string>()
  let unknown = false
  for (const [i, s] of sinks.entries()) {
    try {
      ids.add(sinkId(await revealSink(s, `alerts.sinks.${i}`, reveal)))
    } catch {
      unknown = true
    }
  }
  return { ids, unknown }
}

const KINDS = ['webhook', 'slack', 'kafka', 'file'] as const

/** Sinks with undelivered alerts that are not among `known`. */
export function orphanStatuses(backlogs: ReadonlyMap<string, SinkBacklog>, known: ReadonlySet<string>): AlertSinkStatus[] {
  return [...backlogs]
    .filter(([id, b]) => !known.has(id) && b.backlog > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, b]) => ({
      id,
      // a default id starts with its kind; a named sink's kind is not in the outbox
      kind: KINDS.find((k) => id.startsWith(`${k}:`)) ?? null,
      orphaned: true,
      backlog: b.backlog,
      lastError: null,
      lastErrorAt: null,
      lastSuccessAt: b.lastSuccessAt
    }))
}
