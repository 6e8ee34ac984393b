import { resolve } from 'node:path'
import type { AlertSinkSettings } from '../../shared/settings'
import { revealClearOnly, type Reveal } from '../../shared/secrets'
import { kafkaConnectionFor } from '../sources/kafka-security'
import { FileSink } from './file-sink'
import { KafkaAlertSink } from './kafka-sink'
import { sinkId, type AlertSink } from './sink'
import { SlackSink } from './slack-sink'
import { WebhookSink } from './webhook-sink'

/** A sink's settings with its secret fields looked up (a Slack URL, a webhook's secret). */
export type RevealedSink = Exclude<AlertSinkSettings, { kind: 'slack' }> | (Extract<AlertSinkSettings, { kind: 'slack' }> & { url: string })

/** `s` with the secrets it names looked up; `field` ("alerts.sinks.0") names it in errors. */
export async function revealSink(s: AlertSinkSettings, field: string, reveal: Reveal): Promise<RevealedSink> {
  if (s.kind === 'slack') return { ...s, url: await reveal(s.url, 'slack-url', `${field}.url`) }
  if (s.kind === 'webhook' && s.secret !== undefined) return { ...s, secret: await reveal(s.secret, 'webhook-secret', `${field}.secret`) }
  return s
}

export interface OpenSinkOptions {
  resolvePath?: (p: string) => string
  reveal?: Reveal
}

/** The sink a settings entry describes; opening connects nothing yet (the first send does). */
export async function openSink(s: RevealedSink, field: string, opts: OpenSinkOptions = {}): Promise<AlertSink> {
  const resolvePath = opts.resolvePath ?? ((p: string) => resolve(p))
  const id = sinkId(s)
  switch (s.kind) {
    case 'webhook':
      return new WebhookSink(id, s.url, typeof s.secret === 'string' ? s.secret : undefined)
    case 'slack':
      return new SlackSink(id, s.url)
    case 'kafka': {
      // its own TLS and SASL, else the STREAMDESK_KAFKA_* variables
      const connection = await kafkaConnectionFor(s.servers, { tls: s.tls, sasl: s.sasl }, field, opts.reveal ?? revealClearOnly, resolvePath)
      return new KafkaAlertSink(id, connection, s.topic)
    }
    case 'file':
      return new FileSink(id, resolvePath(s.path))
  }
}
