import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventFactory } from '../../src/main/generator'
import { customerValidationCtes, orderValidationCtes, type ValidationContext } from '../../src/main/lake/validation-sql'
import { DEFAULT_FX_RATES } from '../../src/shared/settings'
import { customer, order } from '../support/lake-fixtures'

// Validation has a fast gate for the common case and a field-by-field diagnosis for the rest.
// The gate is only a shortcut: a line must get the same verdict and the same reason whether the
// gate ran or every line was diagnosed. Here both run over the generator's output and over
// lines around every boundary the checks draw (timestamps, codes, rates, amounts, items).

const CLOCK = '2026-06-01T12:00:00.000Z'
const ctxUsd: ValidationContext = {
  clock: CLOCK,
  maxFutureSkewMinutes: 15,
  ratedCurrencies: Object.keys(DEFAULT_FX_RATES),
  reportingCurrency: 'USD'
}
const ctxEur: ValidationContext = { clock: CLOCK, maxFutureSkewMinutes: 0, ratedCurrencies: ['USD'], reportingCurrency: 'EUR' }

const TIMES = [
  '2026-06-01T12:00:00Z',
  '2026-06-01T12:15:00.000Z',
  '2026-06-01T12:15:00.001Z',
  '2026-06-01T14:14:59+02:00',
  '2026-06-01T14:16:00+02:00',
  '2031-12-01T00:00:00Z',
  '2024-03-01T12:00:00+99:99',
  '2024-03-01T12:00:00+14:00',
  '2024-03-01T12:00:00+14:01',
  '2024-03-01T12:00:00-14:00',
  '2024-03-01T12:00:00-1400',
  '2024-03-01T12:00:00+1401',
  '2024-03-01T12:00:00+13:59',
  '2024-03-01T12:00:00+00:60',
  '2024-03-01T12:00:00+0099',
  '2024-03-01T12:00:00+14',
  '2024-03-01T12:00:00+15',
  '2024-03-01T12:00:00-00',
  '2024-03-01 12:00:00Z',
  '2024-03-01T12:00Z',
  '2024-03-01T12:00:00',
  '2024-03-01T12:00:00z',
  '2024-02-30T12:00:00Z',
  '2024-03-01T24:00:00Z',
  '0000-01-01T00:00:00Z',
  '1899-12-31T23:59:59Z',
  '1900-01-01T00:00:00Z',
  '1900-01-01T00:00:00+01:00',
  '9999-12-31T23:59:59-01:00',
  '10000-01-01T00:00:00Z',
  '  2024-03-01T12:00:00Z  ',
  '',
  'yesterday'
]
const CURRENCIES = ['USD', 'usd', ' eur ', 'GBP', 'CAD', 'AUD', 'SEK', 'XYZ', 'XXX', 'EURO', 'E1R', '', 'HRK']
const COUNTRIES = ['US', 'us', ' gb ', 'ZZ', 'UK', 'XK', 'EU', 'DEU', 'D', '', 'G1', 'é1', 'AQ']
const AMOUNTS: [number | string | null, unknown[]][] = [
  [25, [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: 25 }]],
  [25.011, [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: 25 }]],
  [-1, [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: -1 }]],
  ['25', [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: 25 }]],
  [0, []],
  [1e13, [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: 1e13 }]]
]

const ITEM = { product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: 25 }
// items are parsed with the line into objects; these shapes check that the gate and the
// diagnosis still see what the JSON held
const ITEM_SHAPES: unknown[] = [
  'items',
  null,
  { ...ITEM },
  [25],
  [null],
  [[ITEM]],
  [{ ...ITEM, quantity: '1' }],
  [{ ...ITEM, product_id: { id: 'p' } }],
  [{ ...ITEM, category: ['c'] }],
  [{ ...ITEM, extra: { deep: [[[1]]] } }],
  [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1 }],
  [ITEM, 7]
]

const BASE_ORDER = order({ order_id: 'o', customer_id: 'c', order_ts: '2026-06-01T11:00:00Z' })
const orderLine = (over: Record<string, unknown>) => JSON.stringify({ ...BASE_ORDER, ...over })

function orderLines(): string[] {
  const base = orderLine
  const lines: string[] = []
  for (const t of TIMES) lines.push(base({ order_ts: t }))
  for (const c of CURRENCIES) lines.push(base({ currency: c }))
  for (const c of COUNTRIES) lines.push(base({ shipping_country: c }), base({ billing_country: c }))
  for (const [total_amount, items] of AMOUNTS) lines.push(base({ total_amount, items }))
  for (const items of ITEM_SHAPES) lines.push(base({ total_amount: 25, items }))
  // two problems at once: the diagnosis reports the first in its order, whatever the gate did
  for (const t of TIMES.slice(0, 12)) for (const c of ['SEK', 'XYZ', 'usd']) lines.push(base({ order_ts: t, currency: c, shipping_country: 'ZZ' }))
  lines.push('{"order_id": ', 'null', '[]', '{}')
  const events = new EventFactory({ seed: 21, now: () => Date.parse(CLOCK), fraudRate: 0.2, lateRate: 0.05 }).take(2000)
  lines.push(...events.orders.map((o) => JSON.stringify(o)))
  return lines
}

function customerLines(): string[] {
  const base = (over: Record<string, unknown>) => JSON.stringify(customer({ customer_id: 'c', signup_ts: '2025-01-01T00:00:00Z', ...over }))
  const events = new EventFactory({ seed: 22, now: () => Date.parse(CLOCK) }).take(500)
  return [
    ...TIMES.map((t) => base({ signup_ts: t })),
    ...COUNTRIES.map((c) => base({ country: c })),
    ...events.customers.map((c) => JSON.stringify(c))
  ]
}

let db: DuckDBInstance
let conn: DuckDBConnection

async function stage(table: string, lines: string[]): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE ${table} (raw VARCHAR, i BIGINT)`)
  const app = await conn.createAppender(table)
  lines.forEach((l, i) => {
    app.appendVarchar(l)
    app.appendBigInt(BigInt(i))
    app.endRow()
  })
  app.flushSync()
  app.closeSync()
}

/** [fast_ok, reason] of every line, in line order. */
async function verdicts(table: string, ctes: string): Promise<[boolean, string | null][]> {
  const r = await conn.runAndReadAll(`WITH src AS (
      SELECT 'test' AS source, i AS byte_offset, NULL::INTEGER AS kafka_partition, NULL::BIGINT AS kafka_offset,
        NULL::VARCHAR AS kafka_key, NULL::TIMESTAMPTZ AS kafka_timestamp, raw, i AS pos FROM ${table}), ${ctes}
    SELECT fast_ok, reason FROM v ORDER BY pos`)
  return r.getRows().map(([ok, reason]) => [ok === true, reason === null ? null : String(reason)])
}

beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:')
  conn = await db.connect()
  await stage('order_lines', orderLines())
  await stage('customer_lines', customerLines())
})

afterAll(() => {
  conn?.closeSync()
  db?.closeSync()
})

function compare(lines: string[], gated: [boolean, string | null][], diagnosed: [boolean, string | null][]): void {
  expect(gated).toHaveLength(lines.length)
  const differing = lines.flatMap((line, i) => (gated[i][1] === diagnosed[i][1] ? [] : [{ line, gate: gated[i][1], diagnosis: diagnosed[i][1] }]))
  expect(differing).toEqual([])
  // not vacuous: the gate passed lines and the diagnosis rejected others
  expect(gated.filter(([ok]) => ok).length).toBeGreaterThan(lines.length / 2)
  expect(diagnosed.filter(([, reason]) => reason !== null).length).toBeGreaterThan(20)
  expect(diagnosed.every(([ok]) => !ok)).toBe(true)
}

describe('the validation gate never decides differently from the diagnosis', () => {
  for (const [name, ctx] of [
    ['USD with the default rates', ctxUsd],
    ['EUR, only USD rated, no clock skew', ctxEur]
  ] as const) {
    it(`orders (${name})`, async () => {
      const gated = await verdicts('order_lines', orderValidationCtes(ctx))
      const diagnosed = await verdicts('order_lines', orderValidationCtes({ ...ctx, gate: false }))
      compare(orderLines(), gated, diagnosed)
    })
    it(`customers (${name})`, async () => {
      const gated = await verdicts('customer_lines', customerValidationCtes(ctx))
      const diagnosed = await verdicts('customer_lines', customerValidationCtes({ ...ctx, gate: false }))
      compare(customerLines(), gated, diagnosed)
    })
  }

  it('gives the reasons a person needs for each boundary', async () => {
    const lines = orderLines()
    const reasons = new Map(lines.map((l, i) => [l, i]))
    const diagnosed = await verdicts('order_lines', orderValidationCtes({ ...ctxUsd, gate: false }))
    const reasonFor = (over: Record<string, unknown>) => {
      const line = orderLine(over)
      const i = reasons.get(line)
      if (i === undefined) throw new Error(`not in the corpus: ${line}`)
      return diagnosed[i][1]
    }
    expect(reasonFor({ order_ts: '2026-06-01T12:15:00.000Z' })).toBeNull()
    expect(reasonFor({ order_ts: '2026-06-01T12:15:00.001Z' })).toBe(
      `order_ts 2026-06-01T12:15:00.001Z is more than 15 min ahead of this machine's clock at ingest (${CLOCK}); the limit is pipeline.maxFutureSkewMinutes = 15`
    )
    expect(reasonFor({ order_ts: '2024-03-01T12:00:00-1400' })).toBeNull()
    expect(reasonFor({ order_ts: '2024-03-01T12:00:00+0099' })).toMatch(/^order_ts has offset \+0099, outside/)
    expect(reasonFor({ order_ts: '10000-01-01T00:00:00Z' })).toMatch(/^order_ts is not an ISO-8601 timestamp/)
    expect(reasonFor({ currency: 'XXX' })).toBe('no exchange rate for XXX: add one to reporting.fxRates (USD per XXX)')
    expect(reasonFor({ currency: 'HRK' })).toBe('currency HRK is not an ISO 4217 currency code')
    expect(reasonFor({ shipping_country: 'AQ' })).toBeNull()
    expect(reasonFor({ billing_country: 'EU' })).toBe('billing_country EU is not an ISO 3166-1 alpha-2 country code')
    const itemsReason = (items: unknown) => reasonFor({ total_amount: 25, items })
    expect(itemsReason('items')).toBe('wrong type for items: expected an array, got a string')
    expect(itemsReason(null)).toBe('missing field items')
    expect(itemsReason({ ...ITEM })).toBe('wrong type for items: expected an array, got an object')
    expect(itemsReason([25])).toBe('items[0] is not an object (got a number)')
    expect(itemsReason([[ITEM]])).toBe('items[0] is not an object (got an array)')
    expect(itemsReason([{ ...ITEM, quantity: '1' }])).toBe('wrong type for items[0].quantity: expected an integer')
    expect(itemsReason([{ ...ITEM, product_id: { id: 'p' } }])).toBe('wrong type for items[0].product_id: expected a string')
    expect(itemsReason([{ ...ITEM, extra: { deep: [[[1]]] } }])).toBeNull()
    expect(itemsReason([{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1 }])).toBe('items[0] is missing unit_price')
    expect(itemsReason([ITEM, 7])).toBe('items[1] is not an object (got a number)')
    expect(reasonFor({ order_ts: '2031-12-01T00:00:00Z', currency: 'SEK', shipping_country: 'ZZ' })).toMatch(/^order_ts 2031-12-01T00:00:00Z is more than 15 min ahead/)
  })
})
