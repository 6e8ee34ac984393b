import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultRuleset } from '../../src/main/rules'
import type { RulesetDto } from '../../src/shared/rules'
import { cleanupTempDirs, order, ts, writeLines, HOUR } from '../support/lake-fixtures'
import { startFolderEngine, type FolderEngine } from '../support/engine-host'
import { until } from '../support/wait'

// The rules part of the contract on a running engine: check with positions, backtest against
// hand-written SQL answers, promote and see the next batch scored by the new version, labels
// changing a rule's precision, rollback. Handlers are called through dispatch, as both
// transports call them (arguments validated first).

afterAll(cleanupTempDirs)

let engine: FolderEngine
const call = (name: string, args?: unknown) => engine.call(name, args)
const orders = (name: string) => engine.orders(name)

/** Waits until silver holds `n` orders (a batch committed them). */
async function untilOrders(n: number): Promise<void> {
  await until(`${n} orders in silver`, async () => (await call('pipeline.status')).totals.orders >= n, { detail: () => call('pipeline.status') })
}

const raised = (threshold: number): RulesetDto => ({ ...defaultRuleset(), threshold })

beforeAll(async () => {
  engine = await startFolderEngine()
  // scores 4 (amount), 3 (amount), 2 (amount), 1 (country), 0; distinct customers and hours, so no velocity
  writeLines(orders('1.jsonl'), [
    order({ order_id: 's4', customer_id: 'c4', total_amount: 6000, order_ts: ts(0) }),
    order({ order_id: 's3', customer_id: 'c3', total_amount: 4000, order_ts: ts(HOUR) }),
    order({ order_id: 's2', customer_id: 'c2', total_amount: 2500, order_ts: ts(2 * HOUR) }),
    order({ order_id: 's1', customer_id: 'c1', billing_country: 'FR', order_ts: ts(3 * HOUR) }),
    order({ order_id: 's0', customer_id: 'c0', order_ts: ts(4 * HOUR) })
  ])
  await call('pipeline.start')
  await untilOrders(5)
})

afterAll(() => engine?.host.dispose())

describe('rules over the API', () => {
  it('rules.active is version 1, seeded from the fraud settings', async () => {
    expect(await call('rules.active')).toEqual({ version: 1, ruleset: defaultRuleset() })
    const versions = await call('rules.versions')
    expect(versions).toHaveLength(1)
    expect(versions[0]).toMatchObject({ version: 1, promotedBy: 'app', restoredFrom: null })
  })

  it('rules.check reports each bad condition with its position, and refuses what is not the language', async () => {
    const text = JSON.stringify({
      threshold: 3,
      rules: [
        { id: 'a', when: 'amount > ', points: 1 },
        { id: 'b', when: "'; DROP TABLE silver_orders; --", points: 1 },
        { id: 'c', when: 'lower(status) = \'paid\'', points: 1 },
        { id: 'd', when: Array.from({ length: 2000 }, () => 'amount > 1').join(' or '), points: 1 }
      ]
    })
    const r = await call('rules.check', { text })
    expect(r.ok).toBe(false)
    expect(r.issues.map((i: { path: string }) => i.path)).toEqual(['rules[0].when (a)', 'rules[1].when (b)', 'rules[2].when (c)', 'rules[3].when (d)'])
    expect(r.issues[0].position).toEqual({ offset: 9, line: 1, column: 10 })
    expect(r.issues[2].message).toMatch(/no function calls/)
    expect(await call('rules.check', { text: '{"threshold": 3,' })).toMatchObject({ ok: false, issues: [{ path: '(json)', position: { line: 1 } }] })
    expect(await call('rules.check', { text: JSON.stringify(raised(4)) })).toEqual({ ok: true, ruleset: raised(4) })
    // silver is untouched by all of it
    expect((await call('pipeline.status')).totals.orders).toBe(5)
  })

  it('rules.backtest of a raised threshold loses exactly the orders scored 3', async () => {
    const r = await call('rules.backtest', { text: JSON.stringify(raised(4)) })
    expect(r).toMatchObject({ orders: 5, current_alerts: 2, candidate_alerts: 1, gained: 0, lost: 1 })
    expect(r.samples.lost).toEqual(['s3'])
    expect(r.per_rule.find((p: { id: string }) => p.id === 'amount_over_3000')).toMatchObject({ matched: 1, lost: 1 })
    await expect(call('rules.backtest', { text: JSON.stringify(raised(4)), from: 'yesterday' })).rejects.toThrow(/from is not a time/)
  })

  it('a label changes a rule’s precision', async () => {
    const candidate = JSON.stringify(raised(2))
    const before = await call('rules.backtest', { text: candidate })
    expect(before.per_rule.find((p: { id: string }) => p.id === 'amount_over_2000').labels.precision).toBeNull()
    expect(await call('labels.set', { orderId: 's2', label: 'legit', author: 'ana' })).toMatchObject({ orderId: 's2', label: 'legit', author: 'ana' })
    await call('labels.set', { orderId: 's4', label: 'fraud', author: 'ana' })
    const after = await call('rules.backtest', { text: candidate })
    expect(after.per_rule.find((p: { id: string }) => p.id === 'amount_over_2000').labels).toMatchObject({ alerts_legit: 1, precision: 0 })
    expect(after.per_rule.find((p: { id: string }) => p.id === 'amount_over_5000').labels).toMatchObject({ alerts_fraud: 1, precision: 1 })
    expect(after.labels).toMatchObject({ fraud: 1, legit: 1, candidate: { caught: 1, legit_flagged: 1, precision: 0.5 } })
    await expect(call('labels.set', { orderId: 'nope', label: 'fraud' })).rejects.toThrow(/no order "nope"/)
    expect((await call('labels.list')).map((l: { orderId: string }) => l.orderId).sort()).toEqual(['s2', 's4'])
  })

  it('rules.promote makes the next batch score with the new version; a list it uses must exist', async () => {
    const blocked: RulesetDto = { threshold: 1, rules: [{ id: 'blocked', description: '', when: "customer_id in list('blocked')", points: 1 }] }
    await expect(call('rules.promote', { text: JSON.stringify(blocked) })).rejects.toThrow(/blocked/)
    await call('lists.set', { name: 'blocked', values: ['c9'] })
    expect(await call('lists.get')).toEqual([{ name: 'blocked', description: '', values: ['c9'] }])
    const v = await call('rules.promote', { text: JSON.stringify(blocked), note: 'block c9' })
    expect(v).toMatchObject({ version: 2, note: 'block c9', promotedBy: 'app' })
    writeLines(orders('2.jsonl'), [order({ order_id: 'n9', customer_id: 'c9', order_ts: ts(5 * HOUR) }), order({ order_id: 'n8', customer_id: 'c8', total_amount: 9000, order_ts: ts(5 * HOUR) })])
    await untilOrders(7)
    const page = await call('query.alertPage', { search: 'n' })
    expect(page.rows.map((a: { orderId: string; rulesetVersion: number; fraudReasons: string[] }) => [a.orderId, a.rulesetVersion, a.fraudReasons])).toEqual([
      ['n9', 2, ["customer_id c9 in list('blocked'): +1"]]
    ])
  })

  it('rules.promote with restore rolls back, as a new version', async () => {
    const v = await call('rules.promote', { restore: 1, note: 'undo' })
    expect(v).toMatchObject({ version: 3, restoredFrom: 1, ruleset: defaultRuleset() })
    expect((await call('rules.active')).version).toBe(3)
    await expect(call('rules.promote', { restore: 99 })).rejects.toThrow(/no ruleset version 99/)
    await expect(call('rules.promote', { note: 'neither' })).rejects.toThrow(/either text/)
  })
})

describe('shadow mode over the API', () => {
  // the live version is version 1's rules again (the rollback above); the shadow drops the
  // amount-over-5000 rule and alerts from 1 point
  const shadowRules = (): RulesetDto => ({ threshold: 1, rules: defaultRuleset().rules.filter((r) => r.id !== 'amount_over_5000') })

  it('scores the next batch beside the live version, apart from silver, and compares the two', async () => {
    expect(await call('rules.shadow')).toBeNull()
    const run = await call('rules.shadowStart', { text: JSON.stringify(shadowRules()), note: 'try it' })
    expect(run).toMatchObject({ shadowId: 1, note: 'try it', endedAt: null, outcome: null })
    await expect(call('rules.shadowStart', { text: JSON.stringify(shadowRules()) })).rejects.toThrow(/shadow 1 is running/)
    writeLines(orders('3.jsonl'), [
      order({ order_id: 'h-live', customer_id: 'h1', total_amount: 8500, order_ts: ts(6 * HOUR) }), // live 4, shadow 0
      order({ order_id: 'h-shadow', customer_id: 'h2', billing_country: 'FR', order_ts: ts(6 * HOUR) }), // live 1, shadow 1
      order({ order_id: 'h-both', customer_id: 'h3', total_amount: 4000, order_ts: ts(6 * HOUR) }), // 3 and 3
      order({ order_id: 'h-none', customer_id: 'h4', order_ts: ts(6 * HOUR) })
    ])
    await untilOrders(11)
    const report = await call('rules.shadow')
    expect(report).toMatchObject({ orders: 4, live_alerts: 2, shadow_alerts: 2, both: 1, live_only: 1, shadow_only: 1, samples: { live_only: ['h-live'], shadow_only: ['h-shadow'] } })
    expect(report.per_rule.find((p: { id: string }) => p.id === 'country_mismatch').matched).toBe(1)
    // silver and the alerts hold the live scores only
    const page = await call('query.alertPage', { search: 'h-' })
    expect(page.rows.map((a: { orderId: string; fraudScore: number }) => [a.orderId, a.fraudScore]).sort()).toEqual([['h-both', 3], ['h-live', 4]])
  })

  it('dropped, it scores no more batches; promoted, its rules become the next version', async () => {
    const dropped = await call('rules.shadowEnd', { action: 'drop' })
    expect(dropped).toMatchObject({ version: null, shadow: { shadowId: 1, outcome: 'dropped' } })
    writeLines(orders('4.jsonl'), [order({ order_id: 'h-after', customer_id: 'h5', billing_country: 'FR', order_ts: ts(7 * HOUR) })])
    await untilOrders(12)
    expect((await call('rules.shadow')).orders).toBe(4)
    await expect(call('rules.shadowEnd', { action: 'drop' })).rejects.toThrow(/no shadow is running/)

    await call('rules.shadowStart', { text: JSON.stringify(shadowRules()), note: 'again' })
    const promoted = await call('rules.shadowEnd', { action: 'promote' })
    expect(promoted).toMatchObject({ version: { version: 4, ruleset: shadowRules() }, shadow: { shadowId: 2, outcome: 'promoted as version 4' } })
    expect((await call('rules.active')).version).toBe(4)
  })
})
