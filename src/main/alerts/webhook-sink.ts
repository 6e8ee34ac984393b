import { createHmac } from 'node:crypto'
import type { HealthEvent } from '../../shared/health'
import type { OutboxMessage } from '../lake/alert-outbox'
import { postJson } from './http-post'
import type { AlertSink } from './sink'

// A generic JSON webhook (the issue 13 contract): POST {"alerts": [...]} with an Idempotency-Key
// header, and "more" when the sink's maxAlertsPerMessage left alerts out. With a secret, the body
// is signed (HMAC-SHA256, hex) so the receiver can check who sent it; docs/OPERATIONS.md shows
// how to verify it.

export const SIGNATURE_HEADER = 'X-StreamDesk-Signature'

export function webhookBody(message: OutboxMessage): string {
  return JSON.stringify(message.more > 0 ? { alerts: message.alerts, more: message.more } : { alerts: message.alerts })
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export class WebhookSink implements AlertSink {
  constructor(
    readonly id: string,
    private readonly url: string,
    private readonly secret?: string
  ) {}

  async send(message: OutboxMessage): Promise<void> {
    const body = webhookBody(message)
    await postJson(this.url, body, {
      'Idempotency-Key': message.key,
      ...(this.secret ? { [SIGNATURE_HEADER]: signature(this.secret, body) } : {})
    })
  }

  /** {"health": {...}}: a body with no "alerts", so a receiver of the alert contract sees no order. */
  async sendHealth(event: HealthEvent, key: string): Promise<void> {
    const body = JSON.stringify({ health: event })
    await postJson(this.url, body, {
      'Idempotency-Key': key,
      ...(this.secret ? { [SIGNATURE_HEADER]: signature(this.secret, body) } : {})
    })
  }

  async close(): Promise<void> {}
}
