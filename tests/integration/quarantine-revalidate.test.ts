import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { EngineHost } from '../../src/main/api/host'
import { parseSettings } from '../../src/shared/settings'
import { killLeftovers, spawnTsx, type Child } from '../support/bulk-input'
import { cleanupTempDirs, MIN, makeWorkspace, order, queries, runPipeline, ts, writeLines } from '../support/lake-fixtures'
import { startFolderEngine } from '../support/engine-host'
import { until } from '../support/wait'

// `streamdesk quarantine revalidate` (lake/revalidate.ts), run as the CLI in a child process:
// SEK orders quarantined for want of a rate enter silver once the rate is in the settings, in a
// batch of kind 'revalidate' that resolves their quarantine rows; done twice, they count once;
// a replay afterwards judges the same lines under their own batch without counting them twice.

afterAll(cleanupTempDirs)

const children: Child[] = []
afterEach(() => killLeftovers(children))

async function cli(args: string[], code = 0): Promise<string> {
  const c = spawnTsx('src/main/cli/main.ts', args)
  children.push(c)
  const exit = await c.exited
  expect(exit.code, c.stderr()).toBe(code)
  return c.stderr()
}

const STATE = {
  silver: `SELECT order_id, batch_id, reporting_amount::VARCHAR AS amount, is_late FROM silver_orders ORDER BY order_id`,
  quarantine: `SELECT id, batch_id, reason, resolved_batch_id FROM quarantine ORDER BY id`,
  batches: `SELECT batch_id, kind, rows_read, valid, quarantined, duplicates, replay::VARCHAR AS replay FROM batches ORDER BY batch_id`,
  windows: `SELECT coalesce(sum(orders), 0)::BIGINT AS orders, (SELECT count(*) FROM silver_orders WHERE NOT is_late) AS silver FROM order_windows`,
  offsets: `SELECT * FROM source_offsets ORDER BY key`,
  bronze: `SELECT count(*) AS n FROM bronze_orders`
}

describe('quarantine revalidate', () => {
  it('takes fixed lines into silver once, resolves them, keeps the still-bad ones', { timeout: 120_000 }, async () => {
    const ws = makeWorkspace()
    const T0 = '2024-03-01T12:00:00.000Z'
    writeLines(ws.orders('1.jsonl'), [
      order({ order_id: 'a1', total_amount: 10, order_ts: ts(0, T0) }),
      order({ order_id: 'sek-1', currency: 'SEK', total_amount: 300, order_ts: ts(MIN, T0) }),
      order({ order_id: 'sek-2', currency: 'SEK', total_amount: 100, order_ts: ts(2 * MIN, T0) }),
      // an order_id silver holds already: valid now, and a duplicate
      order({ order_id: 'a1', currency: 'SEK', total_amount: 50, order_ts: ts(0, T0) }),
      'not json'
    ])
    await runPipeline(ws)
    const before = await queries(ws.lake, STATE)
    const sekReason = 'no exchange rate for SEK: add one to reporting.fxRates (USD per SEK)'
    expect(before.quarantine.map((q) => q.reason)).toEqual([sekReason, sekReason, sekReason, 'malformed JSON'])

    const settings = join(ws.root, 'settings.json')
    writeFileSync(settings, JSON.stringify({ reporting: parseSettings({ reporting: { fxRates: { EUR: 1.08, SEK: 0.1 } } }).reporting }))
    const notJson = before.quarantine[3].id as number

    const first = await cli(['quarantine', 'revalidate', '--lake', ws.lake, '--settings', settings, '--reason', sekReason])
    expect(first).toMatch(/revalidate batch 2: 3 lines: 2 now valid, 1 duplicates, 0 still quarantined, 0 alerts/)
    const still = await cli(['quarantine', 'revalidate', '--lake', ws.lake, '--settings', settings, '--id', String(notJson)])
    expect(still).toMatch(/revalidate batch 3: 1 lines: 0 now valid, 0 duplicates, 1 still quarantined/)
    const again = await cli(['quarantine', 'revalidate', '--lake', ws.lake, '--settings', settings, '--reason', sekReason])
    expect(again).toMatch(/no unresolved quarantined order line matches/)

    const after = await queries(ws.lake, STATE)
    expect(after.silver).toEqual([
      { order_id: 'a1', batch_id: 1, amount: '10.00', is_late: false },
      { order_id: 'sek-1', batch_id: 2, amount: '30.00', is_late: false },
      { order_id: 'sek-2', batch_id: 2, amount: '10.00', is_late: false }
    ])
    expect(after.quarantine.map((q) => [q.reason, q.resolved_batch_id])).toEqual([
      [sekReason, 2],
      [sekReason, 2],
      [sekReason, 2],
      ['malformed JSON', null]
    ])
    expect(after.batches.slice(1).map((b) => [b.kind, b.rows_read, b.valid, b.quarantined, b.duplicates, JSON.parse(b.replay as string).stillBad])).toEqual([
      ['revalidate', 3, 2, 0, 1, 0],
      ['revalidate', 1, 0, 0, 0, 1]
    ])
    expect(after.windows[0].orders).toBe(3)
    expect(after.windows[0].silver).toBe(3)
    expect(after.offsets).toEqual(before.offsets)
    expect(after.bronze).toEqual(before.bronze)

    // a replay judges those lines under their own batch: each order once, none quarantined twice
    await cli(['replay', '--lake', ws.lake, '--settings', settings])
    const replayed = await queries(ws.lake, STATE)
    expect(replayed.silver.map((s) => [s.order_id, s.batch_id, s.amount])).toEqual([
      ['a1', 1, '10.00'],
      ['sek-1', 1, '30.00'],
      ['sek-2', 1, '10.00']
    ])
    expect(replayed.quarantine.map((q) => q.reason)).toEqual(['malformed JSON'])
    expect(replayed.windows[0].orders).toBe(3)
  })
})

describe('quarantine.revalidate over the API', () => {
  let host: EngineHost | undefined
  afterAll(() => host?.dispose())

  it('is refused while the pipeline runs, then takes one line, then all with its reason, once', { timeout: 120_000 }, async () => {
    const engine = await startFolderEngine()
    host = engine.host
    const { call } = engine
    writeLines(engine.orders('1.jsonl'), [
      order({ order_id: 'nok-1', currency: 'NOK', total_amount: 100 }),
      order({ order_id: 'nok-2', currency: 'NOK', total_amount: 200 }),
      order({ order_id: 'nok-3', currency: 'NOK', total_amount: 300 })
    ])
    await call('pipeline.start')
    await until('3 lines quarantined', async () => (await call('pipeline.status')).totals.quarantined >= 3)
    const rows: { id: number; reason: string; resolvedBatchId: number | null }[] = (await call('query.quarantine', {})).rows
    await expect(call('quarantine.revalidate', { id: rows[0].id })).rejects.toMatchObject({ type: 'validation', message: /stop the pipeline first/ })

    await call('pipeline.stop')
    await call('settings.update', { patch: { reporting: { fxRates: { EUR: 1.08, NOK: 0.1 } } } })
    const one = await call('quarantine.revalidate', { id: rows[0].id })
    expect(one).toMatchObject({ lines: 1, valid: 1, stillBad: 0 })
    const all = await call('quarantine.revalidate', { reason: rows[1].reason })
    expect(all).toMatchObject({ batchId: one.batchId + 1, lines: 2, valid: 2 })
    expect(await call('quarantine.revalidate', { reason: rows[1].reason })).toMatchObject({ batchId: null, lines: 0 })
    const after: typeof rows = (await call('query.quarantine', {})).rows
    expect(after.map((r) => r.resolvedBatchId).sort()).toEqual([one.batchId, all.batchId, all.batchId].sort())
    expect((await call('pipeline.status')).totals.orders).toBe(3)
  })
})

describe('a replay around a re-validation', () => {
  it('sees the re-validated order as processed between the batches around it', { timeout: 120_000 }, async () => {
    const ws = makeWorkspace()
    const settings = join(ws.root, 'settings.json')
    writeFileSync(settings, JSON.stringify({ reporting: { fxRates: { EUR: 1.08, SEK: 0.1 } } }))
    const T0 = '2024-03-01T12:00:00.000Z'
    // batch 1: sek-1 quarantined (no rate); batch 2: another order
    writeLines(ws.orders('1.jsonl'), [order({ order_id: 'sek-1', currency: 'SEK', total_amount: 300, order_ts: ts(MIN, T0) })])
    await runPipeline(ws)
    writeLines(ws.orders('2.jsonl'), [order({ order_id: 'x-2', total_amount: 20, order_ts: ts(2 * MIN, T0) })])
    await runPipeline(ws)
    // batch 3: sek-1 re-validated; batch 4: a later line with the same order_id, a duplicate
    await cli(['quarantine', 'revalidate', '--lake', ws.lake, '--settings', settings, '--reason', 'no exchange rate for SEK: add one to reporting.fxRates (USD per SEK)'])
    writeLines(ws.orders('4.jsonl'), [order({ order_id: 'sek-1', total_amount: 99, order_ts: ts(3 * MIN, T0) })])
    await runPipeline(ws, { baseSettings: parseSettings({ reporting: { fxRates: { EUR: 1.08, SEK: 0.1 } } }) })
    const before = await queries(ws.lake, { silver: STATE.silver, b: `SELECT strftime(committed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS at FROM batches WHERE batch_id = 2` })
    expect(before.silver.map((s) => [s.order_id, s.batch_id, s.amount])).toEqual([
      ['sek-1', 3, '30.00'],
      ['x-2', 2, '20.00']
    ])

    // batches 2 and 4, with the re-validation between them: replayed as two chunks
    const out = await cli(['replay', '--lake', ws.lake, '--settings', settings, '--from', String(before.b[0].at)])
    expect(out).toMatch(/replay chunk 1\/2: batches 2–2/)
    expect(out).toMatch(/replay chunk 2\/2: batches 4–4, 1 orders read: 0 valid, 0 quarantined, 0 late, 1 duplicates/)
    const after = await queries(ws.lake, STATE)
    expect(after.silver).toEqual(before.silver)
    expect(after.windows[0].orders).toBe(2)
  })
})
