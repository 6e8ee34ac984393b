import { createHash } from 'node:crypto'
import type { HealthEvent } from '../../shared/health'
import type { OutboxMessage } from '../lake/alert-outbox'
import type { RevealedSink } from './open-sink'

// What every alert sink is: something that sends one message of the outbox, or throws. A sink
// keeps no delivery state: the outbox (lake/alert-outbox.ts) and the sender (sink-sender.ts) do.

export interface AlertSink {
  /** Stable name of the sink: its outbox rows, status and log lines carry it. */
  readonly id: string
  /**
   * Sends `message`; resolves once the receiver has it. `resend` is true when the message may
   * have been sent before (it was claimed before this process started, or an attempt failed).
   */
  send(message: OutboxMessage, resend: boolean): Promise<void>
  /**
   * Sends one health event (a condition firing or resolving), apart from fraud alerts so a
   * receiver never takes it for an order; `key` is its idempotency key.
   */
  sendHealth(event: HealthEvent, key: string, resend: boolean): Promise<void>
  close(): Promise<void>
}

/** Thrown by a sink with a message safe to show and store (no secret, no signed URL). */
export class SinkError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SinkError'
  }
}

/**
 * A sink's id: its `name`, else its kind and target. A URL is shown by host and a hash only: a
 * Slack incoming-webhook URL is itself a secret, and a webhook's may hold a token.
 */
export function sinkId(s: RevealedSink): string {
  if (s.name) return s.name
  switch (s.kind) {
    case 'webhook':
    case 'slack':
      return `${s.kind}:${urlLabel(s.url)}`
    case 'kafka':
      return `kafka:${s.topic}`
    case 'file':
      return `file:${s.path}`
  }
}

/** host plus a short hash of the whole URL: tells two URLs apart without showing their paths. */
function urlLabel(url: string): string {
  let host = '?'
  try {
    host = new URL(url).host
  } catch {
    // the settings schema checked the scheme; an unparsable rest still gets a stable label
  }
  return `${host}#${createHash('sha256').update(url).digest('hex').slice(0, 8)}`
}

/** The message key: the same alerts of the same sink always get the same key. */
export function messageKey(sinkIdValue: string, orderIds: readonly string[]): string {
  const h = createHash('sha256').update(sinkIdValue)
  for (const id of [...orderIds].sort()) h.update('\n').update(id)
  return h.digest('hex').slice(0, 32)
}

/**
 * A health event's key: one condition's change within one episode (named by when it started)
 * always gets the same key for a sink, so a re-sent event is recognised.
 */
export function healthKey(sinkIdValue: string, e: Pick<HealthEvent, 'condition' | 'state' | 'since'>): string {
  return createHash('sha256').update(`health\n${sinkIdValue}\n${e.condition}\n${e.state}\n${e.since}`).digest('hex').slice(0, 32)
}

/** Why a request failed, in words that never include the URL (it may be a secret). */
export function describeFailure(err: unknown): string {
  if (err instanceof SinkError) return err.message
  const e = err as { code?: string; cause?: { code?: string; message?: string }; message?: string }
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? (e?.message || String(err))
}
