import type { AlertRow } from '../../shared/dto'

// Turns the 'alerts.new' stream into few, readable desktop notifications: alerts arriving close
// together are gathered into one ("3 new fraud alerts, highest score 7 — order O-123") and at most
// one notification is shown per `minIntervalMs`; alerts arriving in between are folded into the
// next one rather than dropped. No electron import: the notification itself is injected.

export interface AlertNotice {
  title: string
  body: string
  /** Order id of the highest-scoring alert in the batch. */
  orderId: string
  count: number
}

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface AlertBatcherOptions {
  /** Read at show time (settings.dashboard.notifications). */
  isEnabled: () => Promise<boolean>
  show: (notice: AlertNotice) => void
  /** How long to wait for more alerts before showing (default 1.5 s). */
  batchMs?: number
  /** Minimum time between two notifications (default 30 s). */
  minIntervalMs?: number
  clock?: Clock
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>)
}

export function formatAlertNotice(alerts: readonly AlertRow[]): AlertNotice | null {
  if (alerts.length === 0) return null
  const top = alerts.reduce((a, b) => (b.fraudScore > a.fraudScore ? b : a))
  const score = Number.isInteger(top.fraudScore) ? String(top.fraudScore) : top.fraudScore.toFixed(1)
  if (alerts.length === 1) {
    const reasons = top.fraudReasons.length ? ` (${top.fraudReasons.slice(0, 3).join(', ')})` : ''
    return {
      title: 'New fraud alert',
      body: `Order ${top.orderId}: score ${score}, ${formatAmount(top.amount, top.currency)}${reasons}`,
      orderId: top.orderId,
      count: 1
    }
  }
  return {
    title: 'New fraud alerts',
    body: `${alerts.length} new fraud alerts, highest score ${score} — order ${top.orderId}`,
    orderId: top.orderId,
    count: alerts.length
  }
}

function formatAmount(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount)
  } catch {
    return `${amount.toFixed(2)} ${currency}`
  }
}

export class AlertBatcher {
  private pending = new Map<string, AlertRow>()
  private timer: unknown = null
  private lastShownAt = -Infinity
  private disposed = false
  private readonly batchMs: number
  private readonly minIntervalMs: number
  private readonly clock: Clock

  constructor(private readonly options: AlertBatcherOptions) {
    this.batchMs = options.batchMs ?? 1500
    this.minIntervalMs = options.minIntervalMs ?? 30_000
    this.clock = options.clock ?? realClock
  }

  add(alerts: readonly AlertRow[]): void {
    if (this.disposed || alerts.length === 0) return
    for (const a of alerts) this.pending.set(a.orderId, a)
    if (this.timer !== null) return
    const now = this.clock.now()
    const at = Math.max(now + this.batchMs, this.lastShownAt + this.minIntervalMs)
    this.timer = this.clock.setTimeout(() => void this.flush(), at - now)
  }

  /** Shows what is pending now (if notifications are enabled). Returns the notice shown, if any. */
  async flush(): Promise<AlertNotice | null> {
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
    const alerts = [...this.pending.values()]
    this.pending.clear()
    if (this.disposed || alerts.length === 0) return null
    let enabled = true
    try {
      enabled = await this.options.isEnabled()
    } catch {
      enabled = true // settings unreadable: fall back to the default (on)
    }
    if (!enabled || this.disposed) return null
    const notice = formatAlertNotice(alerts)
    if (!notice) return null
    this.lastShownAt = this.clock.now()
    this.options.show(notice)
    return notice
  }

  dispose(): void {
    this.disposed = true
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
    this.pending.clear()
  }
}
