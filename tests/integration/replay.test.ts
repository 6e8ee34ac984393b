import { utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { EngineHost } from '../../src/main/api/host'
import { acquireLake } from '../../src/main/lake/lake-registry'
import { promoteRuleset } from '../../src/main/lake/rules-store'
import { SCHEMA_VERSION } from '../../src/main/lake/schema'
import { defaultRuleset } from '../../src/main/rules'
import { parseSettings, type Settings } from '../../src/shared/settings'
import { killLeftovers, orderLine, rng, spawnPipeline, spawnTsx, type Child } from '../support/bulk-input'
import { until } from '../support/wait'
import { cleanupTempDirs, customer, lakeFromFixture, MIN, makeWorkspace, order, queries, runPipeline, ts, writeLines, type Workspace } from '../support/lake-fixtures'
import { startFolderEngine } from '../support/engine-host'

// streamdesk replay (docs/LAKE.md, "Replay"), run as the CLI in a child process. Two lakes read
// the same input files with the same batch boundaries: lake A with the old settings, lake B with
// the new ones. Replaying A with the new settings must leave it with B's silver, alerts,
// quarantine and windows — also when the replay is SIGKILLed after a chunk and run again — while
// bronze and source_offsets stay exactly as they were.

afterAll(cleanupTempDirs)

const children: Child[] = []
afterEach(() => killLeftovers(children))

function cli(args: string[]): Child {
  const c = spawnTsx('src/main/cli/main.ts', args)
  children.push(c)
  return c
}

// old: EUR at 1.08, no SEK rate, alerts from score 3; new: EUR at 1.5, SEK at 0.1, alerts from 2
const OLD = parseSettings({})
const NEW = parseSettings({ reporting: { currency: 'USD', fxRates: { EUR: 1.5, SEK: 0.1 } }, fraud: { threshold: 2 } })

function settingsFile(ws: Workspace, s: Settings): string {
  const file = join(ws.root, 'new-settings.json')
  writeFileSync(file, JSON.stringify({ pipeline: s.pipeline, reporting: s.reporting, fraud: s.fraud }))
  return file
}

/** Lake A learns the new threshold the way a person would: a promoted ruleset version. */
async function promoteNewThreshold(lakeDir: string): Promise<void> {
  const lake = await acquireLake(lakeDir, { create: false })
  try {
    await promoteRuleset(lake.writer, defaultRuleset(NEW.fraud), { by: 'test', note: 'threshold 2' })
  } finally {
    await lake.close()
  }
}

/** What a replay must reproduce, and what it must never touch. */
const DERIVED = {
  silver: `SELECT * EXCLUDE (processed_at, ruleset_version) FROM silver_orders ORDER BY order_id`,
  alerts: `SELECT * EXCLUDE (detected_at, ruleset_version) FROM fraud_alerts ORDER BY order_id`,
  quarantine: `SELECT batch_id, kind, source, byte_offset, reason, raw FROM quarantine ORDER BY source, byte_offset`,
  windows: `SELECT * EXCLUDE (updated_batch_id) FROM order_windows ORDER BY window_start`,
  maxEventTs: `SELECT value FROM lake_meta WHERE key = 'max_event_ts'`
}
const KEPT = {
  bronze: `SELECT batch_id, source, byte_offset, raw FROM bronze_orders ORDER BY batch_id, source, byte_offset`,
  offsets: `SELECT * FROM source_offsets ORDER BY key`,
  customers: `SELECT * FROM customers ORDER BY customer_id`
}

async function replay(lakeDir: string, args: string[]): Promise<Child> {
  const c = cli(['replay', '--lake', lakeDir, ...args])
  const exit = await c.exited
  expect(exit.code, c.stderr()).toBe(0)
  return c
}

describe('schema 6', () => {
  it('migrates a schema-5 lake: its batch is live, nothing re-validated, nothing else changed', async () => {
    const ws = lakeFromFixture('lake-v5.duckdb.gz')
    const before = await queries(ws.lake, { ...DERIVED, ...KEPT })
    const lake = await acquireLake(ws.lake, { create: false })
    await lake.close()
    const after = await queries(ws.lake, {
      ...DERIVED,
      ...KEPT,
      v: `SELECT value FROM lake_meta WHERE key = 'schema_version'`,
      batches: `SELECT batch_id, kind, replay FROM batches`,
      resolved: `SELECT count(*) AS n, count(resolved_batch_id) AS resolved FROM quarantine`
    })
    expect(after.v).toEqual([{ value: String(SCHEMA_VERSION) }])
    expect(after.batches).toEqual([{ batch_id: 1, kind: 'live', replay: null }])
    expect(after.resolved).toEqual([{ n: 2, resolved: 0 }])
    for (const k of Object.keys(before) as (keyof typeof before)[]) expect(after[k], k).toEqual(before[k])
    expect(before.silver.length).toBe(300)
  })
})

describe('replay after a settings change', () => {
  it('gives lake A what a fresh ingest with the new settings gives lake B', { timeout: 180_000 }, async () => {
    const ws = makeWorkspace()
    const lakeB = join(ws.root, 'lake-b')
    const ingest = async () => {
      await runPipeline(ws, { baseSettings: OLD })
      await runPipeline(ws, { lake: lakeB, baseSettings: NEW })
    }
    const T0 = '2024-03-01T12:00:00.000Z'
    // batch 1: a new customer; an EUR order converted differently; a SEK order only the new rates accept
    writeLines(ws.customers('c1.jsonl'), [customer({ customer_id: 'cu-1', signup_ts: ts(-2 * 3600_000, T0), segment: 'new' })])
    writeLines(ws.orders('r1.jsonl'), [
      order({ order_id: 'a1', customer_id: 'cu-1', currency: 'EUR', total_amount: 2000, order_ts: ts(0, T0) }),
      order({ order_id: 'sek-1', customer_id: 'cu-1', currency: 'SEK', total_amount: 30000, order_ts: ts(MIN, T0) }),
      order({ order_id: 'a3', customer_id: 'cu-1', status: 'cancelled', total_amount: 50, order_ts: ts(2 * MIN, T0) }),
      'not json'
    ])
    await ingest()
    // batch 2: sek-1 again (valid under the old settings only because batch 1's was not), an
    // order moving the watermark, and two files holding the same order_id, the one with the
    // older mtime (and the later name) processed first
    writeLines(ws.orders('r2.jsonl'), [
      order({ order_id: 'sek-1', customer_id: 'cu-1', total_amount: 40, order_ts: ts(MIN, T0) }),
      order({ order_id: 'b1', customer_id: 'cu-2', currency: 'EUR', total_amount: 100, order_ts: ts(20 * MIN, T0) }),
      order({ order_id: 'b2', customer_id: 'cu-1', total_amount: 10, order_ts: ts(3 * MIN, T0) })
    ])
    writeLines(ws.orders('r2-x.jsonl'), [order({ order_id: 'dup-x', customer_id: 'cu-3', total_amount: 11, order_ts: ts(4 * MIN, T0) })])
    writeLines(ws.orders('r2-y.jsonl'), [order({ order_id: 'dup-x', customer_id: 'cu-3', total_amount: 22, order_ts: ts(4 * MIN, T0) })])
    const older = new Date(Date.now() - 3600_000)
    utimesSync(ws.orders('r2-y.jsonl'), older, older)
    await ingest()
    // batch 3: a late order, a SEK order that moves the newest event time under the new rates only
    writeLines(ws.orders('r3.jsonl'), [
      order({ order_id: 'c1', customer_id: 'cu-2', total_amount: 70, order_ts: ts(5 * MIN, T0) }),
      order({ order_id: 'c2', customer_id: 'cu-3', currency: 'SEK', total_amount: 100, order_ts: ts(25 * MIN, T0) }),
      order({ order_id: 'c3', customer_id: 'cu-2', currency: 'EUR', total_amount: 4000, order_ts: ts(22 * MIN, T0) })
    ])
    await ingest()

    const b = await queries(lakeB, DERIVED)
    const before = await queries(ws.lake, { ...DERIVED, ...KEPT })
    // the settings change matters: silver and alerts differ before the replay
    expect(before.silver).not.toEqual(b.silver)
    expect(before.alerts).not.toEqual(b.alerts)
    expect(b.silver.find((r) => r.order_id === 'dup-x')!.total_amount).toBe(22)

    await promoteNewThreshold(ws.lake)
    const run = await replay(ws.lake, ['--settings', settingsFile(ws, NEW)])
    expect(run.stderr()).toMatch(/^replay chunk 1\/1: batches 1–3, 12 orders read: 9 valid, 1 quarantined, 1 late, 2 duplicates, \d+ alerts \(batch 4\)$/m)

    const after = await queries(ws.lake, {
      ...DERIVED,
      ...KEPT,
      versions: `SELECT DISTINCT ruleset_version FROM silver_orders`,
      batches: `SELECT batch_id, kind, replay::VARCHAR AS replay FROM batches WHERE kind <> 'live'`
    })
    for (const k of Object.keys(DERIVED) as (keyof typeof DERIVED)[]) expect(after[k], k).toEqual(b[k])
    for (const k of Object.keys(KEPT) as (keyof typeof KEPT)[]) expect(after[k], k).toEqual(before[k])
    expect(after.versions).toEqual([{ ruleset_version: 2 }])
    expect(after.batches).toHaveLength(1)
    expect(JSON.parse(after.batches[0].replay as string)).toMatchObject({ replayId: 4, chunk: 1, chunks: 1, batches: [1, 2, 3], rulesetVersion: 2 })

    // --rules with a ruleset the lake has no version of is refused, and changes nothing
    const rulesFile = join(ws.root, 'other-rules.json')
    writeFileSync(rulesFile, JSON.stringify(defaultRuleset(parseSettings({ fraud: { threshold: 9 } }).fraud)))
    const refused = cli(['replay', '--lake', ws.lake, '--rules', rulesFile])
    expect((await refused.exited).code, refused.stderr()).toBe(2)
    expect(refused.stderr()).toMatch(/not a ruleset version of this lake/)
    const unchanged = await queries(ws.lake, DERIVED)
    for (const k of Object.keys(DERIVED) as (keyof typeof DERIVED)[]) expect(unchanged[k], k).toEqual(b[k])
  })
})

describe('replay of a time range', () => {
  it('re-derives only the batches committed in [--from, --to]', { timeout: 120_000 }, async () => {
    const ws = makeWorkspace()
    for (const k of [1, 2, 3]) {
      writeLines(ws.orders(`${k}.jsonl`), [order({ order_id: `sek-${k}`, currency: 'SEK', total_amount: 100, order_ts: ts(k * MIN) })])
      await runPipeline(ws, { baseSettings: OLD })
    }
    // batch 2's commit time, to the millisecond below it
    const [b2] = await queries(ws.lake, { b: `SELECT strftime(committed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS at FROM batches WHERE batch_id = 2` }).then((r) => r.b)
    const from = String(b2.at)
    const run = await replay(ws.lake, ['--settings', settingsFile(ws, NEW), '--from', from, '--to', new Date(Date.now() + 3600_000).toISOString()])
    expect(run.stderr()).toMatch(/^replay chunk 1\/1: batches 2–3, 2 orders read: 2 valid, 0 quarantined/m)
    const after = await queries(ws.lake, {
      silver: `SELECT order_id, batch_id FROM silver_orders ORDER BY order_id`,
      quarantine: `SELECT batch_id FROM quarantine`
    })
    expect(after.silver).toEqual([
      { order_id: 'sek-2', batch_id: 2 },
      { order_id: 'sek-3', batch_id: 3 }
    ])
    expect(after.quarantine).toEqual([{ batch_id: 1 }])
  })
})

describe('replay under SIGKILL', () => {
  it('leaves each chunk replayed or as it was, and the rerun completes it exactly once', { timeout: 240_000 }, async () => {
    const ws = makeWorkspace()
    const lakeB = join(ws.root, 'lake-b')
    const r = rng(1212)
    const baseMs = Date.parse('2024-03-01T00:00:00Z')
    let n = 1
    const ROUNDS = 6
    for (let k = 0; k < ROUNDS; k++) {
      const lines: string[] = []
      for (let i = 0; i < 2500; i++) {
        // about 1 in 200 repeats an earlier order id, across batches too
        lines.push(r() < 0.005 && n > 10 ? orderLine(n - 1 - Math.floor(r() * Math.min(n - 1, 3000)), r, baseMs, 400) : orderLine(n++, r, baseMs, 400))
      }
      writeFileSync(ws.orders(`round-${k}.jsonl`), lines.join('\n') + '\n')
      await runPipeline(ws, { baseSettings: OLD })
      await runPipeline(ws, { lake: lakeB, baseSettings: NEW })
    }
    const b = await queries(lakeB, DERIVED)
    const before = await queries(ws.lake, { ...DERIVED, ...KEPT })
    expect(before.silver).not.toEqual(b.silver)
    await promoteNewThreshold(ws.lake)
    const settings = settingsFile(ws, NEW)

    // killed once its second chunk has committed (the progress line follows the commit)
    const killed = cli(['replay', '--lake', ws.lake, '--settings', settings, '--chunk-batches', '1'])
    await killed.waitFor(`replay chunk 2/${ROUNDS}:`)
    killed.proc.kill('SIGKILL')
    const exit = await killed.exited
    console.info(`replay exit: ${exit.signal ?? exit.code}; ${(killed.stderr().match(/^replay chunk/gm) ?? []).length} chunks reported`)

    // every chunk whole: each order once, windows agreeing with silver, offsets and bronze as they were
    const mid = await queries(ws.lake, {
      ...KEPT,
      dup: `SELECT count(*) AS n FROM (SELECT order_id FROM silver_orders GROUP BY order_id HAVING count(*) > 1)`,
      windows: `SELECT coalesce(sum(orders), 0)::BIGINT AS orders, (SELECT count(*) FROM silver_orders WHERE NOT is_late) AS silver FROM order_windows`,
      alerts: `SELECT count(*) AS n, (SELECT count(*) FROM silver_orders s JOIN ruleset_versions v ON v.version = s.ruleset_version
          WHERE s.fraud_score >= (v.ruleset->>'threshold')::INTEGER) AS expected FROM fraud_alerts`,
      replayed: `SELECT count(*) AS n FROM batches WHERE kind = 'replay'`
    })
    expect(mid.dup[0].n).toBe(0)
    expect(mid.windows[0].orders).toBe(mid.windows[0].silver)
    expect(mid.alerts[0].n).toBe(mid.alerts[0].expected)
    expect(mid.replayed[0].n).toBeGreaterThanOrEqual(2)
    for (const k of Object.keys(KEPT) as (keyof typeof KEPT)[]) expect(mid[k], k).toEqual(before[k])

    await replay(ws.lake, ['--settings', settings, '--chunk-batches', '1'])
    const after = await queries(ws.lake, { ...DERIVED, ...KEPT })
    for (const k of Object.keys(DERIVED) as (keyof typeof DERIVED)[]) expect(after[k], k).toEqual(b[k])
    for (const k of Object.keys(KEPT) as (keyof typeof KEPT)[]) expect(after[k], k).toEqual(before[k])
  })

  it('refuses a lake a running pipeline holds (exit 3)', { timeout: 60_000 }, async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('1.jsonl'), [order({ order_id: 'held-1' })])
    const owner = spawnPipeline(ws.input, ws.lake)
    children.push(owner)
    await owner.waitFor('batch 1:')
    const c = cli(['replay', '--lake', ws.lake])
    expect((await c.exited).code, c.stderr()).toBe(3)
    expect(c.stderr()).toMatch(/in use by another process/)
  })
})

describe('lake.replay over the API', () => {
  let host: EngineHost | undefined
  afterAll(() => host?.dispose())

  it('is refused while the pipeline runs; stopped, it replays with the app settings and pushes each chunk', { timeout: 120_000 }, async () => {
    const engine = await startFolderEngine()
    host = engine.host
    const { call } = engine
    writeLines(engine.orders('1.jsonl'), [
      order({ order_id: 'eur-1', currency: 'EUR', total_amount: 100 }),
      order({ order_id: 'nok-1', currency: 'NOK', total_amount: 200 })
    ])
    await call('pipeline.start')
    await until('the batch', async () => (await call('pipeline.status')).totals.orders >= 1)
    await expect(call('lake.replay', {})).rejects.toMatchObject({ type: 'validation', message: /stop the pipeline first/ })

    await call('pipeline.stop')
    await call('settings.update', { patch: { reporting: { fxRates: { EUR: 2, NOK: 0.1 } } } })
    const pushed: unknown[] = []
    const off = host.events.subscribe('replay.progress', (p) => pushed.push(p))
    const summary = await call('lake.replay', {})
    off()
    expect(summary).toMatchObject({ replayId: 2, chunks: 1, batches: 1, lines: 2, valid: 2 })
    expect(pushed).toEqual([expect.objectContaining({ chunk: 1, chunks: 1, batches: [1, 1], valid: 2, quarantined: 0 })])
    const orders = await call('query.recentOrders', {})
    expect(orders.map((o: { orderId: string; reportingAmount: number }) => [o.orderId, o.reportingAmount]).sort()).toEqual([
      ['eur-1', 200],
      ['nok-1', 20]
    ])
  })
})
