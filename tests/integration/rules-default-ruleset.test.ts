import { copyFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventFactory, FileSink, runGenerator } from '../../src/main/generator'
import { acquireLake } from '../../src/main/lake/lake-registry'
import { attributesOf, checkRuleset, defaultRuleset, scoredSql, silverInputsSql, SqlParams } from '../../src/main/rules'
import { parseSettings, type Settings } from '../../src/shared/settings'
import { cleanupTempDirs, makeWorkspace, queries, runPipeline, type Workspace } from '../support/lake-fixtures'

// The pipeline scores each batch with the lake's ruleset (version 1: the seven rules of the
// fraud settings), computing velocity batch by batch; rescoring silver afterwards with the same
// ruleset (velocity recomputed over all of silver, as the backtest does) gives every order the
// same points and the same rules. That the seven rules score as the engine before rulesets did
// is checked on lakes that engine wrote (rules-lake.test.ts). The orders come from the real
// generator (fraud scenarios, bursts, new accounts, late orders, five currencies), in three
// rounds each followed by a pipeline run, so velocity reaches across batches and across files
// of one batch. The same files go into two lakes: one with the
// default settings, one whose weights are powers of two, where a score says exactly which
// rules fired — so the rules are compared one by one, not only their sum.

afterAll(cleanupTempDirs)

const POWERS = { amountOver5000: 64, amountOver3000: 32, amountOver2000: 16, cancelledOrRefunded: 8, velocity: 4, newAccountLargeOrder: 2, countryMismatch: 1 }
/** The default ruleset's rule order, and each rule's bit in a powers-of-two score. */
const RULE_BITS = [64, 32, 16, 8, 4, 2, 1]
const ROUNDS = 3
const ORDERS_PER_ROUND = 3000

interface Scored {
  order_id: string
  silver_score: number
  rules_score: number
  rules_fired: number[]
  rules_inputs: string[]
}

async function scoreWithRuleset(ws: Workspace, settings: Settings): Promise<Map<string, Scored>> {
  const ruleset = checkRuleset(defaultRuleset(settings.fraud), new Map())
  const lake = await acquireLake(ws.lake, { create: false })
  try {
    const params = new SqlParams()
    const sql = scoredSql(ruleset, silverInputsSql(params, {}, attributesOf(ruleset)), { params, lists: new Map() }, { inputs: true })
    const rows = (await lake.reader.runAndReadAll(`SELECT order_id, silver_score, rules_score, rules_fired, rules_inputs FROM (${sql})`, params.values, params.types)).getRowObjectsJS()
    return new Map(
      rows.map((r) => [
        r.order_id as string,
        {
          order_id: r.order_id as string,
          silver_score: Number(r.silver_score),
          rules_score: Number(r.rules_score),
          rules_fired: (r.rules_fired as number[]).map(Number),
          rules_inputs: r.rules_inputs as string[]
        }
      ])
    )
  } finally {
    await lake.close()
  }
}

function copyNewFiles(from: Workspace, to: Workspace): void {
  for (const stream of ['customers', 'orders'] as const) {
    const src = stream === 'orders' ? from.ordersDir : from.customersDir
    const dst = stream === 'orders' ? to.ordersDir : to.customersDir
    const present = new Set(readdirSync(dst))
    // in name order, which is the order the generator wrote them: modification times follow it
    for (const name of readdirSync(src).filter((n) => n.endsWith('.jsonl')).sort()) {
      if (!present.has(name)) copyFileSync(join(src, name), join(dst, name))
    }
  }
}

describe("the default ruleset reproduces the pipeline's scores on the generator's orders", () => {
  const plain = makeWorkspace()
  const weighted = makeWorkspace()
  const defaults = parseSettings({})
  const powers = parseSettings({ fraud: { weights: POWERS, threshold: 20 } })
  let plainScores: Map<string, Scored>
  let weightedScores: Map<string, Scored>
  let silver: { plain: Record<string, unknown>[]; alerts: Record<string, unknown>[] }

  beforeAll(async () => {
    // three days back, 100 ms of event time per order: well inside the future-time guard
    let t = Date.now() - 3 * 24 * 3600_000
    const factory = new EventFactory({ seed: 20261124, fraudRate: 0.12, lateRate: 0.03, now: () => (t += 100) })
    const sink = new FileSink({ dir: plain.input, tag: 'rules' })
    for (let round = 0; round < ROUNDS; round++) {
      await runGenerator({ sink, factory, pace: { kind: 'max' }, count: ORDERS_PER_ROUND, batchSize: 400 })
      copyNewFiles(plain, weighted)
      await runPipeline(plain, { baseSettings: defaults })
      await runPipeline(weighted, { baseSettings: powers })
    }
    plainScores = await scoreWithRuleset(plain, defaults)
    weightedScores = await scoreWithRuleset(weighted, powers)
    silver = await queries(plain.lake, {
      plain: `SELECT order_id, fraud_score, fraud_reasons, fraud_rules, ruleset_version, batch_id FROM silver_orders`,
      alerts: `SELECT order_id FROM fraud_alerts ORDER BY order_id`
    })
  })

  it('runs on enough orders, over several batches, with every rule firing (by silver’s own record)', () => {
    expect(silver.plain.length).toBeGreaterThan(ROUNDS * ORDERS_PER_ROUND * 0.95)
    expect(new Set(silver.plain.map((r) => r.batch_id)).size).toBeGreaterThanOrEqual(ROUNDS)
    expect(new Set(silver.plain.map((r) => r.ruleset_version))).toEqual(new Set([1]))
    const fired = silver.plain.flatMap((r) => r.fraud_rules as string[])
    for (const rule of defaultRuleset().rules) {
      expect(fired.filter((id) => id === rule.id).length, rule.id).toBeGreaterThanOrEqual(10)
    }
  })

  it('gives every order of the default lake its silver score', () => {
    expect(plainScores.size).toBe(silver.plain.length)
    const differ = [...plainScores.values()].filter((s) => s.rules_score !== s.silver_score)
    expect(differ.slice(0, 5), `${differ.length} orders score differently`).toEqual([])
  })

  it('alerts on exactly the orders in fraud_alerts', () => {
    const alerts = [...plainScores.values()].filter((s) => s.rules_score >= defaults.fraud.threshold).map((s) => s.order_id).sort()
    expect(alerts).toEqual(silver.alerts.map((a) => a.order_id))
    expect(alerts.length).toBeGreaterThan(100)
  })

  it('fires each rule on exactly the orders the pipeline did (powers-of-two weights)', () => {
    expect(weightedScores.size).toBe(silver.plain.length)
    const differ = [...weightedScores.values()].filter((s) => {
      const bySilver = RULE_BITS.flatMap((bit, k) => (s.silver_score & bit ? [k] : []))
      return JSON.stringify(bySilver) !== JSON.stringify(s.rules_fired)
    })
    expect(differ.slice(0, 5), `${differ.length} orders fire other rules`).toEqual([])
  })

  it('writes an inputs line for each rule that fired', () => {
    const all = [...plainScores.values()]
    for (const s of all) expect(s.rules_inputs.length).toBe(s.rules_fired.length)
    const lines = all.flatMap((s) => s.rules_inputs)
    expect(lines.some((l) => /^amount \d{1,3}(,\d{3})*(\.\d+)? > 5,000: \+4$/.test(l))).toBe(true)
    expect(lines.some((l) => /^orders_last_10m \d+ >= 3: \+2$/.test(l))).toBe(true)
    expect(lines.some((l) => /^account_age_hours -?[\d.,]+ < 24 and amount [\d.,]+ > 1,000: \+2$/.test(l))).toBe(true)
    expect(lines.some((l) => /^billing_country [A-Z]{2} != shipping_country [A-Z]{2}: \+1$/.test(l))).toBe(true)
  })

  it('wrote the same inputs lines into silver when the batches ran', () => {
    const differ = silver.plain.filter((r) => JSON.stringify(r.fraud_reasons) !== JSON.stringify(plainScores.get(r.order_id as string)!.rules_inputs))
    expect(differ.slice(0, 5), `${differ.length} orders with other reasons`).toEqual([])
  })
})
