import type { AlertRow, BatchRow, WindowRow } from '../../../shared/dto'

// Bounded history for charts: however long the app runs, each series keeps at most a fixed
// number of points, merged by key so a window that is still filling is updated in place.

export const MAX_WINDOWS = 720
export const MAX_BATCHES = 720
export const MAX_ALERTS = 500

const time = (iso: string | null | undefined): number => {
  const t = iso ? Date.parse(iso) : NaN
  return Number.isNaN(t) ? 0 : t
}

/**
 * `prev` and `incoming` by key, an incoming row replacing the one it repeats, in `order`; of more
 * than `cap`, the first or the last `cap` are kept.
 */
function mergeByKey<T, K>(prev: readonly T[], incoming: readonly T[], key: (r: T) => K, order: (a: T, b: T) => number, cap: number, keep: 'first' | 'last'): T[] {
  if (incoming.length === 0) return prev as T[]
  const byKey = new Map<K, T>()
  for (const r of prev) byKey.set(key(r), r)
  for (const r of incoming) byKey.set(key(r), r)
  const rows = [...byKey.values()].sort(order)
  if (rows.length <= cap) return rows
  return keep === 'last' ? rows.slice(rows.length - cap) : rows.slice(0, cap)
}

/** Windows by windowStart, oldest first, newest `cap` kept; incoming rows replace older copies. */
export function mergeWindows(prev: readonly WindowRow[], incoming: readonly WindowRow[], cap = MAX_WINDOWS): WindowRow[] {
  return mergeByKey(prev, incoming, (w) => w.windowStart, (a, b) => time(a.windowStart) - time(b.windowStart), cap, 'last')
}

/** Batches by batchId, oldest first, newest `cap` kept. */
export function mergeBatches(prev: readonly BatchRow[], incoming: readonly BatchRow[], cap = MAX_BATCHES): BatchRow[] {
  return mergeByKey(prev, incoming, (b) => b.batchId, (a, b) => a.batchId - b.batchId, cap, 'last')
}

/** Alerts by orderId, newest first (detection time, then order time), first `cap` kept. */
export function mergeAlerts(prev: readonly AlertRow[], incoming: readonly AlertRow[], cap = MAX_ALERTS): AlertRow[] {
  return mergeByKey(prev, incoming, (a) => a.orderId, (a, b) => time(b.detectedAt) - time(a.detectedAt) || time(b.orderTs) - time(a.orderTs), cap, 'first')
}
