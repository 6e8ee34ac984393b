import type { Producer } from 'kafkajs'
import type { HealthEvent } from '../../shared/health'
import type { OutboxMessage } from '../lake/alert-outbox'
import { createProducer, type KafkaConnection } from '../sources/kafka-client'
import { describeFailure, SinkError, type AlertSink } from './sink'

// A Kafka topic: one record per listed alert, key = order_id (so a compacted topic or a
// consumer deduplicating by key sees each order once, and one order's records share a
// partition), value = the alert as JSON, and the message key in an `idempotency-key` header.
// The producer is not idempotent across sessions anyway; retries are the sender's (with its
// backoff), so KafkaJS gives up after one retry: a broker that is down shows as this sink's
// error within seconds, and a stopping pipeline does not wait minutes for KafkaJS's own retries.

export class KafkaAlertSink implements AlertSink {
  private readonly producer: Producer
  private connected: Promise<void> | null = null

  constructor(
    readonly id: string,
    connection: KafkaConnection,
    private readonly topic: string
  ) {
    this.producer = createProducer(connection, { idempotent: false, retries: 1 })
  }

  async send(message: OutboxMessage): Promise<void> {
    try {
      this.connected ??= this.producer.connect()
      await this.connected
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: message.alerts.map((a) => ({
          key: a.order_id,
          value: JSON.stringify(message.more > 0 ? { ...a, more: message.more } : a),
          headers: { 'idempotency-key': message.key }
        }))
      })
    } catch (err) {
      // a failed connect is tried again with the next attempt
      this.connected = null
      throw new SinkError(`Kafka: ${describeFailure(err)}`)
    }
  }

  /** One record keyed `health:<condition>` (a compacted topic keeps each condition's last state), value {"health": {...}}. */
  async sendHealth(event: HealthEvent, key: string): Promise<void> {
    try {
      this.connected ??= this.producer.connect()
      await this.connected
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: [{ key: `health:${event.condition}`, value: JSON.stringify({ health: event }), headers: { 'idempotency-key': key } }]
      })
    } catch (err) {
      this.connected = null
      throw new SinkError(`Kafka: ${describeFailure(err)}`)
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined)
  }
}
