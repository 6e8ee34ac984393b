import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineHost } from '../../src/main/api/host'
import type { AlertPage, CountRow, Kpis, WindowRow } from '../../src/shared/dto'
import {
  MIN,
  cleanupTempDirs,
  makeWorkspace,
  order,
  query,
  runPipeline,
  ts,
  writeLines,
  type Row,
  type Workspace
} from '../support/lake-fixtures'
import { hostOverLake, serveHttpApi, type HttpApi } from '../support/engine-host'

// Every figure the Metrics and Fraud tabs show, fetched the way the UI fetches it (POST /api/<name>
// on a real engine host over a real lake) and checked against plain SQL over that lake, written
// from the definitions in docs/LAKE.md (*Dashboard figures*).
//
// Event time, minute by minute (base 12:00 UTC):
//   12:00  first on-time order at 12:00:20: the lake saw only part of this minute
//   12:01  every status, repeat customers, euros and pounds
//   12:02  a late order arrives for it in the second batch (watermark 1 minute)
//   12:03  no orders
//   12:04  orders, among them big ones that raise alerts
//   12:05  the newest order (12:05:30): the minute in progress

afterAll(cleanupTempDirs)

const at = (min: number, sec = 0) => ts(min * MIN + sec * 1000)
const utc = (min: number) => `TIMESTAMPTZ '${at(min)}'`

const minute1 = [
  order({ order_id: 'm1-paid', customer_id: 'C-A', order_ts: at(1, 1), total_amount: 100.1, status: 'paid' }),
  order({ order_id: 'm1-shipped', customer_id: 'C-A', order_ts: at(1, 2), total_amount: 20.2, status: 'shipped' }),
  order({ order_id: 'm1-completed', customer_id: 'C-B', order_ts: at(1, 3), total_amount: 30.33, status: 'completed' }),
  order({ order_id: 'm1-placed', customer_id: 'C-C', order_ts: at(1, 4), total_amount: 5, status: 'placed' }),
  // money in other currencies counts converted to the reporting currency (USD)
  order({ order_id: 'm1-eur', customer_id: 'C-H', order_ts: at(1, 6), total_amount: 50, currency: 'EUR', status: 'paid' }),
  order({ order_id: 'm1-gbp', customer_id: 'C-I', order_ts: at(1, 7), total_amount: 40, currency: 'GBP', status: 'shipped' }),
  // the same customer's cancelled and refunded orders: not counted, and not a customer by them
  order({ order_id: 'm1-cancelled', customer_id: 'C-D', order_ts: at(1, 5), total_amount: 999, status: 'cancelled' }),
  order({ order_id: 'm1-refunded', customer_id: 'C-D', order_ts: at(1, 59.999), total_amount: 888, status: 'refunded' })
]
const minute2 = [
  order({ order_id: 'm2-a', customer_id: 'C-A', order_ts: at(2), total_amount: 10, status: 'paid' }),
  order({ order_id: 'm2-b', customer_id: 'C-E', order_ts: at(2, 30), total_amount: 12.5, status: 'paid' })
]
/** Alerts: over 5000 scores 4 (the threshold is 3). Ids with mixed case, for the search. */
const bigOnes = Array.from({ length: 23 }, (_, i) =>
  order({
    order_id: `Big-${String(i).padStart(2, '0')}`,
    customer_id: i % 2 ? 'Whale-Odd' : 'whale-even',
    order_ts: at(4, i),
    total_amount: 5000 + i,
    status: i === 5 ? 'refunded' : 'paid'
  })
)
const minute4 = [
  order({ order_id: 'm4-a', customer_id: 'C-F', order_ts: at(4, 40), total_amount: 7.77, status: 'paid' }),
  order({ order_id: 'm4-eur', customer_id: 'C-F', order_ts: at(4, 41), total_amount: 19.99, currency: 'EUR', status: 'paid' }),
  ...bigOnes
]
const minute5 = [order({ order_id: 'm5-newest', customer_id: 'C-G', order_ts: at(5, 30), total_amount: 42, status: 'paid' })]

/** The orders every figure counts, written out from the definition, in [from, to) minutes after 12:00. */
const countedSql = (from: number, to: number) => `SELECT count(*)::BIGINT AS orders, coalesce(sum(reporting_amount), 0)::DOUBLE AS revenue,
    count(DISTINCT customer_id)::BIGINT AS customers
  FROM silver_orders WHERE NOT is_late AND status NOT IN ('cancelled', 'refunded')
    AND order_ts >= ${utc(from)} AND order_ts < ${utc(to)}`

let ws: Workspace
let host: EngineHost
let http: HttpApi
const expected: Record<string, Row[]> = {}

const api = <T>(name: string, args: unknown = {}) => http.call<T>(name, args)

beforeAll(async () => {
  ws = makeWorkspace()
  writeLines(ws.orders('first.jsonl'), [
    order({ order_id: 'm0-first', customer_id: 'C-Z', order_ts: at(0, 20), total_amount: 77, status: 'paid' }),
    ...minute1,
    ...minute2,
    ...minute4,
    ...minute5
  ])
  await runPipeline(ws, { watermark: MIN })
  // watermark = 12:05:30 − 1 min: an order for 12:02 is late now
  writeLines(ws.orders('second.jsonl'), [order({ order_id: 'm2-late', customer_id: 'C-L', order_ts: at(2, 10), total_amount: 300, status: 'paid' })])
  await runPipeline(ws, { watermark: MIN })

  for (const [key, sql] of Object.entries({
    m4: countedSql(4, 5),
    m2to5: countedSql(2, 5),
    m1to5: countedSql(1, 5),
    late: `SELECT count(*)::BIGINT AS n FROM silver_orders WHERE is_late AND order_id = 'm2-late'`,
    converted: `SELECT count(*)::BIGINT AS n FROM silver_orders WHERE currency <> 'USD' AND reporting_amount <> total_amount`,
    windows: `SELECT strftime(window_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.000Z') AS start, orders, revenue_orders,
        revenue::DOUBLE AS revenue FROM order_windows ORDER BY window_start`,
    histogram: `SELECT fraud_score::VARCHAR AS key, count(*)::BIGINT AS count FROM silver_orders GROUP BY fraud_score ORDER BY fraud_score`,
    alerts: `SELECT order_id FROM fraud_alerts ORDER BY detected_at DESC, order_ts DESC, order_id`,
    whaleOdd: `SELECT order_id FROM fraud_alerts WHERE lower(customer_id) LIKE '%whale-odd%' ORDER BY detected_at DESC, order_ts DESC, order_id`,
    big1: `SELECT order_id FROM fraud_alerts WHERE lower(order_id) LIKE '%big-1%' OR lower(customer_id) LIKE '%big-1%'
        ORDER BY detected_at DESC, order_ts DESC, order_id`
  })) {
    expected[key] = await query(ws.lake, sql)
  }

  host = await hostOverLake(ws.lake, ws.input)
  http = await serveHttpApi(host)
})

afterAll(async () => {
  await http?.server.close()
  await host?.dispose()
})

describe('KPI cards: one set of orders, the last complete minutes', () => {
  it('the data set has what the definitions must handle', () => {
    expect(expected.late[0].n).toBe(1)
    expect(expected.converted[0].n).toBe(3)
    expect(expected.m4[0].orders).toBe(24) // 25 orders in 12:04, one of them refunded
  })

  it('last minute: the last complete minute (12:04), not the one in progress (12:05)', async () => {
    const k = await api<Kpis>('query.kpis', { minutes: 1 })
    const sql = expected.m4[0]
    expect(k).toMatchObject({ minutes: 1, completeMinutes: 1, periodStart: at(4), periodEnd: at(5), asOf: at(5, 30), firstCompleteAt: null })
    expect(k.orders).toBe(sql.orders)
    expect(k.ordersPerMinute).toBe(sql.orders)
    expect(k.revenue).toBeCloseTo(sql.revenue as number, 2)
    expect(k.avgOrderValue).toBeCloseTo((sql.revenue as number) / (sql.orders as number), 6)
    expect(k.uniqueCustomers).toBe(sql.customers)
  })

  it('three minutes: an empty minute counts as a minute with no orders, and a late order counts nowhere', async () => {
    const k = await api<Kpis>('query.kpis', { minutes: 3 })
    const sql = expected.m2to5[0]
    expect(k).toMatchObject({ completeMinutes: 3, periodStart: at(2), periodEnd: at(5) })
    expect(k.orders).toBe(sql.orders)
    expect(k.ordersPerMinute).toBeCloseTo((sql.orders as number) / 3, 9)
    expect(k.revenue).toBeCloseTo(sql.revenue as number, 2)
    expect(k.uniqueCustomers).toBe(sql.customers)
  })

  it('a period longer than the lake: only minutes the lake saw whole, so the rate does not ramp up', async () => {
    const k = await api<Kpis>('query.kpis', { minutes: 60 })
    const sql = expected.m1to5[0]
    // 12:00 began before the first order (12:00:20): the lake saw only part of it
    expect(k).toMatchObject({ minutes: 60, completeMinutes: 4, periodStart: at(1), periodEnd: at(5) })
    expect(k.orders).toBe(sql.orders)
    expect(k.ordersPerMinute).toBeCloseTo((sql.orders as number) / 4, 9)
    expect(k.revenue).toBeCloseTo(sql.revenue as number, 2)
    expect(k.avgOrderValue).toBeCloseTo((sql.revenue as number) / (sql.orders as number), 6)
    expect(k.uniqueCustomers).toBe(sql.customers)
  })

  it('the dashboard snapshot carries the same KPIs as query.kpis', async () => {
    const snap = await api<{ kpis: Kpis }>('query.dashboard')
    const k = await api<Kpis>('query.kpis', { minutes: snap.kpis.minutes })
    expect(snap.kpis).toEqual(k)
  })
})

describe('charts: windows and the fraud histogram', () => {
  it('windows carry orders, counted orders and revenue as the lake has them; only the newest is partial', async () => {
    const w = await api<WindowRow[]>('query.windows', { limit: 60 })
    expect(w.map((r) => [r.windowStart, r.orders, r.revenueOrders, r.revenue])).toEqual(
      expected.windows.map((r) => [r.start, r.orders, r.revenue_orders, r.revenue])
    )
    expect(w.map((r) => r.partial)).toEqual(w.map((r) => r.windowStart === at(5)))
    // no window for the empty minute 12:03: the chart shows a gap there, not a line
    expect(w.map((r) => r.windowStart)).not.toContain(at(3))
  })

  it("the volume bar of the last complete minute is the KPI cards' orders", async () => {
    const [k, w] = [await api<Kpis>('query.kpis', { minutes: 1 }), await api<WindowRow[]>('query.windows', { limit: 60 })]
    const bar = w.find((r) => r.windowStart === k.periodStart)
    expect(bar?.revenueOrders).toBe(k.orders)
    expect(bar?.revenue).toBeCloseTo(k.revenue, 2)
  })

  it('the fraud histogram counts every scored order by score', async () => {
    const h = await api<CountRow[]>('query.fraudHistogram')
    expect(h).toEqual(expected.histogram)
  })
})

describe('the alerts table: every alert, a page at a time, with a search', () => {
  const ids = (p: AlertPage) => p.rows.map((r) => r.orderId)

  it('pages through all alerts newest first, each exactly once', async () => {
    const all = expected.alerts.map((r) => r.order_id)
    expect(all.length).toBe(23)
    const seen: string[] = []
    for (let offset = 0; ; offset += 10) {
      const page = await api<AlertPage>('query.alertPage', { limit: 10, offset })
      expect(page.total).toBe(all.length)
      expect(page.all).toBe(all.length)
      if (page.rows.length === 0) break
      seen.push(...ids(page))
    }
    expect(seen).toEqual(all)
  })

  it('finds alerts by customer id or order id, ignoring case, with the matching count', async () => {
    const odd = await api<AlertPage>('query.alertPage', { limit: 50, search: '  WHALE-odd ' })
    expect(ids(odd)).toEqual(expected.whaleOdd.map((r) => r.order_id))
    expect(odd).toMatchObject({ total: expected.whaleOdd.length, all: 23 })

    const big1 = await api<AlertPage>('query.alertPage', { limit: 50, search: 'big-1' })
    expect(ids(big1)).toEqual(expected.big1.map((r) => r.order_id))
    expect(big1.total).toBe(10) // Big-10 … Big-19

    const none = await api<AlertPage>('query.alertPage', { search: "%' OR 1=1 --" })
    expect(none).toMatchObject({ rows: [], total: 0, all: 23 })
  })

  it('refuses a page size beyond the limit, naming the field', async () => {
    await expect(api('query.alertPage', { limit: 5000 })).rejects.toThrow(/limit/)
  })
})

describe('before the first complete minute', () => {
  it('no figures yet, and when the first minute will be complete', async () => {
    const fresh = makeWorkspace()
    writeLines(fresh.orders('o.jsonl'), [
      order({ order_id: 'f1', order_ts: at(10, 5), total_amount: 10 }),
      order({ order_id: 'f2', order_ts: at(11, 50), total_amount: 20 })
    ])
    await runPipeline(fresh)
    const h = await hostOverLake(fresh.lake, fresh.input)
    try {
      const k = await h.handlers['query.kpis']({ minutes: 5 })
      // 12:10 began before the first order; 12:11 holds the newest: no minute is complete yet
      expect(k).toMatchObject({ completeMinutes: 0, orders: 0, ordersPerMinute: 0, periodStart: null, firstCompleteAt: at(12), asOf: at(11, 50) })
    } finally {
      await h.dispose()
    }
  })

  it('an empty lake has no figures and no dates', async () => {
    const h = await hostOverLake('not-yet', 'in')
    try {
      expect(await h.handlers['query.kpis']({ minutes: 1 })).toEqual({
        minutes: 1,
        completeMinutes: 0,
        periodStart: null,
        periodEnd: null,
        firstCompleteAt: null,
        orders: 0,
        ordersPerMinute: 0,
        revenue: 0,
        avgOrderValue: 0,
        uniqueCustomers: 0,
        asOf: null
      })
    } finally {
      await h.dispose()
    }
  })
})
