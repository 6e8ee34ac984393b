import { appendFileSync, statSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineHost } from '../../src/main/api/host'
import type { HistoryView, OrderPage, OrderRow, SourceOffsetRow } from '../../src/shared/dto'
import { HOUR, MIN, cleanupTempDirs, makeWorkspace, order, query, runPipeline, ts, writeLines, type Row, type Workspace } from '../support/lake-fixtures'
import { hostOverLake, serveHttpApi, type HttpApi } from '../support/engine-host'

// The history views (query.history), the Recent orders search (query.orderSearch) and the
// checkpoint inspector (query.sourceOffsets), fetched the way the UI fetches them and checked
// against plain SQL over the lake, written from the definitions in docs/LAKE.md (*History*).
//
// Eight days of orders, the newest at 2024-03-01 12:00:30 UTC, then a second batch with late
// orders (older than the 10-minute watermark): in silver, in no window and no Metrics figure.

afterAll(cleanupTempDirs)

const NEWEST = 30_000
const statuses = ['paid', 'shipped', 'completed', 'placed', 'cancelled', 'refunded', 'paid']
const currencies = ['USD', 'EUR', 'GBP', 'USD']
/** Spread over eight days, denser in the last hour so the short ranges have something to bucket. */
const spread = Array.from({ length: 420 }, (_, i) => {
  const back = i < 120 ? i * 29_000 + 7_000 : (i - 120) * 38 * MIN + (i % 11) * 1_000
  return order({
    order_id: `h-${String(i).padStart(3, '0')}`,
    customer_id: `Cust-${i % 23}`,
    order_ts: ts(NEWEST - back - 1_000),
    status: statuses[i % statuses.length],
    currency: currencies[i % currencies.length],
    // every 41st is big enough to raise an alert
    total_amount: i % 41 === 0 ? 5_200 : 10 + ((i * 7) % 90) + 0.25
  })
})
const newest = order({ order_id: 'h-newest', customer_id: 'Cust-1', order_ts: ts(NEWEST), total_amount: 42 })
const late = [
  order({ order_id: 'late-1', customer_id: 'Cust-late', order_ts: ts(-2 * HOUR), total_amount: 5_300 }),
  order({ order_id: 'late-2', customer_id: 'Cust-late', order_ts: ts(-3 * 24 * HOUR), total_amount: 77, status: 'shipped' })
]

/** Widths the ranges must get with 1-minute windows (docs/LAKE.md, *History*). */
const WIDTHS = { '15m': 1, '1h': 1, '24h': 15, '7d': 120 } as const
const RANGE_MINUTES = { '15m': 15, '1h': 60, '24h': 1440, '7d': 10_080 } as const
type Range = keyof typeof WIDTHS
const ranges = Object.keys(WIDTHS) as Range[]
const CUSTOM = { from: ts(-50 * HOUR - 7 * MIN - 3_000), to: ts(-20 * HOUR + 11 * MIN) }
/** 30 h 18 min in at most 120 buckets: 15.15 minutes each, so 30; the range is widened to whole buckets. */
const CUSTOM_WIDTH = 30

const iso = (col: string) => `strftime(${col} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`
const bucket = (w: number, col: string) => `time_bucket(INTERVAL ${w} MINUTE, ${col}, TIMESTAMPTZ '2000-01-01 00:00:00+00')`
const minute = (col: string) => bucket(1, col)

/** [from, to) of a range by its definition: relative ranges end with the bucket of the newest order. */
const boundsSql = (range: Range | 'custom') =>
  range === 'custom'
    ? `SELECT ${bucket(CUSTOM_WIDTH, `TIMESTAMPTZ '${CUSTOM.from}'`)} AS f,
         ${bucket(CUSTOM_WIDTH, `TIMESTAMPTZ '${CUSTOM.to}' - INTERVAL 1 MICROSECOND`)} + INTERVAL ${CUSTOM_WIDTH} MINUTE AS t`
    : `SELECT t - INTERVAL ${RANGE_MINUTES[range]} MINUTE AS f, t FROM
         (SELECT ${bucket(WIDTHS[range], 'max(order_ts)')} + INTERVAL ${WIDTHS[range]} MINUTE AS t FROM silver_orders)`

/** Buckets straight from silver: the windows' definitions (docs/LAKE.md, *order_windows*) summed per bucket. */
const bucketsSql = (range: Range | 'custom', w: number) => `WITH r AS (${boundsSql(range)})
  SELECT ${iso(bucket(w, 'order_ts'))} AS start, count(*) FILTER (WHERE NOT is_late) AS orders,
    count(*) FILTER (WHERE NOT is_late AND status NOT IN ('cancelled', 'refunded')) AS revenue_orders,
    coalesce(sum(reporting_amount) FILTER (WHERE NOT is_late AND status NOT IN ('cancelled', 'refunded')), 0)::DOUBLE AS revenue,
    count(DISTINCT customer_id) FILTER (WHERE NOT is_late) AS customers,
    ${iso('any_value(f)')} AS f, ${iso('any_value(t)')} AS t
  FROM silver_orders, r WHERE order_ts >= f AND order_ts < t
  GROUP BY 1 HAVING count(*) FILTER (WHERE NOT is_late) > 0 ORDER BY 1`

/** The KPI cards' orders over the complete minutes of the range (docs/LAKE.md, *Dashboard figures*). */
const kpiSql = (range: Range | 'custom') => `WITH r AS (${boundsSql(range)}),
  p AS (SELECT ${range === 'custom' ? `least(${minute('max(order_ts)')}, any_value(t))` : minute('max(order_ts)')} AS e,
          ${minute('min(order_ts) FILTER (WHERE NOT is_late)')} AS first_minute, min(order_ts) FILTER (WHERE NOT is_late) AS first,
          any_value(f) AS f FROM silver_orders, r),
  q AS (SELECT e, greatest(${range === 'custom' ? 'f' : `e - INTERVAL ${RANGE_MINUTES[range as Range] ?? 0} MINUTE`},
          CASE WHEN first_minute = first THEN first ELSE first_minute + INTERVAL 1 MINUTE END) AS s FROM p)
  SELECT ${iso('any_value(s)')} AS s, ${iso('any_value(e)')} AS e, count(*) AS orders, coalesce(sum(reporting_amount), 0)::DOUBLE AS revenue,
    count(DISTINCT customer_id) AS customers
  FROM silver_orders, q WHERE NOT is_late AND status NOT IN ('cancelled', 'refunded') AND order_ts >= s AND order_ts < e`

const histogramSql = (range: Range | 'custom') => `WITH r AS (${boundsSql(range)})
  SELECT fraud_score::VARCHAR AS key, count(*) AS count FROM silver_orders, r WHERE order_ts >= f AND order_ts < t GROUP BY fraud_score ORDER BY fraud_score`
const alertBucketsSql = (range: Range | 'custom', w: number) => `WITH r AS (${boundsSql(range)})
  SELECT ${iso(bucket(w, 'order_ts'))} AS bucketStart, count(*) AS alerts FROM fraud_alerts, r WHERE order_ts >= f AND order_ts < t GROUP BY 1 ORDER BY 1`

let ws: Workspace
let host: EngineHost
let http: HttpApi
const expected: Record<string, Row[]> = {}

const api = <T>(name: string, args: unknown = {}) => http.call<T>(name, args)

beforeAll(async () => {
  ws = makeWorkspace()
  writeLines(ws.orders('history.jsonl'), [...spread, newest])
  await runPipeline(ws)
  writeLines(ws.orders('late.jsonl'), late)
  await runPipeline(ws)

  for (const r of [...ranges, 'custom' as const]) {
    const w = r === 'custom' ? CUSTOM_WIDTH : WIDTHS[r]
    expected[`buckets-${r}`] = await query(ws.lake, bucketsSql(r, w))
    expected[`bounds-${r}`] = await query(ws.lake, `SELECT ${iso('f')} AS f, ${iso('t')} AS t FROM (${boundsSql(r)})`)
    expected[`kpis-${r}`] = await query(ws.lake, kpiSql(r))
    expected[`histogram-${r}`] = await query(ws.lake, histogramSql(r))
    expected[`alerts-${r}`] = await query(ws.lake, alertBucketsSql(r, w))
  }
  expected.late = await query(ws.lake, `SELECT count(*) AS n FROM silver_orders WHERE is_late`)
  expected.offsets = await query(ws.lake, `SELECT key, next_offset, batch_id FROM source_offsets ORDER BY key`)
  expected.orders = await query(ws.lake, `SELECT order_id FROM silver_orders ORDER BY batch_id DESC, order_ts DESC, order_id`)
  expected.filtered = await query(
    ws.lake,
    `SELECT order_id FROM silver_orders WHERE lower(customer_id) LIKE '%cust-1%' AND status = 'paid' AND currency = 'EUR'
     ORDER BY batch_id DESC, order_ts DESC, order_id`
  )
  expected.risky = await query(ws.lake, `SELECT order_id FROM silver_orders WHERE fraud_score >= 4 ORDER BY batch_id DESC, order_ts DESC, order_id`)
  expected.lateIds = await query(ws.lake, `SELECT order_id FROM silver_orders WHERE is_late ORDER BY batch_id DESC, order_ts DESC, order_id`)
  expected.one = await query(ws.lake, `SELECT order_id, customer_id, fraud_score FROM silver_orders WHERE order_id = 'h-041'`)

  host = await hostOverLake(ws.lake, ws.input)
  http = await serveHttpApi(host)
})

afterAll(async () => {
  await http?.server.close()
  await host?.dispose()
})

const view = (range: Range | 'custom') => api<HistoryView>('query.history', range === 'custom' ? { range, ...CUSTOM } : { range })

describe('history: the windows re-bucketed over a range of the whole lake', () => {
  it('the data set has what the definitions must handle', () => {
    expect(expected.late[0].n).toBe(2)
    expect(expected['buckets-7d'].length).toBeGreaterThan(40)
    expect(expected['alerts-7d'].length).toBeGreaterThan(5)
  })

  it.each([...ranges, 'custom' as const])('%s: bucket width, bounds and every bucket as SQL over silver has it', async (range) => {
    const v = await view(range)
    const w = range === 'custom' ? CUSTOM_WIDTH : WIDTHS[range]
    expect(v).toMatchObject({ bucketMinutes: w, windowMinutes: 1, from: expected[`bounds-${range}`][0].f, to: expected[`bounds-${range}`][0].t })
    const sql = expected[`buckets-${range}`]
    expect(v.buckets.map((b) => [b.windowStart, b.orders, b.revenueOrders, b.uniqueCustomers])).toEqual(
      sql.map((r) => [r.start, r.orders, r.revenue_orders, r.customers])
    )
    v.buckets.forEach((b, i) => {
      expect(b.revenue).toBeCloseTo(sql[i].revenue as number, 2)
      expect(b.avgOrderValue).toBeCloseTo(b.revenueOrders ? (sql[i].revenue as number) / b.revenueOrders : 0, 6)
      expect(Date.parse(b.windowEnd) - Date.parse(b.windowStart)).toBe(w * MIN)
    })
    // only the bucket holding the newest order is still filling
    expect(v.buckets.map((b) => b.partial)).toEqual(v.buckets.map((b) => Date.parse(b.windowEnd) > Date.parse(ts(NEWEST))))
  })

  it.each([...ranges, 'custom' as const])('%s: the KPI cards count the complete minutes of the range', async (range) => {
    const { kpis } = await view(range)
    const sql = expected[`kpis-${range}`][0]
    const minutes = (Date.parse(sql.e as string) - Date.parse(sql.s as string)) / MIN
    expect(kpis).toMatchObject({ periodStart: sql.s, periodEnd: sql.e, completeMinutes: minutes, orders: sql.orders, uniqueCustomers: sql.customers })
    expect(kpis.revenue).toBeCloseTo(sql.revenue as number, 2)
    expect(kpis.ordersPerMinute).toBeCloseTo((sql.orders as number) / minutes, 9)
  })

  it('24 h: the KPI cards are the live cards over 1,440 minutes', async () => {
    const [v, live] = [await view('24h'), await api('query.kpis', { minutes: 1440 })]
    expect(v.kpis).toEqual(live)
  })

  it.each([...ranges, 'custom' as const])('%s: the fraud histogram and alerts per bucket', async (range) => {
    const v = await view(range)
    expect(v.fraudHistogram).toEqual(expected[`histogram-${range}`])
    expect(v.alertBuckets).toEqual(expected[`alerts-${range}`])
  })

  it('refuses a custom range without an end, or one ending before it starts, naming the field', async () => {
    await expect(api('query.history', { range: 'custom', from: CUSTOM.from })).rejects.toThrow(/"to"/)
    await expect(api('query.history', { range: 'custom', from: CUSTOM.to, to: CUSTOM.from })).rejects.toThrow(/after the start/)
  })
})

describe('Recent orders: search and filters over the whole lake, paged', () => {
  const ids = (p: OrderPage) => p.rows.map((r: OrderRow) => r.orderId)

  it('pages through every order exactly once, the first page being the live list', async () => {
    const all = expected.orders.map((r) => r.order_id)
    const seen: string[] = []
    for (let offset = 0; ; offset += 100) {
      const page = await api<OrderPage>('query.orderSearch', { limit: 100, offset })
      expect(page.total).toBe(all.length)
      if (page.rows.length === 0) break
      seen.push(...ids(page))
    }
    expect(seen).toEqual(all)
    const live = await api<OrderRow[]>('query.recentOrders', { limit: 100 })
    expect(ids(await api<OrderPage>('query.orderSearch', { limit: 100 }))).toEqual(live.map((o) => o.orderId))
  })

  it('customer (part of the id, any case), status and currency together', async () => {
    const page = await api<OrderPage>('query.orderSearch', { limit: 500, customer: ' CUST-1', status: 'paid', currency: 'eur' })
    expect(ids(page)).toEqual(expected.filtered.map((r) => r.order_id))
    expect(page.total).toBe(expected.filtered.length)
    expect(page.total).toBeGreaterThan(0)
  })

  it('score at least, and late', async () => {
    const risky = await api<OrderPage>('query.orderSearch', { limit: 500, minScore: 4 })
    expect(ids(risky)).toEqual(expected.risky.map((r) => r.order_id))
    const late = await api<OrderPage>('query.orderSearch', { limit: 500, late: 'late' })
    expect(ids(late)).toEqual(expected.lateIds.map((r) => r.order_id))
    const onTime = await api<OrderPage>('query.orderSearch', { limit: 1, late: 'on-time' })
    expect(onTime.total).toBe(expected.orders.length - expected.lateIds.length)
  })

  it('one order by its exact id (a backtest sample opens it), with the other filters still applying', async () => {
    const page = await api<OrderPage>('query.orderSearch', { limit: 500, orderId: ' h-041 ' })
    expect(page.rows.map((r) => [r.orderId, r.customerId, r.fraudScore])).toEqual(expected.one.map((r) => [r.order_id, r.customer_id, r.fraud_score]))
    expect(page.total).toBe(1)
    // exact, not a part of the id: h-04 is the start of ten ids
    expect(await api<OrderPage>('query.orderSearch', { orderId: 'h-04' })).toEqual({ rows: [], total: 0 })
    expect((await api<OrderPage>('query.orderSearch', { orderId: 'h-041', late: 'late' })).total).toBe(0)
  })

  it('user text is a value, never SQL; a bad currency is refused naming the field', async () => {
    expect(await api<OrderPage>('query.orderSearch', { customer: "x' OR 1=1 --" })).toEqual({ rows: [], total: 0 })
    expect(await api<OrderPage>('query.orderSearch', { orderId: "x' OR 1=1 --" })).toEqual({ rows: [], total: 0 })
    await expect(api('query.orderSearch', { currency: 'EU; DROP' })).rejects.toThrow(/currency/)
  })
})

describe('checkpoint inspector', () => {
  it('lists every committed offset with the file size behind it and the lag in bytes', async () => {
    const file = ws.orders('late.jsonl')
    const before = statSync(file).size
    appendFileSync(file, '{"not yet read": true}\n')
    const rows = await api<SourceOffsetRow[]>('query.sourceOffsets')
    expect(rows.map((r) => [r.key, r.committedOffset, r.batchId])).toEqual(expected.offsets.map((r) => [r.key, r.next_offset, r.batch_id]))
    const lateRow = rows.find((r) => r.key === file)!
    expect(lateRow).toMatchObject({ sourceKind: 'file', unit: 'bytes', committedOffset: before, end: statSync(file).size, lag: statSync(file).size - before })
    expect(lateRow.batchCommittedAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    const historyRow = rows.find((r) => r.key === ws.orders('history.jsonl'))!
    expect(historyRow.lag).toBe(0)
  })
})

describe('history over 7-minute windows', () => {
  it('buckets hold whole windows, aligned as windows are: 24 h and a custom day in 14-minute buckets, as SQL over silver has them', async () => {
    const seven = makeWorkspace()
    writeLines(seven.orders('history.jsonl'), [...spread.map((o) => ({ ...o, order_id: `w7-${o.order_id}` })), { ...newest, order_id: 'w7-newest' }])
    await runPipeline(seven, { window: 7 })
    // a day in at most 120 buckets of whole 7-minute windows: two windows each
    const W = 14
    const custom = { from: ts(-30 * HOUR + 3 * MIN), to: ts(-6 * HOUR - 5 * MIN) }
    const customBounds = `SELECT ${bucket(W, `TIMESTAMPTZ '${custom.from}'`)} AS f,
      ${bucket(W, `TIMESTAMPTZ '${custom.to}' - INTERVAL 1 MICROSECOND`)} + INTERVAL ${W} MINUTE AS t`
    const relative = await query(seven.lake, bucketsSql('24h', W).replace(boundsSql('24h'), boundsSql('24h').replaceAll(`${WIDTHS['24h']} MINUTE`, `${W} MINUTE`)))
    const fixed = await query(seven.lake, bucketsSql('24h', W).replace(boundsSql('24h'), customBounds))
    const windows = await query(seven.lake, `SELECT DISTINCT epoch(window_end - window_start) / 60 AS minutes FROM order_windows`)
    expect(windows).toEqual([{ minutes: 7 }])
    expect(relative.length).toBeGreaterThan(20)
    expect(fixed.length).toBeGreaterThan(20)
    const h = await hostOverLake(seven.lake, seven.input)
    try {
      for (const [v, sql] of [
        [await h.handlers['query.history']({ range: '24h' }), relative],
        [await h.handlers['query.history']({ range: 'custom', ...custom }), fixed]
      ] as const) {
        expect(v).toMatchObject({ bucketMinutes: W, windowMinutes: 7, from: sql[0].f, to: sql[0].t })
        expect(v.buckets.map((b) => [b.windowStart, b.orders, b.revenueOrders, b.uniqueCustomers])).toEqual(
          sql.map((r) => [r.start, r.orders, r.revenue_orders, r.customers])
        )
        v.buckets.forEach((b, i) => expect(b.revenue).toBeCloseTo(sql[i].revenue as number, 2))
      }
    } finally {
      await h.dispose()
    }
  })
})
