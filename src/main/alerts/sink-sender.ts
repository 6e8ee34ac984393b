import type { SinkOutbox } from '../lake/alert-outbox'
import { describeFailure, messageKey, type AlertSink } from './sink'

// Delivers one sink's outbox, one message per step. A message is claimed in the outbox (its key
// and alerts fixed) before its first attempt and marked delivered after the receiver has it, so
// a crash anywhere re-sends at most that message, with the same key and alerts. A failure is
// retried with exponential backoff, the same message first: order is kept and nothing is skipped.
//
// Time comes from `clock`: the grouping and backoff decisions are tested by driving it.

export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export interface SenderOptions {
  /** At most one message per this many seconds (0: as soon as alerts are queued). */
  groupSeconds: number
  /** A message lists at most this many alerts (highest score first) and counts the rest. */
  maxAlertsPerMessage?: number
}

/** Alerts one message takes from the outbox at most; more wait for the next message. */
const CLAIM_LIMIT = 500
export const BACKOFF_BASE_MS = 500
const BACKOFF_MAX_MS = 60_000

interface SenderState {
  lastError: string | null
  lastErrorAt: string | null
  lastSuccessAt: string | null
}

export class SinkSender {
  private sentAt = Number.NEGATIVE_INFINITY
  private failures = 0
  private retryAt = 0
  private flushing = false
  readonly state: SenderState = { lastError: null, lastErrorAt: null, lastSuccessAt: null }

  constructor(
    readonly sink: AlertSink,
    readonly outbox: SinkOutbox,
    private readonly opts: SenderOptions,
    private readonly clock: Clock,
    private readonly log: (line: string) => void
  ) {}

  /**
   * From now on, sends what a grouping interval holds without waiting for its end: for a process
   * about to exit (`--until-idle`), whose next start would send it at once anyway.
   */
  flushGroups(): void {
    this.flushing = true
  }

  /**
   * Sends at most one message. Returns when to step again: 0 at once, a clock time (a retry or
   * the end of a grouping interval), or null when nothing is queued (until new alerts are).
   */
  async step(): Promise<number | null> {
    const now = this.clock.now()
    if (now < this.retryAt) return this.retryAt
    let message = await this.outbox.inFlight()
    const resend = message !== null
    if (message === null) {
      const groupEnd = this.flushing ? now : this.sentAt + this.opts.groupSeconds * 1000
      const queued = await this.outbox.unclaimed(now < groupEnd ? 1 : CLAIM_LIMIT)
      if (queued.length === 0) return null
      if (now < groupEnd) return groupEnd
      const ranked = [...queued].sort((a, b) => b.score - a.score || (a.orderId < b.orderId ? -1 : 1))
      const listed = ranked.slice(0, this.opts.maxAlertsPerMessage ?? ranked.length).map((r) => r.orderId)
      const counted = ranked.slice(listed.length).map((r) => r.orderId)
      const key = messageKey(this.sink.id, queued.map((r) => r.orderId))
      await this.outbox.claim(key, listed, counted)
      message = await this.outbox.message(key)
    }
    try {
      await this.sink.send(message, resend)
    } catch (err) {
      const reason = describeFailure(err)
      this.failures++
      this.retryAt = this.clock.now() + Math.min(BACKOFF_BASE_MS * 2 ** (this.failures - 1), BACKOFF_MAX_MS)
      // once per new reason, not per retry: a receiver down for an hour is one line
      if (reason !== this.state.lastError) this.log(`alert sink ${this.sink.id}: delivery failed (${reason}); retrying with backoff`)
      this.state.lastError = reason
      this.state.lastErrorAt = new Date(this.clock.now()).toISOString()
      await this.outbox.failed(message.key, reason)
      return this.retryAt
    }
    await this.outbox.delivered(message.key)
    if (this.failures > 0) this.log(`alert sink ${this.sink.id}: delivering again`)
    this.failures = 0
    this.retryAt = 0
    this.sentAt = this.clock.now()
    this.state.lastSuccessAt = new Date(this.sentAt).toISOString()
    return 0
  }
}
