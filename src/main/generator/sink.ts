import type { CustomerEvent, OrderEvent } from '../../shared/events'

// Where generated events go. The file sink writes NDJSON files; a Kafka sink (later) will
// produce messages. Both must deliver a batch's customers BEFORE its orders, so a customer
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
export type SinkSpec = { kind: 'file'; dir: string }
// A Kafka sink adds e.g. `| { kind: 'kafka'; servers: string[]; ordersTopic: string; customersTopic: string }`
// here and a case in openSink (open-sink.ts).

export function emptyBatch(): EventBatch {
  return { orders: [], customers: [] }
}
