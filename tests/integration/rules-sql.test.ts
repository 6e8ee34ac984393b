import { BOOLEAN, DOUBLE, DuckDBInstance, LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkRuleset, listSetFromJson, listValues, scoredSql, SqlParams, type ListSet, type Ruleset } from '../../src/main/rules'

// Compiled conditions run by DuckDB over a table of rule inputs, each checked against the same
// condition written by hand in JavaScript (a condition about an unknown value is not met).
// Also: values never appear in the SQL text, a quote in a value stays a value, and the inputs
// line of a fired rule shows each attribute's value.

interface Inputs {
  order_id: string
  amount: number | null
  currency: string
  status: string
  channel: string
  payment_method: string | null
  shipping_country: string
  billing_country: string
  customer_segment: string | null
  customer_id: string
  account_age_hours: number | null
  orders_last_10m: number
  items_count: number
  categories: string[] | null
  order_hour: number
  order_weekday: number
  is_cross_border: boolean
}

const base: Omit<Inputs, 'order_id'> = {
  amount: 100,
  currency: 'USD',
  status: 'paid',
  channel: 'web',
  payment_method: 'credit_card',
  shipping_country: 'DE',
  billing_country: 'DE',
  customer_segment: 'regular',
  customer_id: 'c-0',
  account_age_hours: 1000,
  orders_last_10m: 1,
  items_count: 1,
  categories: ['books'],
  order_hour: 12,
  order_weekday: 3,
  is_cross_border: false
}

const ROWS: Inputs[] = [
  { ...base, order_id: 'o1', amount: 5200, customer_segment: 'vip', customer_id: 'c-1', account_age_hours: 3.5, items_count: 2, categories: ['electronics'], order_hour: 3, order_weekday: 1 },
  { ...base, order_id: 'o2', amount: 5000, status: 'refunded', channel: 'mobile', payment_method: 'gift_card', shipping_country: 'FR', customer_segment: 'new', customer_id: 'c-2', account_age_hours: 400, orders_last_10m: 3, categories: ['books', 'toys'], order_hour: 23, order_weekday: 7, is_cross_border: true },
  { ...base, order_id: 'o3', amount: null, status: 'cancelled', channel: 'marketplace', payment_method: null, shipping_country: 'US', billing_country: 'US', customer_segment: null, customer_id: 'c-3', account_age_hours: null, orders_last_10m: 5, items_count: 0, categories: [], order_hour: 0 },
  { ...base, order_id: 'o4', amount: 2000.01, payment_method: "x' OR 1=1 --", shipping_country: 'GB', billing_country: 'GB', customer_id: 'c-blocked', account_age_hours: -1, orders_last_10m: 2, items_count: 10, categories: ['phones & accessories'], order_weekday: 5 },
  { ...base, order_id: 'o5', amount: 0.5, status: 'placed', customer_id: 'c-5', categories: null, billing_country: 'NG', is_cross_border: true, order_hour: 1 },
  { ...base, order_id: 'o6', amount: 3000, status: 'shipped', currency: 'EUR', customer_id: 'c-6', account_age_hours: 23.999, orders_last_10m: 4, items_count: 5, categories: ['electronics', 'toys'] }
]

const LISTS: ListSet = listSetFromJson({
  lists: [
    { name: 'blocked', values: ['c-blocked', 'c-2'] },
    // large enough that a scan per order would show; membership is a hash semi-join
    { name: 'big', values: [...Array.from({ length: 50_000 }, (_, i) => `x-${i}`), 'c-3'] },
    { name: 'empty', values: [] }
  ]
})

let instance: DuckDBInstance
let conn: DuckDBConnection

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:')
  conn = await instance.connect()
  await conn.run(`CREATE TABLE inputs (order_id VARCHAR, amount DOUBLE, currency VARCHAR, status VARCHAR, channel VARCHAR, payment_method VARCHAR,
    shipping_country VARCHAR, billing_country VARCHAR, customer_segment VARCHAR, customer_id VARCHAR, account_age_hours DOUBLE,
    orders_last_10m DOUBLE, items_count DOUBLE, categories VARCHAR[], order_hour DOUBLE, order_weekday DOUBLE, is_cross_border BOOLEAN)`)
  for (const r of ROWS) {
    const cols = Object.keys(r) as (keyof Inputs)[]
    const types = cols.map((c) => (c === 'categories' ? LIST(VARCHAR) : typeof base[c as keyof typeof base] === 'number' ? DOUBLE : c === 'is_cross_border' ? BOOLEAN : VARCHAR))
    const values = cols.map((c) => (c === 'categories' ? (r.categories === null ? null : listValue(r.categories)) : r[c]))
    await conn.run(`INSERT INTO inputs (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, values, types)
  }
})

afterAll(() => {
  conn?.closeSync()
  instance?.closeSync()
})

async function evaluate(ruleset: Ruleset): Promise<{ sql: string; rows: { order_id: string; score: number; fired: number[]; inputs: string[] }[] }> {
  const checked = checkRuleset(ruleset, LISTS)
  const params = new SqlParams()
  const sql = scoredSql(checked, 'SELECT * FROM inputs', { params, lists: listValues(LISTS) }, { inputs: true })
  const result = await conn.runAndReadAll(`SELECT order_id, rules_score, rules_fired, rules_inputs FROM (${sql}) ORDER BY order_id`, params.values, params.types)
  return {
    sql,
    rows: result.getRowObjectsJS().map((r) => ({
      order_id: r.order_id as string,
      score: Number(r.rules_score),
      fired: (r.rules_fired as number[]).map(Number),
      inputs: r.rules_inputs as string[]
    }))
  }
}

async function firedOn(when: string): Promise<string[]> {
  const { rows } = await evaluate({ threshold: 1, rules: [{ id: 'r', description: '', when, points: 1 }] })
  return rows.filter((r) => r.fired.length > 0).map((r) => r.order_id)
}

const known = <T>(v: T | null): v is T => v !== null

const CASES: [string, (r: Inputs) => boolean][] = [
  ['amount > 5000', (r) => known(r.amount) && r.amount > 5000],
  ['amount >= 5000', (r) => known(r.amount) && r.amount >= 5000],
  ['amount > 3000 and amount <= 5000', (r) => known(r.amount) && r.amount > 3000 && r.amount <= 5000],
  ['amount < 1 or amount = 2000.01', (r) => known(r.amount) && (r.amount < 1 || r.amount === 2000.01)],
  ['not (amount > 1000)', (r) => known(r.amount) && !(r.amount > 1000)],
  ['amount * 2 - 1 >= 10000 - 1', (r) => known(r.amount) && r.amount * 2 - 1 >= 10000 - 1],
  ['amount / 4 % 3 = 2', (r) => known(r.amount) && (r.amount / 4) % 3 === 2],
  ['-amount < -2000', (r) => known(r.amount) && -r.amount < -2000],
  ["status in ('cancelled', 'refunded')", (r) => ['cancelled', 'refunded'].includes(r.status)],
  ["status not in ('cancelled', 'refunded', 'placed')", (r) => !['cancelled', 'refunded', 'placed'].includes(r.status)],
  ["not status = 'paid'", (r) => r.status !== 'paid'],
  ["currency != 'USD'", (r) => r.currency !== 'USD'],
  ["channel = 'web' and payment_method = 'credit_card'", (r) => r.channel === 'web' && r.payment_method === 'credit_card'],
  ["payment_method != 'credit_card'", (r) => known(r.payment_method) && r.payment_method !== 'credit_card'],
  ['payment_method is null', (r) => r.payment_method === null],
  ['billing_country != shipping_country', (r) => r.billing_country !== r.shipping_country],
  ["shipping_country in ('US', 'GB') or billing_country = 'NG'", (r) => ['US', 'GB'].includes(r.shipping_country) || r.billing_country === 'NG'],
  ["customer_segment = 'vip' or customer_segment = 'new'", (r) => r.customer_segment === 'vip' || r.customer_segment === 'new'],
  ["not customer_segment = 'vip'", (r) => known(r.customer_segment) && r.customer_segment !== 'vip'],
  ['customer_segment is not null', (r) => r.customer_segment !== null],
  ["customer_id in list('blocked')", (r) => ['c-blocked', 'c-2'].includes(r.customer_id)],
  ["customer_id not in list('blocked')", (r) => !['c-blocked', 'c-2'].includes(r.customer_id)],
  ["customer_id in list('big')", (r) => r.customer_id === 'c-3'],
  ["customer_id in list('empty')", () => false],
  ["customer_id not in list('empty')", () => true],
  ['account_age_hours < 24', (r) => known(r.account_age_hours) && r.account_age_hours < 24],
  ['account_age_hours < 24 and amount > 1000', (r) => known(r.account_age_hours) && r.account_age_hours < 24 && known(r.amount) && r.amount > 1000],
  ['orders_last_10m >= 3', (r) => r.orders_last_10m >= 3],
  ['items_count in (0, 10)', (r) => [0, 10].includes(r.items_count)],
  ["'electronics' in categories", (r) => known(r.categories) && r.categories.includes('electronics')],
  ["'electronics' not in categories", (r) => known(r.categories) && !r.categories.includes('electronics')],
  ["'phones & accessories' in categories or 'toys' in categories", (r) => known(r.categories) && (r.categories.includes('phones & accessories') || r.categories.includes('toys'))],
  ['categories is null', (r) => r.categories === null],
  ['order_hour < 6 and order_weekday in (1, 7)', (r) => r.order_hour < 6 && [1, 7].includes(r.order_weekday)],
  ['is_cross_border', (r) => r.is_cross_border],
  ['not is_cross_border and true', (r) => !r.is_cross_border],
  ['is_cross_border = false', (r) => !r.is_cross_border],
  ['false or 1 = 1', () => true]
]

describe('conditions select the orders a hand-written JavaScript predicate selects', () => {
  it.each(CASES)('%s', async (when, predicate) => {
    expect(await firedOn(when)).toEqual(ROWS.filter(predicate).map((r) => r.order_id))
  })

  it('the cases cover every row both ways', () => {
    for (const r of ROWS) {
      expect(CASES.some(([, p]) => p(r))).toBe(true)
      expect(CASES.some(([, p]) => !p(r))).toBe(true)
    }
  })
})

describe('values are bound, never written into SQL', () => {
  it('keeps every literal out of the SQL text', async () => {
    const { sql } = await evaluate({
      threshold: 1,
      rules: [{ id: 'r', description: '', when: "payment_method = 'zebra-42' or amount > 123456.789 or customer_id in list('blocked')", points: 3 }]
    })
    for (const v of ['zebra', '123456', 'c-blocked', 'c-2']) expect(sql).not.toContain(v)
  })

  it('treats a quote and SQL in a string as the value it is', async () => {
    expect(await firedOn("payment_method = 'x'' OR 1=1 --'")).toEqual(['o4'])
    expect(await firedOn("payment_method = 'x'' OR ''1''=''1'")).toEqual([])
    // nothing was dropped or changed
    expect(Number((await conn.runAndReadAll('SELECT count(*) FROM inputs')).getRows()[0][0])).toBe(ROWS.length)
  })
})

describe('score, rules fired and their inputs', () => {
  it('adds the points of the rules that fired, negative points included', async () => {
    const { rows } = await evaluate({
      threshold: 3,
      rules: [
        { id: 'big', description: '', when: 'amount > 2000', points: 4 },
        { id: 'returns', description: '', when: "status in ('cancelled', 'refunded')", points: 1 },
        { id: 'trusted', description: '', when: "customer_segment = 'vip'", points: -3 }
      ]
    })
    const expected = ROWS.map((r) => {
      const fired = [known(r.amount) && r.amount > 2000, ['cancelled', 'refunded'].includes(r.status), r.customer_segment === 'vip']
      const points = [4, 1, -3]
      return {
        order_id: r.order_id,
        score: fired.reduce((s, f, k) => s + (f ? points[k] : 0), 0),
        fired: fired.flatMap((f, k) => (f ? [k] : []))
      }
    })
    expect(rows.map(({ order_id, score, fired }) => ({ order_id, score, fired }))).toEqual(expected)
  })

  it('scores 0 with no rules', async () => {
    const { rows } = await evaluate({ threshold: 1, rules: [] })
    expect(rows.map((r) => [r.score, r.fired, r.inputs])).toEqual(ROWS.map(() => [0, [], []]))
  })

  it.each([
    ['o1', 'amount > 5000', 4, 'amount 5,200 > 5,000: +4'],
    ['o4', 'amount > 2000', 2, 'amount 2,000.01 > 2,000: +2'],
    ['o5', 'amount < 1', 1, 'amount 0.5 < 1: +1'],
    ['o6', 'account_age_hours < 24', 2, 'account_age_hours 23.999 < 24: +2'],
    ['o4', 'account_age_hours < 0', 1, 'account_age_hours -1 < 0: +1'],
    ['o2', 'billing_country != shipping_country', 1, 'billing_country DE != shipping_country FR: +1'],
    ['o2', "status in ('cancelled', 'refunded')", 1, "status refunded in ('cancelled', 'refunded'): +1"],
    ['o3', 'customer_segment is null and amount is null', 5, 'customer_segment unknown is null and amount unknown is null: +5'],
    ['o2', "customer_id in list('blocked')", 10, "customer_id c-2 in list('blocked'): +10"],
    ['o6', "'electronics' in categories and items_count >= 5", 2, "'electronics' in categories [electronics, toys] and items_count 5 >= 5: +2"],
    ['o1', "(amount > 1 or status = 'placed') and not is_cross_border", 1, "(amount 5,200 > 1 or status paid = 'placed') and not is_cross_border false: +1"],
    ['o1', 'amount - (1 + 1) > 2 * (3 - 1)', 1, 'amount 5,200 - (1 + 1) > 2 * (3 - 1): +1'],
    ['o1', "shipping_country in ('US', 'DE', 'FR', 'GB', 'IT', 'ES', 'NL')", 1, "shipping_country DE in ('US', 'DE', 'FR', 'GB', 'IT', … 2 more): +1"],
    ['o1', "customer_segment = 'vip'", -3, "customer_segment vip = 'vip': -3"],
    ['o4', "payment_method = 'x'' OR 1=1 --'", 1, "payment_method x' OR 1=1 -- = 'x'' OR 1=1 --': +1"]
  ] as const)('%s: %s', async (orderId, when, points, text) => {
    const { rows } = await evaluate({ threshold: 1, rules: [{ id: 'r', description: '', when, points }] })
    expect(rows.find((r) => r.order_id === orderId)!.inputs).toEqual([text])
  })
})
