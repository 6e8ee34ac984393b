import { resolve } from 'node:path'
import type { AlertSinkSettings } from '../../shared/settings'
import { kafkaSecurityFromEnv } from '../sources/kafka-client'
import { FileSink } from './file-sink'
import { KafkaAlertSink } from './kafka-sink'
import { sinkId, type AlertSink } from './sink'
import { SlackSink } from './slack-sink'
import { WebhookSink } from './webhook-sink'

/** The sink a settings entry describes; opening connects nothing yet (the first send does). */
export function openSink(s: AlertSinkSettings, resolvePath: (p: string) => string = (p) => resolve(p)): AlertSink {
  const id = sinkId(s)
  switch (s.kind) {
    case 'webhook':
      return new WebhookSink(id, s.url, s.secret)
    case 'slack':
      return new SlackSink(id, s.url)
    case 'kafka':
      // TLS and SASL as the Kafka source gets them (STREAMDESK_KAFKA_* variables)
      return new KafkaAlertSink(id, { servers: s.servers, ...kafkaSecurityFromEnv(process.env) }, s.topic)
    case 'file':
      return new FileSink(id, resolvePath(s.path))
  }
}
