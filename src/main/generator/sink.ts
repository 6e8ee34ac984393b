import type { CustomerEvent, OrderEvent } from '../../shared/events'
import type { KafkaConnection } from '../sources/kafka-client'
import type { KafkaCompression } from './kafka-sink'

// Where generated events go. The file sink writes NDJSON files; the Kafka sink produces
// messages. Both must deliver a batch's customers BEFORE its orders, so a customer
// record is never behind that customer's first order.

export interface EventBatch {
  orders: OrderEvent[]
  customers: CustomerEvent[]
}

export interface EventSink {
  /** Delivers one batch (customers first). Resolves once the batch is durable/visible. */
  write(batch: EventBatch): Promise<void>
  close(): Promise<void>
}

/** How to open a sink; a serializable description so it can cross into a worker thread. */
export type SinkSpec =
  | { kind: 'file'; dir: string }
  | {
      kind: 'kafka'
      connection: KafkaConnection
      ordersTopic: string
      customersTopic: string
      compression?: KafkaCompression
    }

export function emptyBatch(): EventBatch {
  return { orders: [], customers: [] }
}
