import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  HOUR,
  MIN,
  cleanupTempDirs,
  customer,
  makeWorkspace,
  order,
  queries,
  runPipeline,
  ts,
  writeLines,
  type Row,
  type Workspace
} from '../support/lake-fixtures'

// Stop and start again: only input that arrived since is processed; the customers table keeps the
// latest profile per customer_id; silver enrichment reads the customers table.

afterAll(cleanupTempDirs)

const iso = (d: unknown) => (d as Date).toISOString()

describe('restart', () => {
  let ws: Workspace
  const signup1 = ts(-2 * HOUR)
  const signup2 = ts(-30 * 24 * HOUR)
  let first: Record<'silver' | 'customers' | 'counts', Row[]>

  beforeAll(async () => {
    ws = makeWorkspace()
    writeLines(ws.customers('1.jsonl'), [
      customer({ customer_id: 'c1', segment: 'regular', signup_ts: ts(-400 * 24 * HOUR), name: 'Old Name' }),
      customer({ customer_id: 'c2', segment: 'regular' }),
      // the same customer again later in the file: this one is the latest profile
      customer({ customer_id: 'c1', segment: 'new', signup_ts: signup1, name: 'New Name' })
    ])
    writeLines(ws.orders('1.jsonl'), [
      order({ order_id: 'o1', customer_id: 'c1', order_ts: ts(0), total_amount: 1500 }),
      order({ order_id: 'o2', customer_id: 'c2', order_ts: ts(MIN) }),
      order({ order_id: 'o3', customer_id: 'c9', order_ts: ts(2 * MIN) })
    ])
    expect((await runPipeline(ws)).batches).toBe(1)
    first = await queries(ws.lake, {
      silver: `SELECT order_id, customer_segment, customer_signup_ts, fraud_score FROM silver_orders ORDER BY order_id`,
      customers: `SELECT customer_id, name, segment, signup_ts FROM customers ORDER BY customer_id`,
      counts: `SELECT (SELECT count(*) FROM bronze_orders) AS bo, (SELECT count(*) FROM bronze_customers) AS bc,
        (SELECT count(*) FROM batches) AS batches`
    })
  })

  it('enriches silver from the customers table, with the latest profile of the batch', () => {
    expect(first.customers.map((c) => [c.customer_id, c.name, c.segment, iso(c.signup_ts)])).toEqual([
      ['c1', 'New Name', 'new', signup1],
      ['c2', 'Ada Lovelace', 'regular', ts(-365 * 24 * HOUR)]
    ])
    const o1 = first.silver.find((s) => s.order_id === 'o1')!
    expect(o1.customer_segment).toBe('new')
    expect(iso(o1.customer_signup_ts)).toBe(signup1)
    expect(o1.fraud_score).toBe(2) // new account (2 h) with an order over 1000
    const o3 = first.silver.find((s) => s.order_id === 'o3')!
    expect(o3).toMatchObject({ customer_segment: null, customer_signup_ts: null })
  })

  it('does nothing when restarted without new input', async () => {
    expect((await runPipeline(ws)).batches).toBe(0)
    const again = await queries(ws.lake, {
      counts: `SELECT (SELECT count(*) FROM bronze_orders) AS bo, (SELECT count(*) FROM bronze_customers) AS bc,
        (SELECT count(*) FROM batches) AS batches`
    })
    expect(again.counts).toEqual(first.counts)
  })

  it('processes only the new input after a restart and updates customer profiles', async () => {
    writeLines(ws.customers('2.jsonl'), [
      customer({ customer_id: 'c1', segment: 'VIP', signup_ts: signup2, name: 'Newest Name', country: 'fr' }),
      customer({ customer_id: 'c9', segment: 'new', signup_ts: ts(-HOUR) })
    ])
    writeLines(ws.orders('2.jsonl'), [
      order({ order_id: 'o4', customer_id: 'c1', order_ts: ts(3 * MIN), total_amount: 1500 }),
      // c9 arrives in the same batch as its order: the order is enriched with it
      order({ order_id: 'o5', customer_id: 'c9', order_ts: ts(4 * MIN), total_amount: 1500 })
    ])
    expect((await runPipeline(ws)).batches).toBe(1)
    const r = await queries(ws.lake, {
      silver: `SELECT order_id, customer_segment, customer_signup_ts, fraud_score, batch_id FROM silver_orders ORDER BY order_id`,
      customers: `SELECT customer_id, name, segment, country, signup_ts, batch_id FROM customers ORDER BY customer_id`,
      batch2: `SELECT rows_read, valid FROM batches WHERE batch_id = 2`,
      bronze: `SELECT batch_id, count(*) AS n FROM (SELECT batch_id FROM bronze_orders UNION ALL SELECT batch_id FROM bronze_customers)
        GROUP BY batch_id ORDER BY batch_id`
    })
    expect(r.bronze).toEqual([
      { batch_id: 1, n: 6 },
      { batch_id: 2, n: 4 }
    ])
    expect(r.batch2).toEqual([{ rows_read: 4, valid: 2 }])
    expect(r.customers.map((c) => [c.customer_id, c.name, c.segment, c.country, iso(c.signup_ts), c.batch_id])).toEqual([
      ['c1', 'Newest Name', 'vip', 'FR', signup2, 2],
      ['c2', 'Ada Lovelace', 'regular', 'DE', ts(-365 * 24 * HOUR), 1],
      ['c9', 'Ada Lovelace', 'new', 'DE', ts(-HOUR), 2]
    ])
    const o4 = r.silver.find((s) => s.order_id === 'o4')!
    expect(o4).toMatchObject({ customer_segment: 'vip', fraud_score: 0, batch_id: 2 })
    expect(iso(o4.customer_signup_ts)).toBe(signup2)
    const o5 = r.silver.find((s) => s.order_id === 'o5')!
    expect(o5).toMatchObject({ customer_segment: 'new', fraud_score: 2, batch_id: 2 })
    expect(r.silver.map((s) => s.order_id)).toEqual(['o1', 'o2', 'o3', 'o4', 'o5'])
  })

  it('keeps the windows and offsets consistent across restarts', async () => {
    const r = await queries(ws.lake, {
      w: `SELECT sum(orders)::BIGINT AS n FROM order_windows`,
      offsets: `SELECT key, next_offset FROM source_offsets ORDER BY key`
    })
    expect(r.w[0].n).toBe(5)
    expect(r.offsets).toHaveLength(4)
  })
})
