import type { HealthEvent } from '../../shared/health'
import type { OutboxAlert, OutboxMessage } from '../lake/alert-outbox'
import { postJson } from './http-post'
import type { AlertSink } from './sink'

// A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Teams' Slack connector):
// {"text": ...} in mrkdwn, one line per alert. Such receivers do not deduplicate; the
// Idempotency-Key header is sent anyway for proxies that do.

/** Lines shown at most, whatever maxAlertsPerMessage says: a chat message is read, not parsed. */
const MAX_LINES = 20

function line(a: OutboxAlert): string {
  const amount = typeof a.total_amount === 'number' ? ` ${a.total_amount.toFixed(2)} ${String(a.currency ?? '')}` : ''
  const reasons = a.reasons.length ? ` — ${a.reasons.join('; ')}` : ''
  return `• \`${a.order_id}\` customer \`${a.customer_id}\`${amount}, score *${a.fraud_score}*${reasons}`
}

export function slackText(message: OutboxMessage): string {
  const shown = message.alerts.slice(0, MAX_LINES)
  const more = message.more + message.alerts.length - shown.length
  const total = message.alerts.length + message.more
  const head = `:rotating_light: *${total} fraud alert${total === 1 ? '' : 's'}*`
  return [head, ...shown.map(line), ...(more > 0 ? [`+${more} more`] : [])].join('\n')
}

const CONDITION_TITLES: Record<HealthEvent['condition'], string> = {
  stuck: 'pipeline stuck',
  'kafka-lag': 'Kafka lag',
  'quarantine-share': 'quarantine share',
  'source-error': 'source error'
}

export function slackHealthText(e: HealthEvent): string {
  const title = CONDITION_TITLES[e.condition]
  if (e.state === 'resolved') return `:white_check_mark: *StreamDesk ${title} resolved* (${e.resolution ?? 'clear'}) — was: ${e.cause}`
  return `:warning: *StreamDesk ${title}* — ${e.cause}\nWhat to do: ${e.action}`
}

export class SlackSink implements AlertSink {
  constructor(
    readonly id: string,
    private readonly url: string
  ) {}

  async send(message: OutboxMessage): Promise<void> {
    await postJson(this.url, JSON.stringify({ text: slackText(message) }), { 'Idempotency-Key': message.key })
  }

  async sendHealth(event: HealthEvent, key: string): Promise<void> {
    await postJson(this.url, JSON.stringify({ text: slackHealthText(event) }), { 'Idempotency-Key': key })
  }

  async close(): Promise<void> {}
}
