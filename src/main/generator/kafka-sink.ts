import type { Producer } from 'kafkajs'
import { createProducer, type KafkaConnection } from '../sources/kafka-client'
import type { EventBatch, EventSink } from './sink'

// Produces each batch to Kafka: customers first (awaited), then orders. A message's value is
// exactly the JSON line the file sink writes (without the newline) and its key is the
// customer_id, so one customer's records stay in order within one partition. The producer waits
// for all in-sync replicas (acks=-1), is idempotent, and retries, so a broker hiccup delays a
// batch but neither loses nor (within one producer session) duplicates it.

export type KafkaCompression = 'none' | 'gzip'

export interface KafkaSinkOptions {
  connection: KafkaConnection
  ordersTopic: string
  customersTopic: string
  /** gzip: smaller on the wire and on the broker's disk; KafkaJS decompresses it natively. */
  compression?: KafkaCompression
  /** Idempotent producer (default true). */
  idempotent?: boolean
}

// KafkaJS CompressionTypes: None = 0, GZIP = 1
const COMPRESSION: Record<KafkaCompression, number> = { none: 0, gzip: 1 }

/** At most this many messages per produce request. */
const CHUNK = 5000

export class KafkaSink implements EventSink {
  private readonly producer: Producer
  private connected: Promise<void> | null = null
  private closed = false
  /** Messages acknowledged so far (orders and customers). */
  messages = 0

  constructor(private readonly options: KafkaSinkOptions) {
    this.producer = createProducer(options.connection, { idempotent: options.idempotent ?? true })
  }

  open(): Promise<void> {
    this.connected ??= this.producer.connect()
    return this.connected
  }

  async write(batch: EventBatch): Promise<void> {
    if (this.closed) throw new Error('KafkaSink is closed')
    await this.open()
    if (batch.customers.length > 0) await this.send(this.options.customersTopic, batch.customers)
    if (batch.orders.length > 0) await this.send(this.options.ordersTopic, batch.orders)
  }

  private async send(topic: string, records: readonly { customer_id: string }[]): Promise<void> {
    for (let i = 0; i < records.length; i += CHUNK) {
      const messages = records.slice(i, i + CHUNK).map((r) => ({ key: r.customer_id, value: JSON.stringify(r) }))
      await this.producer.send({
        topic,
        acks: -1,
        compression: COMPRESSION[this.options.compression ?? 'none'],
        messages
      })
      this.messages += messages.length
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.connected) await this.producer.disconnect().catch(() => undefined)
  }
}
