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

// Fraud rules at their boundaries, with the default weights:
//   amount > 5000 → 4, else > 3000 → 3, else > 2000 → 2; cancelled/refunded → +1;
//   velocity (≥ 3rd order of the customer in the 10 minutes up to and including it) → +2;
//   new account (signup < 24 h before the order) with amount > 1000 → +2; billing ≠ shipping → +1.
// An alert row exists iff score ≥ 3 (default threshold).

afterAll(cleanupTempDirs)

interface Scored {
  order_id: string
  fraud_score: number
  fraud_reasons: string[]
}

async function scoredOrders(ws: Workspace): Promise<{ silver: Map<string, Scored>; alerts: Row[] }> {
  const r = await queries(ws.lake, {
    silver: `SELECT order_id, fraud_score, fraud_reasons FROM silver_orders`,
    alerts: `SELECT order_id, customer_id, fraud_score, fraud_reasons, total_amount::VARCHAR AS total_amount, status,
        shipping_country, billing_country FROM fraud_alerts ORDER BY order_id`
  })
  return {
    silver: new Map(r.silver.map((row) => [row.order_id as string, row as unknown as Scored])),
    alerts: r.alerts
  }
}

function expectScore(silver: Map<string, Scored>, id: string, score: number, reasons: RegExp[] = []): void {
  const row = silver.get(id)
  expect(row, `order ${id} should be in silver_orders`).toBeDefined()
  expect(row!.fraud_score, `fraud_score of ${id} (reasons: ${JSON.stringify(row!.fraud_reasons)})`).toBe(score)
  expect(row!.fraud_reasons, `fraud_reasons of ${id}`).toHaveLength(reasons.length)
  for (const re of reasons) {
    expect(row!.fraud_reasons.some((r) => re.test(r)), `${id}: some reason matches ${re} in ${JSON.stringify(row!.fraud_reasons)}`).toBe(true)
  }
}

/** fraud_alerts holds exactly the silver orders scoring ≥ 3, with the same score and reasons. */
function expectAlertsMatchSilver(silver: Map<string, Scored>, alerts: Row[]): void {
  const expected = [...silver.values()].filter((s) => s.fraud_score >= 3).map((s) => s.order_id).sort()
  expect(alerts.map((a) => a.order_id)).toEqual(expected)
  for (const a of alerts) {
    const s = silver.get(a.order_id as string)!
    expect(a.fraud_score).toBe(s.fraud_score)
    expect(a.fraud_reasons).toEqual(s.fraud_reasons)
  }
}

describe('amount, status and country rules', () => {
  let ws: Workspace
  let silver: Map<string, Scored>
  let alerts: Row[]

  beforeAll(async () => {
    ws = makeWorkspace()
    writeLines(ws.orders('amounts.jsonl'), [
      order({ order_id: 'amt-2000.00', total_amount: 2000.0 }),
      order({ order_id: 'amt-2000.01', total_amount: 2000.01 }),
      order({ order_id: 'amt-3000.00', total_amount: 3000.0 }),
      order({ order_id: 'amt-3000.01', total_amount: 3000.01 }),
      order({ order_id: 'amt-5000.00', total_amount: 5000.0 }),
      order({ order_id: 'amt-5000.01', total_amount: 5000.01 }),
      order({ order_id: 'amt-99999', total_amount: 99999.99 }),
      order({ order_id: 'st-CANCELLED', status: 'CANCELLED' }),
      order({ order_id: 'st-refunded', status: 'refunded' }),
      order({ order_id: 'st-Refunded', status: 'Refunded' }),
      order({ order_id: 'st-paid', status: 'PAID' }),
      order({ order_id: 'st-cancelled-5000', status: 'cancelled', total_amount: 5000.0 }),
      order({ order_id: 'cty-mismatch', billing_country: 'FR', shipping_country: 'DE' }),
      order({ order_id: 'cty-case', billing_country: 'de', shipping_country: 'DE' }),
      order({ order_id: 'cty-3000.01', billing_country: 'US', shipping_country: 'DE', total_amount: 3000.01 }),
      order({ order_id: 'cty-2000.01', billing_country: 'US', shipping_country: 'DE', total_amount: 2000.01 }),
      order({ order_id: 'all-but-velocity', billing_country: 'US', shipping_country: 'DE', total_amount: 6000, status: 'refunded' })
    ])
    await runPipeline(ws)
    ;({ silver, alerts } = await scoredOrders(ws))
  })

  it('scores amounts strictly above 2000 / 3000 / 5000', () => {
    expectScore(silver, 'amt-2000.00', 0)
    expectScore(silver, 'amt-2000.01', 2, [/^amount [\d,.]+ > 2,000 and amount [\d,.]+ <= 3,000: \+2$/])
    expectScore(silver, 'amt-3000.00', 2, [/^amount [\d,.]+ > 2,000 and amount [\d,.]+ <= 3,000: \+2$/])
    expectScore(silver, 'amt-3000.01', 3, [/^amount [\d,.]+ > 3,000 and amount [\d,.]+ <= 5,000: \+3$/])
    expectScore(silver, 'amt-5000.00', 3, [/^amount [\d,.]+ > 3,000 and amount [\d,.]+ <= 5,000: \+3$/])
    expectScore(silver, 'amt-5000.01', 4, [/^amount [\d,.]+ > 5,000: \+4$/])
    expectScore(silver, 'amt-99999', 4, [/^amount [\d,.]+ > 5,000: \+4$/])
  })

  it('adds 1 for cancelled or refunded status in any letter case', () => {
    expectScore(silver, 'st-CANCELLED', 1, [/^status cancelled in \('cancelled', 'refunded'\): \+1$/])
    expectScore(silver, 'st-refunded', 1, [/^status refunded in \('cancelled', 'refunded'\): \+1$/])
    expectScore(silver, 'st-Refunded', 1, [/^status refunded in \('cancelled', 'refunded'\): \+1$/])
    expectScore(silver, 'st-paid', 0)
    expectScore(silver, 'st-cancelled-5000', 4, [/^amount [\d,.]+ > 3,000 and amount [\d,.]+ <= 5,000: \+3$/, /^status cancelled in \('cancelled', 'refunded'\): \+1$/])
  })

  it('adds 1 when billing and shipping country differ (case-insensitive codes)', () => {
    expectScore(silver, 'cty-mismatch', 1, [/FR.*DE|DE.*FR/])
    expectScore(silver, 'cty-case', 0)
    expectScore(silver, 'cty-3000.01', 4, [/^amount [\d,.]+ > 3,000 and amount [\d,.]+ <= 5,000: \+3$/, /^billing_country US != shipping_country DE: \+1$/])
    expectScore(silver, 'cty-2000.01', 3, [/^amount [\d,.]+ > 2,000 and amount [\d,.]+ <= 3,000: \+2$/, /^billing_country US != shipping_country DE: \+1$/])
    expectScore(silver, 'all-but-velocity', 6, [/^amount [\d,.]+ > 5,000: \+4$/, /^status refunded in \('cancelled', 'refunded'\): \+1$/, /^billing_country US != shipping_country DE: \+1$/])
  })

  it('raises an alert exactly for scores of 3 and more', () => {
    expectAlertsMatchSilver(silver, alerts)
    expect(alerts.map((a) => a.order_id)).toContain('amt-3000.01')
    expect(alerts.map((a) => a.order_id)).not.toContain('amt-3000.00')
    const a = alerts.find((x) => x.order_id === 'cty-3000.01')!
    expect(a).toMatchObject({ total_amount: '3000.01', status: 'paid', billing_country: 'US', shipping_country: 'DE' })
  })
})

describe('new account with a large order', () => {
  let silver: Map<string, Scored>
  let alerts: Row[]
  const orderTs = ts(0)

  beforeAll(async () => {
    const ws = makeWorkspace()
    const signup = (ms: number) => ts(-ms)
    writeLines(ws.customers('customers.jsonl'), [
      customer({ customer_id: 'n-23h59', signup_ts: signup(23 * HOUR + 59 * MIN) }),
      customer({ customer_id: 'n-24h', signup_ts: signup(24 * HOUR) }),
      customer({ customer_id: 'n-24h-minus-1ms', signup_ts: signup(24 * HOUR - 1) }),
      customer({ customer_id: 'n-1h', signup_ts: signup(HOUR) }),
      customer({ customer_id: 'n-old', signup_ts: signup(400 * 24 * HOUR) }),
      // signup written with another offset: 2024-03-01T12:00Z - 23h = 2024-02-29T13:00Z = 15:00+02:00
      customer({ customer_id: 'n-offset', signup_ts: '2024-02-29T15:00:00+02:00' })
    ])
    writeLines(ws.orders('orders.jsonl'), [
      order({ order_id: 'na-23h59-1000.01', customer_id: 'n-23h59', order_ts: orderTs, total_amount: 1000.01 }),
      order({ order_id: 'na-23h59-1000.00', customer_id: 'n-23h59', order_ts: ts(1), total_amount: 1000.0 }),
      order({ order_id: 'na-24h-1000.01', customer_id: 'n-24h', order_ts: orderTs, total_amount: 1000.01 }),
      order({ order_id: 'na-24h-1ms-1000.01', customer_id: 'n-24h-minus-1ms', order_ts: orderTs, total_amount: 1000.01 }),
      order({ order_id: 'na-1h-2500', customer_id: 'n-1h', order_ts: orderTs, total_amount: 2500 }),
      order({ order_id: 'na-old-2500', customer_id: 'n-old', order_ts: orderTs, total_amount: 2500 }),
      order({ order_id: 'na-offset-1500', customer_id: 'n-offset', order_ts: orderTs, total_amount: 1500 }),
      order({ order_id: 'na-unknown-customer', customer_id: 'nobody', order_ts: orderTs, total_amount: 1500 })
    ])
    await runPipeline(ws)
    ;({ silver, alerts } = await scoredOrders(ws))
  })

  it('adds 2 when signup is less than 24 h before the order and the amount is over 1000', () => {
    expectScore(silver, 'na-23h59-1000.01', 2, [/^account_age_hours [\d.]+ < 24 and amount [\d,.]+ > 1,000: \+2$/])
    expectScore(silver, 'na-23h59-1000.00', 0)
    expectScore(silver, 'na-24h-1000.01', 0)
    expectScore(silver, 'na-24h-1ms-1000.01', 2, [/^account_age_hours [\d.]+ < 24 and amount [\d,.]+ > 1,000: \+2$/])
    expectScore(silver, 'na-1h-2500', 4, [/^account_age_hours [\d.]+ < 24 and amount [\d,.]+ > 1,000: \+2$/, /^amount [\d,.]+ > 2,000 and amount [\d,.]+ <= 3,000: \+2$/])
    expectScore(silver, 'na-old-2500', 2, [/^amount [\d,.]+ > 2,000 and amount [\d,.]+ <= 3,000: \+2$/])
    expectScore(silver, 'na-offset-1500', 2, [/^account_age_hours [\d.]+ < 24 and amount [\d,.]+ > 1,000: \+2$/])
    expectScore(silver, 'na-unknown-customer', 0)
  })

  it('raises alerts for the new-account orders that reach 3', () => {
    expectAlertsMatchSilver(silver, alerts)
    expect(alerts.map((a) => a.order_id)).toEqual(['na-1h-2500'])
  })
})

describe('velocity', () => {
  let ws: Workspace
  let silver: Map<string, Scored>
  let alerts: Row[]

  beforeAll(async () => {
    ws = makeWorkspace()
    writeLines(ws.orders('a-batch1.jsonl'), [
      // exactly 10 minutes between the first and the third: the third counts 3 → +2
      order({ order_id: 'v1-a', customer_id: 'v1', order_ts: ts(0) }),
      order({ order_id: 'v1-b', customer_id: 'v1', order_ts: ts(5 * MIN) }),
      order({ order_id: 'v1-c', customer_id: 'v1', order_ts: ts(10 * MIN) }),
      order({ order_id: 'v1-d', customer_id: 'v1', order_ts: ts(10 * MIN + 1) }),
      // 10 minutes + 1 ms: the first falls out of the third's window
      order({ order_id: 'v2-a', customer_id: 'v2', order_ts: ts(0) }),
      order({ order_id: 'v2-b', customer_id: 'v2', order_ts: ts(5 * MIN) }),
      order({ order_id: 'v2-c', customer_id: 'v2', order_ts: ts(10 * MIN + 1) }),
      // other customers' orders in the window do not count
      order({ order_id: 'v3-a', customer_id: 'v3', order_ts: ts(MIN) }),
      order({ order_id: 'v4-a', customer_id: 'v4', order_ts: ts(MIN) }),
      // duplicates and quarantined lines are not orders: v5-c is only the 2nd order of v5
      order({ order_id: 'v5-a', customer_id: 'v5', order_ts: ts(MIN) }),
      order({ order_id: 'v5-a', customer_id: 'v5', order_ts: ts(MIN) }),
      order({ order_id: 'v5-bad', customer_id: 'v5', order_ts: ts(2 * MIN), status: 'lost' }),
      order({ order_id: 'v5-c', customer_id: 'v5', order_ts: ts(3 * MIN) }),
      // same timestamp three times: all in the window of the third
      order({ order_id: 'v6-a', customer_id: 'v6', order_ts: ts(4 * MIN) }),
      order({ order_id: 'v6-b', customer_id: 'v6', order_ts: ts(4 * MIN) }),
      order({ order_id: 'v6-c', customer_id: 'v6', order_ts: ts(4 * MIN) }),
      // two orders in batch 1, the third and fourth in batch 2
      order({ order_id: 'x-a', customer_id: 'x', order_ts: ts(2 * MIN) }),
      order({ order_id: 'x-b', customer_id: 'x', order_ts: ts(6 * MIN) }),
      // velocity together with a large amount makes an alert
      order({ order_id: 'y-a', customer_id: 'y', order_ts: ts(2 * MIN) }),
      order({ order_id: 'y-b', customer_id: 'y', order_ts: ts(3 * MIN) })
    ])
    await runPipeline(ws)
    writeLines(ws.orders('b-batch2.jsonl'), [
      order({ order_id: 'x-c', customer_id: 'x', order_ts: ts(8 * MIN) }),
      order({ order_id: 'x-d', customer_id: 'x', order_ts: ts(9 * MIN) }),
      order({ order_id: 'y-c', customer_id: 'y', order_ts: ts(4 * MIN), total_amount: 2500 }),
      // only v2-c is within the 10 minutes before v2-d: no velocity
      order({ order_id: 'v2-d', customer_id: 'v2', order_ts: ts(15 * MIN + 2) })
    ])
    await runPipeline(ws)
    ;({ silver, alerts } = await scoredOrders(ws))
  })

  it('counts orders exactly 10 minutes apart as inside the window', () => {
    expectScore(silver, 'v1-a', 0)
    expectScore(silver, 'v1-b', 0)
    expectScore(silver, 'v1-c', 2, [/^orders_last_10m 3 >= 3: \+2$/])
    expectScore(silver, 'v1-d', 2, [/^orders_last_10m 3 >= 3: \+2$/]) // v1-b, v1-c, v1-d (v1-a is 10 min + 1 ms older)
  })

  it('does not count an order 10 minutes + 1 ms older', () => {
    expectScore(silver, 'v2-a', 0)
    expectScore(silver, 'v2-b', 0)
    expectScore(silver, 'v2-c', 0)
  })

  it('counts only orders of the same customer, without duplicates or quarantined lines', () => {
    expectScore(silver, 'v3-a', 0)
    expectScore(silver, 'v4-a', 0)
    expectScore(silver, 'v5-a', 0)
    expectScore(silver, 'v5-c', 0)
    expect(silver.has('v5-bad')).toBe(false)
  })

  it('treats equal timestamps as inside the window', () => {
    expectScore(silver, 'v6-a', 0)
    expectScore(silver, 'v6-b', 0)
    expectScore(silver, 'v6-c', 2, [/^orders_last_10m 3 >= 3: \+2$/])
  })

  it('counts orders of earlier batches', () => {
    expectScore(silver, 'x-a', 0)
    expectScore(silver, 'x-b', 0)
    expectScore(silver, 'x-c', 2, [/^orders_last_10m 3 >= 3: \+2$/])
    expectScore(silver, 'x-d', 2, [/^orders_last_10m 4 >= 3: \+2$/])
    expectScore(silver, 'y-c', 4, [/^orders_last_10m 3 >= 3: \+2$/, /^amount [\d,.]+ > 2,000 and amount [\d,.]+ <= 3,000: \+2$/])
    expectScore(silver, 'v2-d', 0)
  })

  it('alerts on velocity only when the score reaches 3', () => {
    expectAlertsMatchSilver(silver, alerts)
    expect(alerts.map((a) => a.order_id)).toEqual(['y-c'])
  })
})

describe('alert threshold', () => {
  it('follows fraudThreshold: with threshold 2, a score of 2 alerts', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('o.jsonl'), [
      order({ order_id: 't-1', total_amount: 2000.01 }),
      order({ order_id: 't-0', total_amount: 2000.0 }),
      order({ order_id: 't-c', billing_country: 'FR' })
    ])
    await runPipeline(ws, { fraudThreshold: 2 })
    const { silver, alerts } = await scoredOrders(ws)
    expect(alerts.map((a) => a.order_id)).toEqual(['t-1'])
    expect(silver.get('t-1')!.fraud_score).toBe(2)
  })
})
