import { ATTRIBUTES, VELOCITY_COLUMN, VELOCITY_WINDOW_MINUTES } from './attributes'
import type { SqlParams } from './sql-params'

// The relation rules read, built from silver_orders for a time range: one row per order with
// order_id, order_ts, silver_score and silver_version (the score silver holds and the ruleset
// version that gave it) and one column per attribute.
//
// orders_last_10m is set-based, as the pipeline computes velocity: for each order, the
// customer's orders with order_ts in [ts − 10 min, ts] that were processed no later than it —
// a framed rank over the customer's orders by time, ranked by processing order (DuckDB answers
// it from a merge-sort tree, O(n log n) whatever one customer's share). Processing order is
// (batch_id, then the order in which the batch read its lines). Silver keeps the batch, the
// source and the position in it; it does not keep the order of a batch's files, which the
// pipeline takes from their modification times, so within a batch this reads files in name
// order — the generator's names sort in the order it writes them. Orders before the range
// count towards velocity without being scanned.

export const VELOCITY_WINDOW_US = VELOCITY_WINDOW_MINUTES * 60_000_000

/** A time range of order_ts: from inclusive, to exclusive; ISO times with an offset. */
export interface TimeRange {
  from?: string
  to?: string
}

export class TimeRangeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TimeRangeError'
  }
}

/** An ISO time (UTC) for a Date or a string JavaScript reads as one. */
export function normalizeTime(label: string, t: string | Date): string {
  const ms = t instanceof Date ? t.getTime() : Date.parse(t)
  if (!Number.isFinite(ms)) throw new TimeRangeError(`${label} is not a time: ${JSON.stringify(String(t))} (write e.g. 2026-11-24T10:00:00Z)`)
  return new Date(ms).toISOString()
}

/** Processing order of a silver row: batch, file or topic, Kafka partition, byte or offset. */
const PROCESSING_ORDER = `batch_id, source,
      coalesce(try_cast(regexp_extract(source_position, '^partition (\\d+)', 1) AS BIGINT), -1),
      try_cast(regexp_extract(source_position, '(\\d+)$', 1) AS BIGINT)`

/** SELECT of the rule inputs for the orders in `range`, with the attributes named (all if omitted). */
export function silverInputsSql(params: SqlParams, range: TimeRange, attributes?: ReadonlySet<string>): string {
  const wanted = [...(attributes ?? ATTRIBUTES.keys())].map((n) => {
    const a = ATTRIBUTES.get(n)
    if (!a) throw new Error(`unknown attribute ${n}`)
    return a
  })
  const from = range.from ? params.timestamp(range.from) : null
  const to = range.to ? params.timestamp(range.to) : null
  const window = `to_microseconds(${VELOCITY_WINDOW_US})`
  const columns = ['s.order_id', 's.order_ts', 's.fraud_score AS silver_score', 's.ruleset_version AS silver_version', ...wanted.map((a) => `${a.silver} AS "${a.name}"`)].join(',\n    ')
  const inRange = [from && `s.order_ts >= ${from}`, to && `s.order_ts < ${to}`].filter(Boolean).join(' AND ') || 'true'
  if (!wanted.some((a) => a.name === 'orders_last_10m')) {
    return `SELECT ${columns}\n  FROM silver_orders s WHERE ${inRange}`
  }
  const reach = [from && `order_ts >= ${from} - ${window}`, to && `order_ts < ${to}`].filter(Boolean).join(' AND ') || 'true'
  return `SELECT ${columns}
  FROM (
    SELECT *, rank(ORDER BY ${PROCESSING_ORDER}) OVER (
        PARTITION BY customer_id ORDER BY order_ts RANGE BETWEEN ${window} PRECEDING AND CURRENT ROW) AS ${VELOCITY_COLUMN}
    FROM silver_orders WHERE ${reach}) s
  WHERE ${inRange}`
}

