import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventFactory, FileSink, runGenerator } from '../../src/main/generator'
import { acquireLake } from '../../src/main/lake/lake-registry'
import type { Lake } from '../../src/main/lake/lake'
import {
  backtest,
  checkRuleset,
  defaultRuleset,
  importListFile,
  LabelsTableError,
  listSetFromJson,
  TimeRangeError,
  withList,
  type BacktestReport,
  type ListSet,
  type Ruleset
} from '../../src/main/rules'
import { cleanupTempDirs, makeWorkspace, MIN, order, runPipeline, ts, writeLines, type Workspace } from '../support/lake-fixtures'

// The backtest on a real lake, against answers computed here without the rules module: plain
// SQL over silver_orders written by hand for each question, silver's own fraud_rules, and
// velocity counts known by construction. The lake holds a generator round (realistic orders)
// and hand-written orders for velocity, out-of-order arrival and the range's edges.

afterAll(cleanupTempDirs)

const GEN_START = Date.now() - 3 * 24 * 3600_000
/** The generator's orders span about 5 minutes from GEN_START; the range cuts both ends off. */
const GEN_RANGE = { from: new Date(GEN_START + MIN).toISOString(), to: new Date(GEN_START + 4 * MIN).toISOString() }
/** Hand-written orders, a day after the generator's. */
const HAND = new Date(GEN_START + 24 * 3600_000).toISOString()
const at = (minutes: number) => ts(minutes * MIN, HAND)
const HAND_RANGE = { from: at(0), to: at(60) }

let ws: Workspace
let lake: Lake
let conn: DuckDBConnection
const none: ListSet = new Map()

async function ids(sql: string, params: unknown[] = []): Promise<string[]> {
  const r = await lake.reader.runAndReadAll(sql, params as never[])
  return r.getRows().map((row) => String(row[0]))
}

/** Order ids of silver in a range, newest first as the backtest samples them. */
const inRange = (cond: string) => `SELECT order_id FROM silver_orders WHERE order_ts >= $1::TIMESTAMPTZ AND order_ts < $2::TIMESTAMPTZ AND (${cond}) ORDER BY order_ts DESC, order_id`

async function run(ruleset: Ruleset, range: { from?: string; to?: string }, extra: { lists?: ListSet; labelsTable?: string; sampleSize?: number } = {}): Promise<BacktestReport> {
  const lists = extra.lists ?? none
  return backtest(conn, { candidate: checkRuleset(ruleset, lists), lists, currentThreshold: 3, ...range, labelsTable: extra.labelsTable, sampleSize: extra.sampleSize })
}

/** A sample is the first n of the expected ids, newest first. */
function expectSample(sample: string[], expected: string[], n: number): void {
  expect(sample).toEqual(expected.slice(0, n))
}

beforeAll(async () => {
  ws = makeWorkspace()
  let t = GEN_START
  const factory = new EventFactory({ seed: 7, fraudRate: 0.15, lateRate: 0.02, now: () => (t += 100) })
  await runGenerator({ sink: new FileSink({ dir: ws.input, tag: 'bt' }), factory, pace: { kind: 'max' }, count: 3000, batchSize: 500 })
  await runPipeline(ws)

  // Velocity by construction. v1: 4 orders in 8 minutes → counts 1, 2, 3, 4.
  // v2: 10:00 and 10:08 in batch 1, then 10:05 arrives in batch 2: processed after 10:08, it
  //     counts 2 (10:00 and itself), and 10:08 keeps 2 — counting by time alone would give it 3.
  // v3: one order 5 minutes before the range, one 2 minutes into it: the second counts 2.
  // Edges: one order exactly at the range's start (in), one exactly at its end (out).
  writeLines(ws.orders('hand-1.jsonl'), [
    order({ order_id: 'v1-a', customer_id: 'v1', order_ts: at(10) }),
    order({ order_id: 'v1-b', customer_id: 'v1', order_ts: at(12) }),
    order({ order_id: 'v1-c', customer_id: 'v1', order_ts: at(15), total_amount: 2500 }),
    order({ order_id: 'v1-d', customer_id: 'v1', order_ts: at(18) }),
    order({ order_id: 'v2-a', customer_id: 'v2', order_ts: at(30) }),
    order({ order_id: 'v2-c', customer_id: 'v2', order_ts: at(38) }),
    order({ order_id: 'v3-a', customer_id: 'v3', order_ts: at(-5) }),
    order({ order_id: 'v3-b', customer_id: 'v3', order_ts: at(2) }),
    order({ order_id: 'edge-from', customer_id: 'e1', order_ts: at(0), total_amount: 6000 }),
    order({ order_id: 'edge-to', customer_id: 'e2', order_ts: at(60), total_amount: 6000 }),
    order({ order_id: 'blocked-1', customer_id: 'bad-1', order_ts: at(40), payment_method: 'gift_card', total_amount: 800 }),
    order({ order_id: 'blocked-2', customer_id: 'bad-2', order_ts: at(41), status: 'refunded', total_amount: 2100 })
  ])
  await runPipeline(ws)
  writeLines(ws.orders('hand-2.jsonl'), [order({ order_id: 'v2-b', customer_id: 'v2', order_ts: at(35) })])
  await runPipeline(ws)

  lake = await acquireLake(ws.lake, { create: false })
  conn = await lake.connect()
})

afterAll(async () => {
  conn?.closeSync()
  await lake?.close()
})

describe('a raised threshold loses exactly the alerts that scored below it', () => {
  let report: BacktestReport
  let scored3: string[]
  let alerts3: string[]
  let alerts4: string[]
  let all: string[]

  beforeAll(async () => {
    report = await run({ ...defaultRuleset(), threshold: 4 }, GEN_RANGE)
    const p = [GEN_RANGE.from, GEN_RANGE.to]
    all = await ids(inRange('true'), p)
    alerts3 = await ids(inRange('fraud_score >= 3'), p)
    alerts4 = await ids(inRange('fraud_score >= 4'), p)
    scored3 = await ids(inRange('fraud_score = 3'), p)
  })

  it('counts the orders and alerts of the range', () => {
    expect(scored3.length).toBeGreaterThan(20)
    expect(report).toMatchObject({
      from: GEN_RANGE.from,
      to: GEN_RANGE.to,
      current_threshold: 3,
      candidate_threshold: 4,
      orders: all.length,
      current_alerts: alerts3.length,
      candidate_alerts: alerts4.length,
      gained: 0,
      lost: scored3.length
    })
  })

  it('samples the orders behind each count, newest first', () => {
    expectSample(report.samples.lost, scored3, 10)
    expectSample(report.samples.current_alerts, alerts3, 10)
    expectSample(report.samples.candidate_alerts, alerts4, 10)
    expect(report.samples.gained).toEqual([])
  })

  it('breaks the count down per rule as silver’s own record of the rules that fired does', async () => {
    const p = [GEN_RANGE.from, GEN_RANGE.to]
    const fired = (id: string) => inRange(`list_contains(fraud_rules, '${id}')`)
    const expected: Record<string, string[]> = {}
    for (const r of report.per_rule) expected[r.id] = await ids(fired(r.id), p)
    for (const r of report.per_rule) {
      expect(r.matched, r.id).toBe(expected[r.id].length)
      expect(r.matched, `${r.id} fires in this range`).toBeGreaterThan(0)
      expectSample(r.samples.matched, expected[r.id], 10)
      const lost = new Set(scored3)
      expect(r.lost, r.id).toBe(expected[r.id].filter((id) => lost.has(id)).length)
      expect(r.gained).toBe(0)
    }
    expect(report.labels).toBeNull()
  })

  it('with the current threshold, nothing is gained or lost', async () => {
    const same = await run(defaultRuleset(), GEN_RANGE)
    expect(same).toMatchObject({ gained: 0, lost: 0, current_alerts: alerts3.length, candidate_alerts: alerts3.length })
  })
})

describe('a new rule matches what a hand-written query selects', () => {
  const withGiftCards: Ruleset = {
    ...defaultRuleset(),
    rules: [...defaultRuleset().rules, { id: 'gift_card', description: 'large gift-card order', when: "payment_method = 'gift_card' and amount > 500", points: 3 }]
  }

  it('counts its matches and the alerts it adds', async () => {
    const report = await run(withGiftCards, GEN_RANGE, { sampleSize: 5 })
    const p = [GEN_RANGE.from, GEN_RANGE.to]
    const matched = await ids(inRange(`payment_method = 'gift_card' AND reporting_amount > 500`), p)
    // 3 points reach the threshold on their own: every match silver did not alert on is gained
    const gained = await ids(inRange(`payment_method = 'gift_card' AND reporting_amount > 500 AND fraud_score < 3`), p)
    expect(matched.length).toBeGreaterThan(5)
    expect(gained.length).toBeGreaterThan(0)
    const rule = report.per_rule.find((r) => r.id === 'gift_card')!
    expect(rule).toMatchObject({ points: 3, matched: matched.length, alerts: matched.length, gained: gained.length, lost: 0 })
    expectSample(rule.samples.matched, matched, 5)
    expectSample(rule.samples.gained, gained, 5)
    expect(report).toMatchObject({ gained: gained.length, lost: 0 })
    expectSample(report.samples.gained, gained, 5)
  })
})

describe('orders_last_10m counts what the pipeline counted', () => {
  const velocity = (n: number): Ruleset => ({ threshold: 1, rules: [{ id: 'v', description: '', when: `orders_last_10m >= ${n}`, points: 1 }] })

  it('counts orders processed no later than each one, orders before the range included', async () => {
    const two = await run(velocity(2), HAND_RANGE, { sampleSize: 100 })
    expect(two.per_rule[0].samples.matched.filter((id) => /^v\d/.test(id)).sort()).toEqual(['v1-b', 'v1-c', 'v1-d', 'v2-b', 'v2-c', 'v3-b'])
    const three = await run(velocity(3), HAND_RANGE, { sampleSize: 100 })
    // v2-c stays at 2: v2-b was processed after it
    expect(three.per_rule[0].samples.matched.sort()).toEqual(['v1-c', 'v1-d'])
    const four = await run(velocity(4), HAND_RANGE, { sampleSize: 100 })
    expect(four.per_rule[0].samples.matched).toEqual(['v1-d'])
  })

  it('fires at 3 on exactly the orders silver records the velocity rule fired on, over the whole lake', async () => {
    const report = await run(velocity(3), {}, { sampleSize: 100 })
    const bySilver = await ids(`SELECT order_id FROM silver_orders WHERE list_contains(fraud_rules, 'velocity') ORDER BY order_ts DESC, order_id`)
    expect(bySilver.length).toBeGreaterThan(10)
    expect(report.per_rule[0].matched).toBe(bySilver.length)
    expect(report.orders).toBe(Number((await lake.reader.runAndReadAll('SELECT count(*) FROM silver_orders')).getRows()[0][0]))
  })
})

describe('the time range', () => {
  it('includes an order at its start and excludes one at its end', async () => {
    const report = await run({ threshold: 1, rules: [{ id: 'big', description: '', when: 'amount > 5000', points: 1 }] }, HAND_RANGE, { sampleSize: 100 })
    const matched = report.per_rule[0].samples.matched
    expect(matched).toContain('edge-from')
    expect(matched).not.toContain('edge-to')
    expect(report.orders).toBe((await ids(inRange('true'), [HAND_RANGE.from, HAND_RANGE.to])).length)
  })

  it('refuses a range that ends before it starts, or a time that is not one', async () => {
    await expect(run(defaultRuleset(), { from: HAND_RANGE.to, to: HAND_RANGE.from })).rejects.toThrow(TimeRangeError)
    await expect(run(defaultRuleset(), { from: 'yesterday' })).rejects.toThrow(/from is not a time: "yesterday"/)
  })
})

describe('lists', () => {
  it('matches the orders of the customers in an imported list', async () => {
    const file = join(ws.root, 'blocked.txt')
    writeFileSync(file, '# chargebacks\nbad-1\nbad-2\n\nnot-a-customer\n')
    const lists = withList(listSetFromJson({ lists: [] }), await importListFile(file, 'blocked'))
    const report = await run(
      { threshold: 3, rules: [...defaultRuleset().rules, { id: 'blocked', description: '', when: "customer_id in list('blocked')", points: 5 }] },
      HAND_RANGE,
      { lists }
    )
    const rule = report.per_rule.find((r) => r.id === 'blocked')!
    const expected = await ids(inRange(`customer_id IN ('bad-1', 'bad-2')`), [HAND_RANGE.from, HAND_RANGE.to])
    expect(expected).toEqual(['blocked-2', 'blocked-1'])
    expect(rule).toMatchObject({ matched: 2, alerts: 2, samples: { matched: expected } })
    // blocked-2 (refunded, over 2,000) already scored 3; blocked-1 scored 0
    expect(rule.gained).toBe(1)
    expect(rule.samples.gained).toEqual(['blocked-1'])
  })
})

describe('labels', () => {
  // fraud_labels as proposed for the lake (order_id, label, labelled_at, label_id, …), here a
  // temp table of the backtest's connection
  const LABELS_TABLE = 'fraud_labels_test'

  async function label(rows: [string, 'fraud' | 'legit' | 'cleared', number][]): Promise<void> {
    for (const [orderId, value, minute] of rows) {
      await conn.run(
        `INSERT INTO ${LABELS_TABLE} VALUES (nextval('fraud_labels_test_seq'), $1, $2, TIMESTAMPTZ '2026-11-24 10:00:00+00' + to_minutes($3::BIGINT), 'analyst', NULL)`,
        [orderId, value, minute]
      )
    }
  }

  beforeAll(async () => {
    await conn.run(`CREATE TEMP SEQUENCE fraud_labels_test_seq`)
    await conn.run(`CREATE TEMP TABLE ${LABELS_TABLE} (label_id BIGINT, order_id VARCHAR, label VARCHAR, labelled_at TIMESTAMPTZ, labelled_by VARCHAR, note VARCHAR)`)
  })

  it('reports labelled fraud caught and missed, legitimate orders flagged, per rule precision — and a new label changes it', async () => {
    const p = [GEN_RANGE.from, GEN_RANGE.to]
    const big = await ids(inRange(`reporting_amount > 5000`), p) // amount_over_5000: 4 points, alerts
    const mid = await ids(inRange(`fraud_score = 3`), p) // alerts now, lost at threshold 4
    const quiet = await ids(inRange(`fraud_score = 0`), p)
    expect(big.length).toBeGreaterThanOrEqual(3)
    expect(mid.length).toBeGreaterThanOrEqual(2)
    await label([
      [big[0], 'fraud', 0],
      [big[1], 'legit', 0],
      [big[2], 'legit', 0],
      [big[2], 'fraud', 5], // relabelled: fraud now
      [mid[0], 'fraud', 0],
      [mid[1], 'legit', 0],
      [quiet[0], 'fraud', 0],
      [quiet[1], 'fraud', 0],
      [quiet[1], 'cleared', 3] // withdrawn: no label
    ])
    const candidate: Ruleset = { ...defaultRuleset(), threshold: 4 }
    const before = await run(candidate, GEN_RANGE, { labelsTable: LABELS_TABLE })
    expect(before.labels).toMatchObject({
      table: LABELS_TABLE,
      fraud: 4, // big[0], big[2], mid[0], quiet[0]
      legit: 2, // big[1], mid[1]
      current: { caught: 3, missed: 1, legit_flagged: 2, precision: 3 / 5, recall: 3 / 4 },
      candidate: { caught: 2, missed: 2, legit_flagged: 1, precision: 2 / 3, recall: 2 / 4 }
    })
    expect(new Set(before.labels!.candidate.samples.missed)).toEqual(new Set([mid[0], quiet[0]]))
    const big5000 = before.per_rule.find((r) => r.id === 'amount_over_5000')!
    expect(big5000.labels).toEqual({ matched_fraud: 2, matched_legit: 1, alerts_fraud: 2, alerts_legit: 1, precision: 2 / 3 })

    await label([[big[1], 'fraud', 10]])
    const after = await run(candidate, GEN_RANGE, { labelsTable: LABELS_TABLE })
    expect(after.per_rule.find((r) => r.id === 'amount_over_5000')!.labels!.precision).toBe(1)
    expect(after.labels).toMatchObject({ fraud: 5, legit: 1, candidate: { caught: 3, legit_flagged: 0, precision: 1 } })
  })

  it('takes a table name, never SQL', async () => {
    await expect(run(defaultRuleset(), GEN_RANGE, { labelsTable: 'fraud_labels; DROP TABLE silver_orders' })).rejects.toThrow(LabelsTableError)
    await expect(run(defaultRuleset(), GEN_RANGE, { labelsTable: 'a"b' })).rejects.toThrow(LabelsTableError)
  })
})

describe('the backtest leaves nothing behind', () => {
  it('drops its temp table, also when a query fails', async () => {
    await run(defaultRuleset(), GEN_RANGE)
    await expect(run(defaultRuleset(), GEN_RANGE, { labelsTable: 'no_such_table' })).rejects.toThrow(/no_such_table/)
    const temps = await conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '_rules_backtest_%'`)
    expect(temps.getRows()).toEqual([])
  })
})
