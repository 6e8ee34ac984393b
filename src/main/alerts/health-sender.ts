import type { HealthEvent } from '../../shared/health'
import { BACKOFF_BASE_MS, type Clock } from './sink-sender'
import { describeFailure, healthKey, type AlertSink } from './sink'

// Delivers one sink's health events, in order, each with its idempotency key, retrying with
// backoff like the alert outbox. Unlike fraud alerts, health events are kept in memory, not in
// the lake (docs/OPERATIONS.md, *Health alerts*, says why): the condition they report may be the
// lake itself not committing, and a restarted engine looks at the health again from scratch.

/** Events waiting at most per sink; older ones are dropped first (a log line says so). */
const MAX_QUEUED = 200
const BACKOFF_MAX_MS = 60_000

interface Queued {
  event: HealthEvent
  key: string
  /** An attempt failed: the receiver may have it already. */
  tried: boolean
}

export class HealthSender {
  private readonly queue: Queued[] = []
  private failures = 0
  private retryAt = 0
  lastError: string | null = null

  constructor(
    readonly sink: AlertSink,
    private readonly clock: Clock,
    private readonly log: (line: string) => void
  ) {}

  get pending(): number {
    return this.queue.length
  }

  /** Nothing is queued, or the receiver failed: a closing engine waits no longer for this sink. */
  get settled(): boolean {
    return this.queue.length === 0 || this.failures > 0
  }

  push(event: HealthEvent): void {
    this.queue.push({ event, key: healthKey(this.sink.id, event), tried: false })
    if (this.queue.length > MAX_QUEUED) {
      const dropped = this.queue.shift()!
      this.log(`alert sink ${this.sink.id}: health event ${dropped.event.condition} ${dropped.event.state} dropped, ${MAX_QUEUED} newer ones wait`)
    }
  }

  /** Sends the oldest event; returns when to step again: 0 at once, a clock time, or null (none). */
  async step(): Promise<number | null> {
    const head = this.queue[0]
    if (!head) return null
    const now = this.clock.now()
    if (now < this.retryAt) return this.retryAt
    try {
      await this.sink.sendHealth(head.event, head.key, head.tried)
    } catch (err) {
      head.tried = true
      const reason = describeFailure(err)
      this.failures++
      this.retryAt = this.clock.now() + Math.min(BACKOFF_BASE_MS * 2 ** (this.failures - 1), BACKOFF_MAX_MS)
      if (reason !== this.lastError) this.log(`alert sink ${this.sink.id}: health event not delivered (${reason}); retrying with backoff`)
      this.lastError = reason
      return this.retryAt
    }
    if (this.queue[0] === head) this.queue.shift()
    this.failures = 0
    this.retryAt = 0
    this.lastError = null
    return this.queue.length ? 0 : null
  }
}
