import { afterAll, describe, expect, it } from 'vitest'
import { acquireLake } from '../../src/main/lake/lake-registry'
import { activeVersion, promoteRuleset, readLists, restoreVersion, rulesetVersions, saveList, seedRuleset } from '../../src/main/lake/rules-store'
import { SCHEMA_VERSION } from '../../src/main/lake/schema'
import { attributesOf, checkRuleset, defaultRuleset, listValues, scoredSql, silverInputsSql, SqlParams, type Ruleset } from '../../src/main/rules'
import { parseSettings, type Settings } from '../../src/shared/settings'
import { cleanupTempDirs, HOUR, lakeFromFixture, makeWorkspace, order, queries, runPipeline, ts, writeLines, type Row, type Workspace } from '../support/lake-fixtures'

// Rulesets in the lake (schema 5). Lakes written by the engine before rulesets existed
// (tests/fixtures/lake-v4*.duckdb.gz) migrate without a change to their scores, and version 1,
// seeded from the same settings, rescores every one of their orders to the points, and the
// rules, that engine gave it. Then: promote, the next batch scored by the new version, rollback.

afterAll(cleanupTempDirs)

const POWERS = { amountOver5000: 64, amountOver3000: 32, amountOver2000: 16, cancelledOrRefunded: 8, velocity: 4, newAccountLargeOrder: 2, countryMismatch: 1 }

/** Every silver order rescored with the lake's active version, over one read of silver. */
async function rescore(ws: Workspace): Promise<Map<string, { score: number; fired: string[] }>> {
  const lake = await acquireLake(ws.lake, { create: false })
  try {
    const active = (await activeVersion(lake.reader))!
    const lists = await readLists(lake.reader)
    const ruleset = checkRuleset(active.ruleset, lists)
    const params = new SqlParams()
    const sql = scoredSql(ruleset, silverInputsSql(params, {}, attributesOf(ruleset)), { params, lists: listValues(lists) })
    const rows = (await lake.reader.runAndReadAll(`SELECT order_id, rules_score, rules_fired FROM (${sql})`, params.values, params.types)).getRows()
    return new Map(rows.map((r) => [String(r[0]), { score: Number(r[1]), fired: (r[2] as { items: unknown[] }).items.map((k) => ruleset.rules[Number(k)].id) }]))
  } finally {
    await lake.close()
  }
}

/** Opens (migrating it) and seeds version 1 from `settings`, as the first run of the new engine does. */
async function migrateAndSeed(ws: Workspace, settings: Settings): Promise<void> {
  const lake = await acquireLake(ws.lake, { create: false })
  try {
    await seedRuleset(lake.writer, settings.fraud)
  } finally {
    await lake.close()
  }
}

const SILVER = `SELECT order_id, fraud_score, fraud_reasons, fraud_rules, ruleset_version FROM silver_orders ORDER BY order_id`
const ALERTS = `SELECT order_id, fraud_score, fraud_reasons FROM fraud_alerts ORDER BY order_id`

describe('a schema-4 lake (default weights) migrates to 5 and version 1 rescores it identically', () => {
  const ws = lakeFromFixture('lake-v4.duckdb.gz')
  const settings = parseSettings({})

  it('keeps every score and reason; old rows have no version', async () => {
    const before = await queries(ws.lake, { silver: SILVER.replace('fraud_rules, ruleset_version', 'NULL AS fraud_rules, NULL AS ruleset_version'), alerts: ALERTS, v: `SELECT value FROM lake_meta WHERE key = 'schema_version'` })
    expect(before.v).toEqual([{ value: '4' }])
    await migrateAndSeed(ws, settings)
    const after = await queries(ws.lake, { silver: SILVER, alerts: ALERTS, v: `SELECT value FROM lake_meta WHERE key = 'schema_version'` })
    expect(after.v).toEqual([{ value: String(SCHEMA_VERSION) }])
    expect(after.silver).toEqual(before.silver)
    expect(after.alerts).toEqual(before.alerts)
    expect(before.alerts.length).toBe(7)
  })

  it('seeds version 1 from the settings, promoted by the app', async () => {
    const v = await queries(ws.lake, { v: `SELECT version, ruleset::VARCHAR AS ruleset, promoted_by, restored_from FROM ruleset_versions` })
    expect(v.v).toEqual([{ version: 1, ruleset: JSON.stringify(defaultRuleset(settings.fraud)), promoted_by: 'app', restored_from: null }])
  })

  it('rescores every order to the score the old engine gave it', async () => {
    const silver = await queries(ws.lake, { s: `SELECT order_id, fraud_score FROM silver_orders` })
    const scores = await rescore(ws)
    expect(scores.size).toBe(300)
    const differ = silver.s.filter((r) => scores.get(r.order_id as string)!.score !== r.fraud_score)
    expect(differ).toEqual([])
    expect(silver.s.filter((r) => (r.fraud_score as number) > 0).length).toBe(33)
  })

  it('scores new orders with version 1 and records it with the rules that fired', async () => {
    writeLines(ws.orders('after.jsonl'), [order({ order_id: 'after-big', total_amount: 5200 }), order({ order_id: 'after-small' })])
    await runPipeline(ws, { baseSettings: settings })
    const r = await queries(ws.lake, {
      silver: `SELECT order_id, fraud_score, fraud_reasons, fraud_rules, ruleset_version FROM silver_orders WHERE order_id LIKE 'after-%' ORDER BY order_id`,
      alerts: `SELECT order_id, fraud_reasons, fraud_rules, ruleset_version FROM fraud_alerts WHERE order_id LIKE 'after-%'`
    })
    expect(r.silver).toEqual([
      { order_id: 'after-big', fraud_score: 4, fraud_reasons: ['amount 5,200 > 5,000: +4'], fraud_rules: ['amount_over_5000'], ruleset_version: 1 },
      { order_id: 'after-small', fraud_score: 0, fraud_reasons: [], fraud_rules: [], ruleset_version: 1 }
    ])
    expect(r.alerts).toEqual([{ order_id: 'after-big', fraud_reasons: ['amount 5,200 > 5,000: +4'], fraud_rules: ['amount_over_5000'], ruleset_version: 1 }])
  })
})

describe('a schema-4 lake scored with powers-of-two weights: version 1 fires the rules the old engine fired', () => {
  const ws = lakeFromFixture('lake-v4-powers.duckdb.gz')
  const settings = parseSettings({ fraud: { weights: POWERS, threshold: 20 } })
  /** The default ruleset's rule order and each rule's bit in a powers-of-two score. */
  const bits = new Map(defaultRuleset().rules.map((r, k) => [r.id, 64 >> k]))

  it('rescores every order, rule by rule', async () => {
    await migrateAndSeed(ws, settings)
    const silver = await queries(ws.lake, { s: `SELECT order_id, fraud_score FROM silver_orders`, a: `SELECT order_id FROM fraud_alerts ORDER BY order_id` })
    const scores = await rescore(ws)
    expect(scores.size).toBe(3000)
    const differ = silver.s.filter((r) => {
      const s = scores.get(r.order_id as string)!
      const fromBits = [...bits].filter(([, bit]) => (r.fraud_score as number) & bit).map(([id]) => id)
      return s.score !== r.fraud_score || JSON.stringify(s.fired) !== JSON.stringify(fromBits)
    })
    expect(differ.slice(0, 5), `${differ.length} orders differ`).toEqual([])
    const alerts = [...scores].filter(([, s]) => s.score >= 20).map(([id]) => id).sort()
    expect(alerts).toEqual(silver.a.map((a) => a.order_id))
    expect(alerts.length).toBe(186)
  })
})

describe('promote, the next batch, rollback', () => {
  const ws = makeWorkspace()
  const strict: Ruleset = {
    threshold: 1,
    rules: [{ id: 'blocked', description: 'blocked customer', when: "customer_id in list('blocked')", points: 5 }]
  }
  let silver: Row[]

  it('scores the first batch with version 1, then the batch after a promote with version 2', async () => {
    writeLines(ws.orders('1.jsonl'), [order({ order_id: 'b1', customer_id: 'c-bad' }), order({ order_id: 'g1', customer_id: 'c-good' })])
    await runPipeline(ws)
    const lake = await acquireLake(ws.lake, { create: false })
    try {
      await expect(promoteRuleset(lake.writer, strict, { by: 'tester', note: 'no list yet' })).rejects.toThrow(/unknown list 'blocked'|blocked/)
      await saveList(lake.writer, { name: 'blocked', description: 'chargebacks', values: ['c-bad'] }, 'tester')
      const v2 = await promoteRuleset(lake.writer, strict, { by: 'tester', note: 'block list only' })
      expect(v2).toMatchObject({ version: 2, promotedBy: 'tester', note: 'block list only', restoredFrom: null, ruleset: strict })
    } finally {
      await lake.close()
    }
    writeLines(ws.orders('2.jsonl'), [order({ order_id: 'b2', customer_id: 'c-bad', total_amount: 9000 }), order({ order_id: 'g2', customer_id: 'c-good', total_amount: 9000 })])
    await runPipeline(ws)
    silver = (await queries(ws.lake, { s: `SELECT order_id, fraud_score, fraud_reasons, ruleset_version FROM silver_orders ORDER BY order_id` })).s
    expect(silver).toEqual([
      { order_id: 'b1', fraud_score: 0, fraud_reasons: [], ruleset_version: 1 },
      { order_id: 'b2', fraud_score: 5, fraud_reasons: ["customer_id c-bad in list('blocked'): +5"], ruleset_version: 2 },
      { order_id: 'g1', fraud_score: 0, fraud_reasons: [], ruleset_version: 1 },
      { order_id: 'g2', fraud_score: 0, fraud_reasons: [], ruleset_version: 2 }
    ])
  })

  it('rolls back by promoting version 1 again, as version 3, and scores the next batch with it', async () => {
    const lake = await acquireLake(ws.lake, { create: false })
    try {
      const v3 = await restoreVersion(lake.writer, 1, { by: 'tester', note: 'too strict' })
      expect(v3).toMatchObject({ version: 3, restoredFrom: 1, ruleset: defaultRuleset() })
      await expect(restoreVersion(lake.writer, 9, { by: 'tester', note: '' })).rejects.toThrow(/no ruleset version 9/)
      expect((await rulesetVersions(lake.reader)).map((v) => v.version)).toEqual([3, 2, 1])
    } finally {
      await lake.close()
    }
    // an hour later: c-bad's earlier orders are out of velocity's reach
    writeLines(ws.orders('3.jsonl'), [order({ order_id: 'b3', customer_id: 'c-bad', total_amount: 9000, order_ts: ts(HOUR) })])
    await runPipeline(ws)
    const r = await queries(ws.lake, { s: `SELECT fraud_score, fraud_rules, ruleset_version FROM silver_orders WHERE order_id = 'b3'`, a: `SELECT ruleset_version FROM fraud_alerts WHERE order_id = 'b3'` })
    expect(r.s).toEqual([{ fraud_score: 4, fraud_rules: ['amount_over_5000'], ruleset_version: 3 }])
    expect(r.a).toEqual([{ ruleset_version: 3 }])
  })
})

describe('a promoted rule on every velocity count', () => {
  // Each count scores its own power of two, so a score names the count the batch saw; the
  // backtest's velocity (recomputed over all of silver) must see the same for every order.
  const counts: Ruleset = {
    threshold: 100,
    rules: [1, 2, 3, 4].map((n) => ({ id: `v${n}`, description: '', when: n < 4 ? `orders_last_10m = ${n}` : 'orders_last_10m >= 4', points: 2 ** n }))
  }

  it('scores as rescoring silver does, across batches and customers alone in theirs', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('0.jsonl'), [order({ order_id: 'seed', customer_id: 'z', order_ts: ts(-HOUR) })])
    await runPipeline(ws)
    const lake = await acquireLake(ws.lake, { create: false })
    try {
      await promoteRuleset(lake.writer, counts, { by: 'tester', note: 'counts' })
    } finally {
      await lake.close()
    }
    const at = (m: number) => ts(m * 60_000)
    writeLines(ws.orders('1.jsonl'), [
      order({ order_id: 'a1', customer_id: 'a', order_ts: at(0) }),
      order({ order_id: 'a2', customer_id: 'a', order_ts: at(3) }),
      order({ order_id: 'b1', customer_id: 'b', order_ts: at(1) }),
      order({ order_id: 'c1', customer_id: 'c', order_ts: at(2) })
    ])
    await runPipeline(ws)
    writeLines(ws.orders('2.jsonl'), [
      order({ order_id: 'a3', customer_id: 'a', order_ts: at(5) }),
      order({ order_id: 'a4', customer_id: 'a', order_ts: at(9) }),
      order({ order_id: 'a5', customer_id: 'a', order_ts: at(30) }),
      order({ order_id: 'b2', customer_id: 'b', order_ts: at(12) }),
      order({ order_id: 'd1', customer_id: 'd', order_ts: at(4) })
    ])
    await runPipeline(ws)
    const silver = await queries(ws.lake, { s: `SELECT order_id, fraud_score FROM silver_orders WHERE ruleset_version = 2 ORDER BY order_id` })
    expect(silver.s).toEqual([
      { order_id: 'a1', fraud_score: 2 },
      { order_id: 'a2', fraud_score: 4 },
      { order_id: 'a3', fraud_score: 8 },
      { order_id: 'a4', fraud_score: 16 },
      { order_id: 'a5', fraud_score: 2 },
      { order_id: 'b1', fraud_score: 2 },
      { order_id: 'b2', fraud_score: 2 },
      { order_id: 'c1', fraud_score: 2 },
      { order_id: 'd1', fraud_score: 2 }
    ])
    const scores = await rescore(ws)
    expect(silver.s.map((r) => [r.order_id, scores.get(r.order_id as string)!.score])).toEqual(silver.s.map((r) => [r.order_id, r.fraud_score]))
  })
})
