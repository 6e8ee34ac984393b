import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MIN,
  cleanupTempDirs,
  makeWorkspace,
  order,
  queries,
  query,
  runPipeline,
  ts,
  writeLines,
  type Row,
  type Workspace
} from '../support/lake-fixtures'

// order_windows: 1-minute tumbling windows on order_ts. revenue excludes cancelled/refunded,
// avg_order_value = revenue / orders counted in revenue, unique_customers exact. Late orders
// (older than the watermark = latest order_ts of previous batches − 10 min) stay out of windows.

afterAll(cleanupTempDirs)

const windowsSql = `SELECT strftime(window_start, '%H:%M:%S') AS start, strftime(window_end, '%H:%M:%S') AS "end",
    orders, revenue::VARCHAR AS revenue, revenue_orders, avg_order_value::VARCHAR AS avg, unique_customers
  FROM order_windows ORDER BY window_start`

/** Window totals must equal the silver totals of the on-time orders. */
async function expectWindowsMatchSilver(ws: Workspace): Promise<void> {
  const r = await queries(ws.lake, {
    w: `SELECT coalesce(sum(orders), 0)::BIGINT AS orders, coalesce(sum(revenue), 0)::VARCHAR AS revenue,
          coalesce(sum(revenue_orders), 0)::BIGINT AS revenue_orders FROM order_windows`,
    s: `SELECT count(*)::BIGINT AS orders,
          coalesce(sum(reporting_amount) FILTER (WHERE status NOT IN ('cancelled', 'refunded')), 0)::DECIMAL(38,2)::VARCHAR AS revenue,
          (count(*) FILTER (WHERE status NOT IN ('cancelled', 'refunded')))::BIGINT AS revenue_orders
        FROM silver_orders WHERE NOT is_late`,
    perWindow: `WITH s AS (
          SELECT time_bucket(INTERVAL 1 MINUTE, order_ts) AS ws, count(*) AS n, count(DISTINCT customer_id) AS u
          FROM silver_orders WHERE NOT is_late GROUP BY ALL)
        SELECT count(*) AS mismatches FROM s FULL JOIN order_windows w ON w.window_start = s.ws
        WHERE s.n IS DISTINCT FROM w.orders OR s.u IS DISTINCT FROM w.unique_customers`
  })
  expect(r.w[0].orders).toBe(r.s[0].orders)
  expect(r.w[0].revenue_orders).toBe(r.s[0].revenue_orders)
  expect(Number(r.w[0].revenue)).toBe(Number(r.s[0].revenue))
  expect(r.perWindow[0].mismatches).toBe(0)
}

describe('tumbling windows', () => {
  let ws: Workspace
  let windows: Row[]

  beforeAll(async () => {
    ws = makeWorkspace()
    writeLines(ws.orders('w.jsonl'), [
      // window 12:00
      order({ order_id: 'a1', customer_id: 'c1', order_ts: ts(0), total_amount: 100.0 }),
      order({ order_id: 'a2', customer_id: 'c2', order_ts: ts(10_000), total_amount: 50.5, status: 'cancelled' }),
      order({ order_id: 'a3', customer_id: 'c1', order_ts: ts(20_000), total_amount: 20.26, status: 'SHIPPED' }),
      order({ order_id: 'a4', customer_id: 'c3', order_ts: ts(30_000), total_amount: 10.0, status: 'REFUNDED' }),
      order({ order_id: 'a5', customer_id: 'c4', order_ts: ts(MIN - 1), total_amount: 0.01, status: 'placed' }),
      // same instant written with another offset: 12:00:45Z → window 12:00
      order({ order_id: 'a6', customer_id: 'c1', order_ts: '2024-03-01T14:00:45+02:00', total_amount: 9.99 }),
      // window 12:01: starts exactly at 12:01:00.000
      order({ order_id: 'b1', customer_id: 'c1', order_ts: ts(MIN), total_amount: 10.0 }),
      order({ order_id: 'b2', customer_id: 'c1', order_ts: ts(MIN + 1), total_amount: 10.01 }),
      order({ order_id: 'b3', customer_id: 'c1', order_ts: ts(2 * MIN - 1), total_amount: 10.0 }),
      // window 12:02: only cancelled/refunded orders
      order({ order_id: 'c1', customer_id: 'c5', order_ts: ts(2 * MIN), total_amount: 40, status: 'cancelled' }),
      order({ order_id: 'c2', customer_id: 'c6', order_ts: ts(2 * MIN + 5), total_amount: 60, status: 'refunded' }),
      // window 12:05 (gap of empty windows in between)
      order({ order_id: 'd1', customer_id: 'c7', order_ts: ts(5 * MIN + 30_000), total_amount: 1234.56 })
    ])
    await runPipeline(ws)
    windows = await query(ws.lake, windowsSql)
  })

  it('puts each order in the 1-minute window containing its order_ts', () => {
    expect(windows.map((w) => [w.start, w.end, w.orders])).toEqual([
      ['12:00:00', '12:01:00', 6],
      ['12:01:00', '12:02:00', 3],
      ['12:02:00', '12:03:00', 2],
      ['12:05:00', '12:06:00', 1]
    ])
  })

  it('counts revenue without cancelled/refunded orders and averages over the orders counted in revenue', () => {
    // 100.00 + 20.26 + 0.01 + 9.99 = 130.26 over 4 orders = 32.565 → 32.57 (rounded half up) or 32.56
    expect(windows[0]).toMatchObject({ revenue: '130.26', revenue_orders: 4, unique_customers: 4 })
    expect(['32.57', '32.56']).toContain(windows[0].avg)
    // 30.01 / 3 = 10.0033…
    expect(windows[1]).toMatchObject({ revenue: '30.01', revenue_orders: 3, avg: '10.00', unique_customers: 1 })
    expect(windows[2]).toMatchObject({ revenue: '0.00', revenue_orders: 0, avg: null, unique_customers: 2 })
    expect(windows[3]).toMatchObject({ revenue: '1234.56', revenue_orders: 1, avg: '1234.56', unique_customers: 1 })
  })

  it('recomputes a window exactly when a later batch adds orders to it', async () => {
    writeLines(ws.orders('w2.jsonl'), [
      order({ order_id: 'a7', customer_id: 'c9', order_ts: ts(50_000), total_amount: 69.74 }),
      order({ order_id: 'a8', customer_id: 'c1', order_ts: ts(55_000), total_amount: 1, status: 'cancelled' }),
      // a duplicate must not be counted twice
      order({ order_id: 'a1', customer_id: 'c1', order_ts: ts(0), total_amount: 100.0 })
    ])
    await runPipeline(ws)
    const after = await query(ws.lake, windowsSql)
    expect(after[0]).toMatchObject({ start: '12:00:00', orders: 8, revenue: '200.00', revenue_orders: 5, avg: '40.00', unique_customers: 5 })
    expect(after.slice(1)).toEqual(windows.slice(1))
    await expectWindowsMatchSilver(ws)
  })

  it('holds one row per window', async () => {
    const dup = await query(ws.lake, `SELECT window_start, count(*) n FROM order_windows GROUP BY 1 HAVING n > 1`)
    expect(dup).toEqual([])
  })
})

describe('unique customers', () => {
  it('counts distinct customers exactly, even with many orders', async () => {
    const ws = makeWorkspace()
    const lines = []
    for (let i = 0; i < 3000; i++) {
      lines.push(order({ order_id: `u-${i}`, customer_id: `cust-${i % 1234}`, order_ts: ts((i % 60) * 1000) }))
    }
    writeLines(ws.orders('u.jsonl'), lines)
    await runPipeline(ws)
    const w = await query(ws.lake, windowsSql)
    expect(w).toHaveLength(1)
    expect(w[0]).toMatchObject({ orders: 3000, unique_customers: 1234, revenue: '75000.00', avg: '25.00' })
  })
})

describe('watermark and late orders', () => {
  let ws: Workspace
  let silver: Map<string, Row>
  let batches: Row[]
  let windows: Row[]

  beforeAll(async () => {
    ws = makeWorkspace()
    // batch 1: latest order_ts 12:30 → watermark for the next batch 12:20
    writeLines(ws.orders('1.jsonl'), [
      order({ order_id: 'b1-1200', customer_id: 'k1', order_ts: ts(0) }),
      order({ order_id: 'b1-1219', customer_id: 'k1', order_ts: ts(19 * MIN + 30_000) }),
      order({ order_id: 'b1-1230', customer_id: 'k2', order_ts: ts(30 * MIN) })
    ])
    await runPipeline(ws)
    writeLines(ws.orders('2.jsonl'), [
      order({ order_id: 'late-121959', customer_id: 'k3', order_ts: ts(20 * MIN - 1), total_amount: 77 }),
      order({ order_id: 'late-1205', customer_id: 'k3', order_ts: ts(5 * MIN), total_amount: 5001, billing_country: 'US' }),
      order({ order_id: 'ontime-1220', customer_id: 'k3', order_ts: ts(20 * MIN), total_amount: 11 }),
      order({ order_id: 'ontime-1225', customer_id: 'k4', order_ts: ts(25 * MIN) }),
      // later than everything: does not make earlier lines of the same batch late
      order({ order_id: 'ontime-1240', customer_id: 'k4', order_ts: ts(40 * MIN) }),
      // a late duplicate is a duplicate, not a late order
      order({ order_id: 'b1-1200', customer_id: 'k1', order_ts: ts(0) })
    ])
    await runPipeline(ws)
    // batch 3: watermark is now 12:40 − 10 min = 12:30
    writeLines(ws.orders('3.jsonl'), [
      order({ order_id: 'late-122959', customer_id: 'k5', order_ts: ts(30 * MIN - 1) }),
      order({ order_id: 'ontime-1230', customer_id: 'k5', order_ts: ts(30 * MIN) })
    ])
    await runPipeline(ws)
    const r = await queries(ws.lake, {
      silver: `SELECT order_id, is_late, batch_id, fraud_score FROM silver_orders`,
      batches: `SELECT batch_id, late, duplicates, valid FROM batches ORDER BY batch_id`,
      windows: windowsSql
    })
    silver = new Map(r.silver.map((s) => [s.order_id as string, s]))
    batches = r.batches
    windows = r.windows
  })

  it('keeps orders older than the watermark in silver, flagged is_late', () => {
    expect(silver.get('late-121959')).toMatchObject({ is_late: true, batch_id: 2 })
    expect(silver.get('late-1205')).toMatchObject({ is_late: true, batch_id: 2 })
    expect(silver.get('late-122959')).toMatchObject({ is_late: true, batch_id: 3 })
  })

  it('does not flag orders at or after the watermark, nor anything in the first batch', () => {
    for (const id of ['b1-1200', 'b1-1219', 'b1-1230', 'ontime-1220', 'ontime-1225', 'ontime-1240', 'ontime-1230']) {
      expect(silver.get(id), id).toMatchObject({ is_late: false })
    }
  })

  it('counts late orders in batches.late', () => {
    expect(batches.map((b) => [b.batch_id, b.late, b.duplicates])).toEqual([
      [1, 0, 0],
      [2, 2, 1],
      [3, 1, 0]
    ])
  })

  it('still scores late orders for fraud', () => {
    expect(silver.get('late-1205')!.fraud_score).toBe(5)
  })

  it('leaves late orders out of every window', async () => {
    const byStart = new Map(windows.map((w) => [w.start as string, w]))
    expect(byStart.get('12:19:00')).toMatchObject({ orders: 1, revenue: '25.00' })
    expect(byStart.has('12:05:00')).toBe(false)
    expect(byStart.get('12:29:00')).toBeUndefined()
    expect(byStart.get('12:20:00')).toMatchObject({ orders: 1, revenue: '11.00' })
    expect(byStart.get('12:30:00')).toMatchObject({ orders: 2, unique_customers: 2 })
    await expectWindowsMatchSilver(ws)
  })
})

describe('configurable watermark', () => {
  it('uses --watermark (ms) instead of 10 minutes', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('1.jsonl'), [order({ order_id: 'm1', order_ts: ts(10 * MIN) })])
    await runPipeline(ws, { watermark: 60_000 })
    writeLines(ws.orders('2.jsonl'), [
      order({ order_id: 'm-late', order_ts: ts(9 * MIN - 1) }),
      order({ order_id: 'm-ontime', order_ts: ts(9 * MIN) })
    ])
    await runPipeline(ws, { watermark: 60_000 })
    const rows = await query(ws.lake, `SELECT order_id, is_late FROM silver_orders ORDER BY order_id`)
    expect(rows).toEqual([
      { order_id: 'm-late', is_late: true },
      { order_id: 'm-ontime', is_late: false },
      { order_id: 'm1', is_late: false }
    ])
  })
})

describe('window size', () => {
  it('rebuilds order_windows from silver when --window changes between runs', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('1.jsonl'), [
      order({ order_id: 'w1', customer_id: 'a', order_ts: ts(0), total_amount: 10 }),
      order({ order_id: 'w2', customer_id: 'b', order_ts: ts(5 * MIN - 1), total_amount: 20 }),
      order({ order_id: 'w3', customer_id: 'a', order_ts: ts(5 * MIN), total_amount: 30, status: 'cancelled' }),
      order({ order_id: 'w4', customer_id: 'c', order_ts: ts(9 * MIN), total_amount: 40 })
    ])
    await runPipeline(ws)
    expect(await query(ws.lake, windowsSql)).toHaveLength(4)

    writeLines(ws.orders('2.jsonl'), [order({ order_id: 'w5', customer_id: 'a', order_ts: ts(MIN), total_amount: 50 })])
    await runPipeline(ws, { window: 5 })
    expect((await query(ws.lake, windowsSql)).map((w) => [w.start, w.end, w.orders, w.revenue, w.revenue_orders, w.unique_customers])).toEqual([
      ['12:00:00', '12:05:00', 3, '80.00', 3, 2],
      ['12:05:00', '12:10:00', 2, '40.00', 1, 2]
    ])
    await runPipeline(ws, { window: 1 })
    expect((await query(ws.lake, windowsSql)).map((w) => [w.start, w.orders])).toEqual([
      ['12:00:00', 1],
      ['12:01:00', 1],
      ['12:04:00', 1],
      ['12:05:00', 1],
      ['12:09:00', 1]
    ])
    await expectWindowsMatchSilver(ws)
  })
})
