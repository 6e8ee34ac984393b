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

/** Windows by windowStart, oldest first, newest `cap` kept; incoming rows replace older copies. */
export function mergeWindows(prev: readonly WindowRow[], incoming: readonly WindowRow[], cap = MAX_WINDOWS): WindowRow[] {
  if (incoming.length === 0) return prev as WindowRow[]
  const byStart = new Map<string, WindowRow>()
  for (const w of prev) byStart.set(w.windowStart, w)
  for (const w of incoming) byStart.set(w.windowStart, w)
  const rows = [...byStart.values()].sort((a, b) => time(a.windowStart) - time(b.windowStart))
  return rows.length > cap ? rows.slice(rows.length - cap) : rows
}

/** Batches by batchId, oldest first, newest `cap` kept. */
export function mergeBatches(prev: readonly BatchRow[], incoming: readonly BatchRow[], cap = MAX_BATCHES): BatchRow[] {
  if (incoming.length === 0) return prev as BatchRow[]
  const byId = new Map<number, BatchRow>()
  for (const b of prev) byId.set(b.batchId, b)
  for (const b of incoming) byId.set(b.batchId, b)
  const rows = [...byId.values()].sort((a, b) => a.batchId - b.batchId)
  return rows.length > cap ? rows.slice(rows.length - cap) : rows
}

/** Alerts by orderId, newest first (detection time, then order time), first `cap` kept. */
export function mergeAlerts(prev: readonly AlertRow[], incoming: readonly AlertRow[], cap = MAX_ALERTS): AlertRow[] {
  if (incoming.length === 0) return prev as AlertRow[]
  const byId = new Map<string, AlertRow>()
  for (const a of prev) byId.set(a.orderId, a)
  for (const a of incoming) byId.set(a.orderId, a)
  const rows = [...byId.values()].sort(
    (a, b) => time(b.detectedAt) - time(a.detectedAt) || time(b.orderTs) - time(a.orderTs)
  )
  return rows.length > cap ? rows.slice(0, cap) : rows
}
