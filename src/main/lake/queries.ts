import type { DuckDBConnection } from '@duckdb/node-api'
import { lakeReportingCurrency } from './reporting-currency'
import { bucketMinutes, RELATIVE_RANGES, type RelativeRange } from '../../shared/history'
import type {
  AlertPage,
  AlertRow,
  BatchEvent,
  BatchRow,
  CountRow,
  CurrencyRow,
  DashboardSnapshot,
  HistoryView,
  Kpis,
  OrderPage,
  OrderRow,
  QuarantineRow,
  WindowRow
} from '../../shared/dto'

// Dashboard reads. They run on the lake's reader connection, so they only ever see committed
// batches, and every aggregate is computed by DuckDB; JavaScript only reshapes rows to DTOs.

type Row = Record<string, unknown>

async function rows(conn: DuckDBConnection, sql: string, params: string[] = []): Promise<Row[]> {
  const r = params.length ? await conn.runAndReadAll(sql, params) : await conn.runAndReadAll(sql)
  return r.getRowObjectsJson() as Row[]
}

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))
const ts = (col: string) => `strftime(${col} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`

const minuteOf = (col: string) => `time_bucket(INTERVAL 1 MINUTE, ${col}, TIMESTAMPTZ '2000-01-01 00:00:00+00')`
/** The orders every Metrics figure counts (docs/LAKE.md, *Dashboard figures*). */
const COUNTED = `NOT is_late AND status NOT IN ('cancelled', 'refunded')`

/**
 * The minutes the KPI cards cover: the last `minutes` before the minute in progress, or the
 * minutes of [from, to) (a history range; times the engine formatted, never user text).
 */
export type KpiPeriod = number | { from: string; to: string }

/**
 * The KPI cards over the complete minutes of event time in `period`. The minute holding the
 * newest order is still filling, so it is left out; so are minutes that began before the lake's
 * first on-time order, which the lake only saw part of. Every card counts the same orders.
 */
export async function kpis(conn: DuckDBConnection, period: KpiPeriod): Promise<Kpis> {
  const live = typeof period === 'number'
  const minutes = live ? period : Math.round((Date.parse(period.to) - Date.parse(period.from)) / 60_000)
  // A range's own bounds, cut to whole minutes inside it.
  const periodEnd = live ? minuteOf('latest') : `least(${minuteOf('latest')}, ${minuteOf(`TIMESTAMPTZ '${period.to}'`)})`
  const rangeStart = live ? `period_end - INTERVAL ${minutes} MINUTE` : `${minuteOf(`TIMESTAMPTZ '${period.from}' + INTERVAL 59999 MILLISECOND`)}`
  const [p] = await rows(
    conn,
    `WITH bounds AS (
       SELECT max(order_ts) AS latest, min(order_ts) FILTER (WHERE NOT is_late) AS first FROM silver_orders
     ), period AS (
       SELECT latest, ${periodEnd} AS period_end,
         -- the first minute the lake saw whole starts at the first order, or at the next minute
         CASE WHEN ${minuteOf('first')} = first THEN first ELSE ${minuteOf('first')} + INTERVAL 1 MINUTE END AS observed_from
       FROM bounds
     ), clipped AS (
       SELECT *, greatest(${rangeStart}, observed_from) AS period_start FROM period
     )
     SELECT ${ts('latest')} AS as_of, ${ts('period_start')} AS period_start, ${ts('period_end')} AS period_end,
       ${ts('(observed_from + INTERVAL 1 MINUTE)')} AS first_complete_at,
       greatest((epoch(period_end) - epoch(period_start)) // 60, 0)::BIGINT AS complete_minutes
     FROM clipped`
  )
  const completeMinutes = n(p.complete_minutes)
  const asOf = p.as_of ? String(p.as_of) : null
  const none = { orders: 0, revenue_cents: 0, customers: 0 }
  // Literal bounds, so DuckDB skips row groups outside the period by their min/max.
  const [r] = completeMinutes
    ? await rows(
        conn,
        `SELECT count(*) AS orders, coalesce(sum(reporting_cents), 0) AS revenue_cents, count(DISTINCT customer_id) AS customers
         FROM silver_orders WHERE ${COUNTED}
           AND order_ts >= TIMESTAMPTZ '${String(p.period_start)}' AND order_ts < TIMESTAMPTZ '${String(p.period_end)}'`
      )
    : [none]
  const orders = n(r.orders)
  const revenue = n(r.revenue_cents) / 100
  return {
    minutes,
    completeMinutes,
    periodStart: completeMinutes ? String(p.period_start) : null,
    periodEnd: completeMinutes ? String(p.period_end) : null,
    // a past range without complete minutes will never get one
    firstCompleteAt: live && !completeMinutes && asOf ? String(p.first_complete_at) : null,
    orders,
    ordersPerMinute: completeMinutes ? orders / completeMinutes : 0,
    revenue,
    avgOrderValue: orders ? revenue / orders : 0,
    uniqueCustomers: n(r.customers),
    asOf
  }
}

export async function windows(conn: DuckDBConnection, limit: number): Promise<WindowRow[]> {
  const out = await rows(
    conn,
    `SELECT * FROM (SELECT ${ts('window_start')} AS ws, ${ts('window_end')} AS we, orders, revenue_orders, revenue::DOUBLE AS revenue,
       coalesce(avg_order_value, 0)::DOUBLE AS aov, unique_customers,
       coalesce(window_end > (SELECT max(order_ts) FROM silver_orders), false) AS partial
     FROM order_windows ORDER BY window_start DESC LIMIT ${limit}) ORDER BY ws`
  )
  return out.map((r) => ({
    windowStart: String(r.ws),
    windowEnd: String(r.we),
    orders: n(r.orders),
    revenueOrders: n(r.revenue_orders),
    revenue: n(r.revenue),
    avgOrderValue: n(r.aov),
    uniqueCustomers: n(r.unique_customers),
    partial: r.partial === true
  }))
}

/** An order's money: as sent, and in the reporting currency (OrderMoney in dto.ts). */
const moneyColumns = `total_amount::DOUBLE AS amount, currency, reporting_amount::DOUBLE AS reporting_amount, reporting_currency, fx_rate`
const nullable = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
const money = (r: Row) => ({
  amount: n(r.amount),
  currency: String(r.currency),
  reportingAmount: nullable(r.reporting_amount),
  reportingCurrency: r.reporting_currency === null || r.reporting_currency === undefined ? null : String(r.reporting_currency),
  fxRate: nullable(r.fx_rate)
})

const alertSelect = `SELECT order_id, customer_id, ${ts('order_ts')} AS order_ts, ${moneyColumns}, status,
  fraud_score, fraud_reasons, shipping_country, billing_country, ${ts('detected_at')} AS detected_at, ruleset_version FROM fraud_alerts`

function toAlert(r: Row): AlertRow {
  return {
    orderId: String(r.order_id),
    customerId: String(r.customer_id),
    orderTs: String(r.order_ts),
    ...money(r),
    status: String(r.status),
    fraudScore: n(r.fraud_score),
    fraudReasons: Array.isArray(r.fraud_reasons) ? r.fraud_reasons.map(String) : [],
    shippingCountry: String(r.shipping_country),
    billingCountry: String(r.billing_country),
    detectedAt: String(r.detected_at),
    rulesetVersion: r.ruleset_version === null || r.ruleset_version === undefined ? null : n(r.ruleset_version)
  }
}

export async function alerts(conn: DuckDBConnection, limit: number): Promise<AlertRow[]> {
  return (await rows(conn, `${alertSelect} ORDER BY detected_at DESC, order_ts DESC LIMIT ${limit}`)).map(toAlert)
}

/**
 * One page of every alert, newest first (order id breaks ties, so pages never overlap or skip);
 * `search` keeps alerts whose order id or customer id contains it, ignoring case.
 */
export async function alertPage(
  conn: DuckDBConnection,
  { limit, offset, search }: { limit: number; offset: number; search: string }
): Promise<AlertPage> {
  const where = search ? `WHERE contains(lower(order_id), lower($1)) OR contains(lower(customer_id), lower($1))` : ''
  const params = search ? [search] : []
  const [t] = await rows(conn, `SELECT count(*) AS total, (SELECT count(*) FROM fraud_alerts) AS all_alerts FROM fraud_alerts ${where}`, params)
  const out = await rows(
    conn,
    `${alertSelect} ${where} ORDER BY detected_at DESC, order_ts DESC, order_id LIMIT ${limit} OFFSET ${offset}`,
    params
  )
  return { rows: out.map(toAlert), total: n(t.total), all: n(t.all_alerts) }
}

export async function alertsOfBatch(conn: DuckDBConnection, batchId: number, limit = 50): Promise<AlertRow[]> {
  return (
    await rows(conn, `${alertSelect} WHERE batch_id = ${batchId} ORDER BY fraud_score DESC, order_ts, order_id LIMIT ${limit}`)
  ).map(toAlert)
}

/** Lines of a batch's orders stream that went to quarantine (the rest of its quarantine is customers). */
export async function quarantinedOrders(conn: DuckDBConnection, batchId: number): Promise<number> {
  const [r] = await rows(conn, `SELECT count(*) AS c FROM quarantine WHERE batch_id = ${batchId} AND kind = 'order'`)
  return n(r.c)
}

/** The latest orders, newest batch first (order_id breaks ties, so every query picks the same ones). */
const recentSql = (limit: number) => `SELECT * FROM silver_orders ORDER BY batch_id DESC, order_ts DESC, order_id LIMIT ${limit}`

const orderColumns = `order_id, customer_id, ${ts('order_ts')} AS order_ts, status, ${moneyColumns}, item_count, channel, fraud_score, is_late`

function toOrder(r: Row): OrderRow {
  return {
    orderId: String(r.order_id),
    customerId: String(r.customer_id),
    orderTs: String(r.order_ts),
    status: String(r.status),
    ...money(r),
    itemCount: n(r.item_count),
    channel: String(r.channel),
    fraudScore: n(r.fraud_score),
    isLate: Boolean(r.is_late)
  }
}

export async function recentOrders(conn: DuckDBConnection, limit: number): Promise<OrderRow[]> {
  const out = await rows(conn, `SELECT ${orderColumns} FROM (${recentSql(limit)}) ORDER BY batch_id DESC, order_ts DESC, order_id`)
  return out.map(toOrder)
}

export interface OrderFilters {
  /** The exact order id; '' for any. */
  orderId: string
  /** Part of the customer id, ignoring case; '' for any. */
  customer: string
  status: string
  currency: string
  minScore: number | null
  late: 'any' | 'late' | 'on-time'
}

/**
 * A page of the whole lake's orders matching `filters`, in the Recent orders list's order (so the
 * unfiltered first page is that list). Every value the user typed is a bound parameter.
 */
export async function orderSearch(
  conn: DuckDBConnection,
  { limit, offset, ...filters }: OrderFilters & { limit: number; offset: number }
): Promise<OrderPage> {
  const where: string[] = []
  const params: Record<string, string | number> = {}
  if (filters.orderId) {
    where.push('order_id = $orderId')
    params.orderId = filters.orderId
  }
  if (filters.customer) {
    where.push('contains(lower(customer_id), lower($customer))')
    params.customer = filters.customer
  }
  if (filters.status) {
    where.push('status = $status')
    params.status = filters.status
  }
  if (filters.currency) {
    where.push('currency = $currency')
    params.currency = filters.currency
  }
  if (filters.minScore !== null) {
    where.push('fraud_score >= $minScore')
    params.minScore = filters.minScore
  }
  if (filters.late !== 'any') where.push(filters.late === 'late' ? 'is_late' : 'NOT is_late')
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : ''
  const [t] = await named(conn, `SELECT count(*) AS total FROM silver_orders ${filter}`, params)
  const out = await named(
    conn,
    `SELECT ${orderColumns} FROM silver_orders ${filter} ORDER BY batch_id DESC, order_ts DESC, order_id LIMIT ${limit} OFFSET ${offset}`,
    params
  )
  return { rows: out.map(toOrder), total: n(t.total) }
}

/** A statement with named parameters, bound with their JavaScript types (a score is a number). */
async function named(conn: DuckDBConnection, sql: string, params: Record<string, string | number>): Promise<Row[]> {
  const r = Object.keys(params).length ? await conn.runAndReadAll(sql, params) : await conn.runAndReadAll(sql)
  return r.getRowObjectsJson() as Row[]
}

/**
 * The latest `limit` orders' revenue (excluding cancelled and refunded, in the reporting
 * currency) in total and per currency they came in: the total row has currency NULL.
 */
export async function recentRevenue(
  conn: DuckDBConnection,
  limit: number
): Promise<{ summary: DashboardSnapshot['summary']; currencies: CurrencyRow[] }> {
  const kept = `status NOT IN ('cancelled', 'refunded')`
  const out = await rows(
    conn,
    `SELECT currency, count(*) AS orders, count(*) FILTER (WHERE ${kept}) AS revenue_orders,
       coalesce(sum(total_amount) FILTER (WHERE ${kept}), 0)::DOUBLE AS amount,
       coalesce(sum(reporting_amount) FILTER (WHERE ${kept}), 0)::DOUBLE AS reporting_amount,
       min(fx_rate) AS min_rate, max(fx_rate) AS max_rate
     FROM (${recentSql(limit)}) GROUP BY GROUPING SETS ((currency), ())
     ORDER BY currency IS NULL, reporting_amount DESC, currency`
  )
  const total = out.find((r) => r.currency === null)
  const revenueOrders = n(total?.revenue_orders)
  const revenue = n(total?.reporting_amount)
  return {
    summary: { orders: n(total?.orders), revenue, avgOrderValue: revenueOrders ? revenue / revenueOrders : 0 },
    currencies: out
      .filter((r) => r.currency !== null)
      .map((r) => ({
        currency: String(r.currency),
        orders: n(r.orders),
        revenueOrders: n(r.revenue_orders),
        amount: n(r.amount),
        reportingAmount: n(r.reporting_amount),
        minRate: nullable(r.min_rate),
        maxRate: nullable(r.max_rate)
      }))
  }
}

export type HistoryRequest = { range: RelativeRange } | { range: 'custom'; from: string; to: string }

/** Where windows and buckets are aligned (as in batch-transform.ts). */
const ORIGIN_MS = Date.UTC(2000, 0, 1)
const bucketFloor = (t: number, widthMs: number) => ORIGIN_MS + Math.floor((t - ORIGIN_MS) / widthMs) * widthMs
const bucketCeil = (t: number, widthMs: number) => ORIGIN_MS + Math.ceil((t - ORIGIN_MS) / widthMs) * widthMs
const iso = (t: number) => new Date(t).toISOString()

/**
 * The Metrics and Fraud figures over a range of the lake's history (docs/LAKE.md, *History*). A
 * relative range ends with the bucket holding the newest order; a custom one is widened to
 * whole buckets. Revenue and orders are the range's windows summed per bucket; unique customers
 * are counted per bucket from silver, as a window counts them (distinct customers are not a sum).
 */
export async function history(conn: DuckDBConnection, req: HistoryRequest): Promise<HistoryView> {
  const [meta] = await rows(
    conn,
    `SELECT (SELECT epoch_ms(max(order_ts)) FROM silver_orders) AS latest,
       (SELECT value FROM lake_meta WHERE key = 'window_minutes') AS window_minutes`
  )
  const windowMinutes = Number(meta.window_minutes ?? 1) || 1
  const rangeMinutes = req.range === 'custom' ? (Date.parse(req.to) - Date.parse(req.from)) / 60_000 : RELATIVE_RANGES[req.range]
  const width = bucketMinutes(rangeMinutes, windowMinutes)
  const widthMs = width * 60_000
  const empty = { bucketMinutes: width, windowMinutes, buckets: [], fraudHistogram: [], alertBuckets: [] }
  if (meta.latest === null || meta.latest === undefined) {
    return { ...empty, from: null, to: null, kpis: await kpis(conn, req.range === 'custom' ? req : rangeMinutes) }
  }
  const latest = Number(meta.latest)
  const to = req.range === 'custom' ? bucketCeil(Date.parse(req.to), widthMs) : bucketFloor(latest, widthMs) + widthMs
  const from = req.range === 'custom' ? bucketFloor(Date.parse(req.from), widthMs) : to - rangeMinutes * 60_000
  // Bounds are the engine's own ISO times, written as literals so DuckDB skips row groups by min/max.
  const between = (col: string) => `${col} >= TIMESTAMPTZ '${iso(from)}' AND ${col} < TIMESTAMPTZ '${iso(to)}'`
  const bucket = (col: string) => `time_bucket(INTERVAL ${width} MINUTE, ${col}, TIMESTAMPTZ '2000-01-01 00:00:00+00')`
  const buckets = await rows(
    conn,
    `WITH w AS (
       SELECT ${bucket('window_start')} AS b, sum(orders) AS orders, sum(revenue_orders) AS revenue_orders, sum(revenue) AS revenue
       FROM order_windows WHERE ${between('window_start')} GROUP BY b
     ), c AS (
       SELECT ${bucket('order_ts')} AS b, count(DISTINCT customer_id) AS customers
       FROM silver_orders WHERE NOT is_late AND ${between('order_ts')} GROUP BY b
     )
     SELECT ${ts('b')} AS ws, ${ts(`(b + INTERVAL ${width} MINUTE)`)} AS we, orders, revenue_orders, revenue::DOUBLE AS revenue,
       coalesce(revenue / nullif(revenue_orders, 0), 0)::DOUBLE AS aov, coalesce(customers, 0) AS customers,
       epoch_ms(b + INTERVAL ${width} MINUTE) > ${latest} AS partial
     FROM w LEFT JOIN c USING (b) ORDER BY b`
  )
  const histogram = await rows(
    conn,
    `SELECT fraud_score AS key, count(*) AS c FROM silver_orders WHERE ${between('order_ts')} GROUP BY fraud_score ORDER BY fraud_score`
  )
  const alerts = await rows(
    conn,
    `SELECT ${ts(bucket('order_ts'))} AS b, count(*) AS c FROM fraud_alerts WHERE ${between('order_ts')} GROUP BY ALL ORDER BY b`
  )
  return {
    ...empty,
    from: iso(from),
    to: iso(to),
    buckets: buckets.map((r) => ({
      windowStart: String(r.ws),
      windowEnd: String(r.we),
      orders: n(r.orders),
      revenueOrders: n(r.revenue_orders),
      revenue: n(r.revenue),
      avgOrderValue: n(r.aov),
      uniqueCustomers: n(r.customers),
      partial: r.partial === true
    })),
    kpis: await kpis(conn, req.range === 'custom' ? { from: iso(from), to: iso(to) } : rangeMinutes),
    fraudHistogram: histogram.map((r) => ({ key: String(r.key), count: n(r.c) })),
    alertBuckets: alerts.map((r) => ({ bucketStart: String(r.b), alerts: n(r.c) }))
  }
}

export async function statusDistribution(conn: DuckDBConnection): Promise<CountRow[]> {
  const out = await rows(conn, `SELECT status AS key, count(*) AS c FROM silver_orders GROUP BY status ORDER BY c DESC`)
  return out.map((r) => ({ key: String(r.key), count: n(r.c) }))
}

export async function fraudHistogram(conn: DuckDBConnection): Promise<CountRow[]> {
  const out = await rows(
    conn,
    `SELECT fraud_score AS key, count(*) AS c FROM silver_orders GROUP BY fraud_score ORDER BY fraud_score`
  )
  return out.map((r) => ({ key: String(r.key), count: n(r.c) }))
}

/** `batches.events` as DTO fields: only present when the batch recorded any. */
function batchEvents(text: unknown): { events?: BatchEvent[] } {
  if (typeof text !== 'string' || text === '[]') return {}
  try {
    const events = JSON.parse(text) as BatchEvent[]
    return Array.isArray(events) && events.length ? { events } : {}
  } catch {
    return {}
  }
}

export async function batches(conn: DuckDBConnection, limit: number): Promise<BatchRow[]> {
  const out = await rows(
    conn,
    `SELECT * FROM (SELECT batch_id, ${ts('started_at')} AS s, ${ts('committed_at')} AS c, duration_ms, rows_read, valid,
       quarantined, late, duplicates, alerts, input_rate, processing_rate, ${ts('watermark')} AS wm, events::VARCHAR AS ev, kind
     FROM batches ORDER BY batch_id DESC LIMIT ${limit}) ORDER BY batch_id`
  )
  return out.map((r) => ({
    ...batchEvents(r.ev),
    ...(r.kind === 'replay' || r.kind === 'revalidate' || r.kind === 'rewind' ? { kind: r.kind } : {}),
    batchId: n(r.batch_id),
    startedAt: String(r.s),
    committedAt: String(r.c),
    durationMs: n(r.duration_ms),
    rowsRead: n(r.rows_read),
    valid: n(r.valid),
    quarantined: n(r.quarantined),
    late: n(r.late),
    duplicates: n(r.duplicates),
    alerts: n(r.alerts),
    inputRate: n(r.input_rate),
    processingRate: n(r.processing_rate),
    watermark: r.wm ? String(r.wm) : null
  }))
}

export async function quarantine(
  conn: DuckDBConnection,
  limit: number,
  offset: number
): Promise<{ rows: QuarantineRow[]; total: number }> {
  const [t] = await rows(conn, `SELECT count(*) AS c FROM quarantine`)
  const out = await rows(
    conn,
    `SELECT id, batch_id, kind, source, byte_offset, kafka_partition, kafka_offset, reason, left(raw, 4096) AS raw,
       ${ts('ingested_at')} AS at, resolved_batch_id FROM quarantine ORDER BY id DESC LIMIT ${limit} OFFSET ${offset}`
  )
  return {
    total: n(t.c),
    rows: out.map((r) => ({
      id: n(r.id),
      batchId: n(r.batch_id),
      kind: r.kind === 'customer' ? 'customer' : 'order',
      source: String(r.source),
      position:
        r.kafka_partition !== null && r.kafka_partition !== undefined
          ? `partition ${r.kafka_partition} offset ${r.kafka_offset}`
          : `byte ${r.byte_offset}`,
      reason: String(r.reason),
      raw: r.raw === null ? '' : String(r.raw),
      ingestedAt: String(r.at),
      resolvedBatchId: r.resolved_batch_id === null || r.resolved_batch_id === undefined ? null : n(r.resolved_batch_id)
    }))
  }
}

export interface Totals {
  orders: number
  alerts: number
  quarantined: number
  late: number
  duplicates: number
  lastBatchId: number | null
  lastBatchAt: string | null
}

/** Counts of ingest and re-validation: a replay re-derives lines those batches already counted. */
export async function totals(conn: DuckDBConnection): Promise<Totals> {
  const [r] = await rows(
    conn,
    `SELECT coalesce(sum(valid) FILTER (WHERE kind <> 'replay'), 0) AS orders, coalesce(sum(alerts) FILTER (WHERE kind <> 'replay'), 0) AS alerts,
       coalesce(sum(quarantined) FILTER (WHERE kind <> 'replay'), 0) AS q, coalesce(sum(late) FILTER (WHERE kind <> 'replay'), 0) AS late,
       coalesce(sum(duplicates) FILTER (WHERE kind <> 'replay'), 0) AS dup, max(batch_id) AS last,
       ${ts('max(committed_at)')} AS at FROM batches`
  )
  return {
    orders: n(r.orders),
    alerts: n(r.alerts),
    quarantined: n(r.q),
    late: n(r.late),
    duplicates: n(r.dup),
    lastBatchId: r.last === null ? null : n(r.last),
    lastBatchAt: r.at ? String(r.at) : null
  }
}

export async function dashboard(conn: DuckDBConnection, kpiMinutes: number): Promise<DashboardSnapshot> {
  // One reader connection runs one query at a time anyway; sequential keeps it simple.
  const k = await kpis(conn, kpiMinutes)
  const w = await windows(conn, 60)
  const a = await alerts(conn, 100)
  const o = await recentOrders(conn, 100)
  const s = await statusDistribution(conn)
  const h = await fraudHistogram(conn)
  const b = await batches(conn, 100)
  const { summary, currencies } = await recentRevenue(conn, 100)
  return {
    at: new Date().toISOString(),
    currency: await lakeReportingCurrency(conn),
    kpis: k,
    windows: w,
    alerts: a,
    recentOrders: o,
    statusDistribution: s,
    fraudHistogram: h,
    batches: b,
    summary,
    currencies
  }
}
