import { CHANNELS, ORDER_STATUSES, SEGMENTS } from '../../shared/events'
import { isCountryCode, isCurrencyCode } from '../../shared/iso-codes'

// What a condition can ask about an order, and where each answer comes from in silver_orders.
// This table is the one mapping point between the language and the lake: `amount` is the
// reporting-currency amount (silver's reporting_amount) and nothing else refers to that column.
// Every number is a DOUBLE in SQL, so arithmetic never overflows a DECIMAL and comparisons of
// amounts in cents against thresholds are exact (integers below 2^53).

export type ValueType = 'number' | 'string' | 'boolean' | 'list'

export interface Attribute {
  name: string
  type: ValueType
  description: string
  /**
   * The value for one row `s` of silver_orders, of the attribute's SQL type (DOUBLE, VARCHAR,
   * BOOLEAN, VARCHAR[]). NULL means unknown, and a comparison with an unknown value is not met.
   */
  silver: string
  /** The case silver stores it in: a string literal in another case can never match. */
  letterCase?: 'lower' | 'upper'
  /** Every value silver can hold, when that is a fixed code list. */
  known?: { test: (value: string) => boolean; what: string }
}

/** orders_last_10m counts this many minutes, as the pipeline's velocity rule does by default. */
export const VELOCITY_WINDOW_MINUTES = 10
/** The column rule-inputs.ts adds to silver rows for orders_last_10m. */
export const VELOCITY_COLUMN = 'velocity_10m'

const oneOf = (values: readonly string[]) => ({ test: (v: string) => values.includes(v), what: `one of ${values.join(', ')}` })

const list: Attribute[] = [
  {
    name: 'amount',
    type: 'number',
    description: 'order total in the reporting currency (unknown for an order whose currency had no rate when a lake was migrated)',
    silver: 's.reporting_amount::DOUBLE'
  },
  { name: 'currency', type: 'string', description: 'the currency the order was placed in (ISO 4217, capitals)', silver: 's.currency', letterCase: 'upper', known: { test: isCurrencyCode, what: 'an ISO 4217 code such as EUR' } },
  { name: 'status', type: 'string', description: 'order status', silver: 's.status', letterCase: 'lower', known: oneOf(ORDER_STATUSES) },
  { name: 'channel', type: 'string', description: 'sales channel', silver: 's.channel', letterCase: 'lower', known: oneOf(CHANNELS) },
  { name: 'payment_method', type: 'string', description: 'payment method as sent (e.g. credit_card, gift_card)', silver: 's.payment_method' },
  { name: 'shipping_country', type: 'string', description: 'shipping country (ISO 3166 alpha-2, capitals)', silver: 's.shipping_country', letterCase: 'upper', known: { test: isCountryCode, what: 'an ISO 3166 alpha-2 code such as DE' } },
  { name: 'billing_country', type: 'string', description: 'billing country (ISO 3166 alpha-2, capitals)', silver: 's.billing_country', letterCase: 'upper', known: { test: isCountryCode, what: 'an ISO 3166 alpha-2 code such as DE' } },
  {
    name: 'customer_segment',
    type: 'string',
    description: "the customer's segment when the order was processed (unknown if the customer was not known yet)",
    silver: 's.customer_segment',
    letterCase: 'lower',
    known: oneOf(SEGMENTS)
  },
  { name: 'customer_id', type: 'string', description: 'customer id as sent (trimmed)', silver: 's.customer_id' },
  {
    name: 'account_age_hours',
    type: 'number',
    description: "hours from the customer's signup to the order (negative if the signup is later; unknown if the customer was not known yet)",
    // exact microseconds first: a difference of whole microseconds, divided once
    silver: '(epoch_us(s.order_ts) - epoch_us(s.customer_signup_ts))::DOUBLE / 3600000000'
  },
  {
    name: 'orders_last_10m',
    type: 'number',
    description:
      "the customer's orders with order_ts in the 10 minutes up to and including this order's, this one included, among orders processed no later than it",
    silver: `s.${VELOCITY_COLUMN}::DOUBLE`
  },
  { name: 'items_count', type: 'number', description: 'sum of item quantities', silver: 's.item_count::DOUBLE' },
  { name: 'categories', type: 'list', description: 'distinct item categories (lower case)', silver: 's.categories', letterCase: 'lower' },
  { name: 'order_hour', type: 'number', description: 'hour of order_ts in UTC, 0–23', silver: 's.order_hour::DOUBLE' },
  { name: 'order_weekday', type: 'number', description: 'ISO weekday of order_ts in UTC, 1 = Monday … 7 = Sunday', silver: 's.order_weekday::DOUBLE' },
  { name: 'is_cross_border', type: 'boolean', description: 'billing country differs from shipping country', silver: 's.is_cross_border' }
]

export const ATTRIBUTES: ReadonlyMap<string, Attribute> = new Map(list.map((a) => [a.name, a]))

export function attribute(name: string): Attribute | undefined {
  return ATTRIBUTES.get(name)
}

/** A known attribute name close to `name` (wrong case, a typo of one or two letters), for "did you mean". */
export function closestAttribute(name: string): string | null {
  const lower = name.toLowerCase()
  let best: { name: string; d: number } | null = null
  for (const a of ATTRIBUTES.keys()) {
    const d = a === lower ? 0 : editDistance(lower, a)
    if (d <= 2 && (!best || d < best.d)) best = { name: a, d }
  }
  return best?.name ?? null
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return row[b.length]
}
