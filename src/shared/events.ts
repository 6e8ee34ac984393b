// The input contract (docs/EVENTS.md): one JSON object per line in <input>/orders and
// <input>/customers, or one Kafka message value each.

export const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'completed', 'cancelled', 'refunded'] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]

export const CHANNELS = ['web', 'mobile', 'marketplace'] as const
export type Channel = (typeof CHANNELS)[number]

export const SEGMENTS = ['new', 'regular', 'vip'] as const
export type Segment = (typeof SEGMENTS)[number]

export interface OrderItem {
  product_id: string
  product_name: string
  category: string
  quantity: number
  unit_price: number
}

export interface OrderEvent {
  order_id: string
  customer_id: string
  /** ISO-8601 with offset. */
  order_ts: string
  status: OrderStatus
  currency: string
  total_amount: number
  items: OrderItem[]
  payment_method: string
  shipping_country: string
  billing_country: string
  channel: Channel
}

export interface CustomerEvent {
  customer_id: string
  name: string
  email: string
  signup_ts: string
  country: string
  segment: Segment
}

/** Largest accepted input line; longer lines are quarantined. */
export const MAX_LINE_BYTES = 1024 * 1024
