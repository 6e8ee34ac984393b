import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseSettings } from '../../src/shared/settings'
import { acquireLake } from '../../src/main/lake/lake-registry'
import { ParquetMirror } from '../../src/main/lake/parquet-mirror'
import { spawnPipeline, spawnTsx, writeBulkInput, type Child } from '../support/bulk-input'
import { cleanupTempDirs, makeWorkspace, MIN, HOUR, order, query, runPipeline, sq, ts, writeLines, type Workspace } from '../support/lake-fixtures'
import { until } from '../support/wait'

// The Parquet mirror read by DuckDB equals the lake: silver_orders, fraud_alerts and
// order_windows, row for row (EXCEPT ALL both ways, so repeats count), after runs that add orders
// to days already mirrored and recompute their windows, and after compaction. Its files never
// include one the mirror did not write, and it refuses folders that are not its own.

afterAll(() => cleanupTempDirs())

const TABLES = [
  { table: 'silver_orders', partition: 'order_date', day: 'order_ts' },
  { table: 'fraud_alerts', partition: 'order_date', day: 'order_ts' },
  { table: 'order_windows', partition: 'window_date', day: 'window_start' }
]

const run = (ws: Workspace, mirror: string) =>
  runPipeline(ws, { baseSettings: parseSettings({ mirror: { enabled: true, path: mirror }, pipeline: { watermarkMinutes: 1 } }) })

/** For each table: rows in the lake not in the mirror, rows in the mirror not in the lake, and the partition values that are not the row's UTC day. */
async function differences(ws: Workspace, mirror: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const t of TABLES) {
    const files = `read_parquet(${sq(join(mirror, t.table, '**', '*.parquet'))}, hive_partitioning = true, hive_types = {'${t.partition}': VARCHAR})`
    const [r] = await query(
      ws.lake,
      `SELECT
        (SELECT count(*) FROM (SELECT * FROM ${t.table} EXCEPT ALL SELECT * EXCLUDE (${t.partition}) FROM ${files})) AS missing,
        (SELECT count(*) FROM (SELECT * EXCLUDE (${t.partition}) FROM ${files} EXCEPT ALL SELECT * FROM ${t.table})) AS extra,
        (SELECT count(*) FROM ${files} WHERE ${t.partition} <> strftime(${t.day} AT TIME ZONE 'UTC', '%Y-%m-%d')) AS misfiled,
        (SELECT count(*) FROM ${t.table}) AS rows`
    )
    out[t.table] = r
  }
  return out
}

const expectEqual = async (ws: Workspace, mirror: string, rows: Record<string, number>) => {
  const d = await differences(ws, mirror)
  for (const t of TABLES) expect(d[t.table], t.table).toEqual({ missing: 0, extra: 0, misfiled: 0, rows: rows[t.table] })
}

const dataFiles = (mirror: string, table: string): string[] =>
  readdirSync(join(mirror, table), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet')).sort()

describe('the Parquet mirror', () => {
  it('equals the lake, run after run and after compaction, and leaves files it did not write alone', async () => {
    const ws = makeWorkspace()
    const mirror = join(ws.root, 'mirror')
    // two UTC days, an alert on each, and windows on both
    writeLines(ws.orders('a.jsonl'), [
      order({ order_id: 'a1', order_ts: ts(0) }),
      order({ order_id: 'a2', order_ts: ts(11 * HOUR + 59 * MIN), total_amount: 5200 }),
      order({ order_id: 'a3', order_ts: ts(12 * HOUR + 5 * MIN), total_amount: 6100 })
    ])
    await run(ws, mirror)
    await expectEqual(ws, mirror, { silver_orders: 3, fraud_alerts: 2, order_windows: 3 })
    expect(readdirSync(join(mirror, 'silver_orders')).sort()).toEqual(['order_date=2024-03-01', 'order_date=2024-03-02'])

    // more orders on a day already mirrored: its window file is replaced, its silver rows added
    writeLines(ws.orders('b.jsonl'), [
      order({ order_id: 'b1', order_ts: ts(12 * HOUR + 5 * MIN + 10_000) }),
      order({ order_id: 'late', order_ts: ts(0) }),
      order({ order_id: 'b2', order_ts: ts(12 * HOUR + 6 * MIN), total_amount: 7000 })
    ])
    await run(ws, mirror)
    writeLines(ws.orders('c.jsonl'), [order({ order_id: 'c1', order_ts: ts(12 * HOUR + 6 * MIN + 1000) })])
    await run(ws, mirror)
    const [counts] = await query(ws.lake, `SELECT (SELECT count(*) FROM silver_orders WHERE is_late) AS late, (SELECT count(*) FROM order_windows WHERE orders > 1) AS recomputed`)
    expect(counts).toEqual({ late: 1, recomputed: 2 })
    await expectEqual(ws, mirror, { silver_orders: 7, fraud_alerts: 3, order_windows: 4 })
    expect(dataFiles(mirror, 'silver_orders').filter((f) => f.startsWith('order_date=2024-03-02'))).toHaveLength(3)

    // someone's own file in a partition folder: never read as ours, never removed
    const foreign = join(mirror, 'silver_orders', 'order_date=2024-03-02', 'notes.parquet.bak')
    writeFileSync(foreign, 'mine\n')

    const lake = await acquireLake(ws.lake, { create: false })
    try {
      const m = await ParquetMirror.open(lake, mirror, { compactEveryMs: HOUR })
      await m.compact()
      await m.close()
    } finally {
      await lake.close()
    }
    expect(dataFiles(mirror, 'silver_orders')).toEqual([
      'order_date=2024-03-01/c000000000001-000000000002.parquet',
      'order_date=2024-03-02/c000000000001-000000000003.parquet'
    ])
    expect(readFileSync(foreign, 'utf8')).toBe('mine\n')
    await expectEqual(ws, mirror, { silver_orders: 7, fraud_alerts: 3, order_windows: 4 })
    // and it goes on after compaction
    writeLines(ws.orders('d.jsonl'), [order({ order_id: 'd1', order_ts: ts(12 * HOUR + 7 * MIN) })])
    await run(ws, mirror)
    await expectEqual(ws, mirror, { silver_orders: 8, fraud_alerts: 3, order_windows: 5 })
  })

  it('is written again after a replay, which rewrites rows of batches it had mirrored', async () => {
    const ws = makeWorkspace()
    const mirror = join(ws.root, 'mirror')
    writeLines(ws.orders('a.jsonl'), [
      order({ order_id: 'usd', order_ts: ts(0), total_amount: 6000, items: [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: 6000 }] }),
      order({ order_id: 'eur', order_ts: ts(MIN), currency: 'EUR', total_amount: 2000, items: [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: 2000 }] })
    ])
    await run(ws, mirror)
    await expectEqual(ws, mirror, { silver_orders: 2, fraud_alerts: 1, order_windows: 2 })
    const settings = join(ws.root, 'rates.json')
    writeFileSync(settings, JSON.stringify({ reporting: { fxRates: { EUR: 2 } } }))
    const replay = spawnTsx('src/main/cli/main.ts', ['replay', '--lake', ws.lake, '--settings', settings])
    const exit = await replay.exited
    expect(exit.code, replay.stderr()).toBe(0)
    // the EUR order is worth 4,000 USD now, and alerts ("amount > 3000")
    const [eur] = await query(ws.lake, `SELECT reporting_amount::DOUBLE AS usd FROM silver_orders WHERE order_id = 'eur'`)
    expect(eur).toEqual({ usd: 4000 })
    await run(ws, mirror)
    await expectEqual(ws, mirror, { silver_orders: 2, fraud_alerts: 2, order_windows: 2 })
  })

  it('removes only its own leftovers of an interrupted sync: files past the batch it last recorded', async () => {
    const ws = makeWorkspace()
    const mirror = join(ws.root, 'mirror')
    writeLines(ws.orders('a.jsonl'), [order({ order_id: 'a1', order_ts: ts(0) })])
    await run(ws, mirror)
    // what a crash after the rename and before the state file leaves: a file for batch 2 (which
    // the lake has not committed yet), next to someone's file of a name the mirror never gives
    const day = join(mirror, 'silver_orders', 'order_date=2024-03-01')
    const [own] = readdirSync(day)
    writeFileSync(join(day, 'b000000000002-000000000002-0.parquet'), readFileSync(join(day, own)))
    writeFileSync(join(day, 'b2.parquet'), 'not ours\n')
    writeLines(ws.orders('b.jsonl'), [order({ order_id: 'b1', order_ts: ts(MIN) })])
    await run(ws, mirror)
    expect(readdirSync(day).sort()).toEqual(['b000000000001-000000000001-0.parquet', 'b000000000002-000000000002-0.parquet', 'b2.parquet'])
    const files = sq(join(day, 'b0*.parquet'))
    const [r] = await query(ws.lake, `SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM read_parquet(${files})`)
    expect(r).toEqual({ n: 2, ids: 2 })
  })

  it('finishes a compaction cut short: the merged file stays, the files it replaced go', async () => {
    const ws = makeWorkspace()
    const mirror = join(ws.root, 'mirror')
    writeLines(ws.orders('a.jsonl'), [order({ order_id: 'a1', order_ts: ts(0), total_amount: 5200 })])
    await run(ws, mirror)
    writeLines(ws.orders('b.jsonl'), [order({ order_id: 'b1', order_ts: ts(MIN) })])
    await run(ws, mirror)
    // what a crash between the rename of the merged file and the removal of the merged ones leaves
    const day = join(mirror, 'silver_orders', 'order_date=2024-03-01')
    const merged = readdirSync(day).map((f) => sq(join(day, f)))
    expect(merged).toHaveLength(2)
    await query(ws.lake, `COPY (SELECT * FROM read_parquet([${merged.join(', ')}])) TO ${sq(join(day, 'c000000000001-000000000002.parquet'))} (FORMAT parquet)`)
    writeLines(ws.orders('c.jsonl'), [order({ order_id: 'c1', order_ts: ts(2 * MIN) })])
    await run(ws, mirror)
    expect(readdirSync(day).sort()).toEqual(['b000000000003-000000000003-0.parquet', 'c000000000001-000000000002.parquet'])
    await expectEqual(ws, mirror, { silver_orders: 3, fraud_alerts: 1, order_windows: 3 })
  })

  it('equals the lake after the pipeline is SIGKILLed twice while it mirrors, and run again', { timeout: 240_000 }, async () => {
    const ws = makeWorkspace()
    const mirror = join(ws.root, 'mirror')
    writeBulkInput(ws.input, { files: 12, ordersPerFile: 1500, customers: 300, seed: 7 })
    const spawned: Child[] = []
    try {
      for (const batchesBeforeKill of [2, 3]) {
        const child = spawnPipeline(ws.input, ws.lake, ['--max-batch-bytes', String(256 * 1024), '--mirror', mirror])
        spawned.push(child)
        // a kill wherever the mirror is: any point must leave a mirror the next run can finish
        const seen = (child.stderr().match(/^batch \d+:/gm) ?? []).length
        await until(`${batchesBeforeKill} more batches`, () => (child.stderr().match(/^batch \d+:/gm) ?? []).length >= seen + batchesBeforeKill, {
          detail: () => child.stderr().slice(-500)
        })
        child.proc.kill('SIGKILL')
        await child.exited
      }
      const last = spawnPipeline(ws.input, ws.lake, ['--max-batch-bytes', String(256 * 1024), '--mirror', mirror, '--until-idle'])
      spawned.push(last)
      expect((await last.exited).code, last.stderr().slice(-2000)).toBe(0)
    } finally {
      for (const c of spawned) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL')
    }
    const [n] = await query(ws.lake, `SELECT (SELECT count(*) FROM silver_orders) AS orders, (SELECT count(*) FROM fraud_alerts) AS alerts, (SELECT count(*) FROM order_windows) AS windows`)
    expect(n.orders).toBeGreaterThan(0)
    await expectEqual(ws, mirror, { silver_orders: n.orders as number, fraud_alerts: n.alerts as number, order_windows: n.windows as number })
  })

  it('refuses a folder that is not empty and not its own, and the mirror of another lake', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('a.jsonl'), [order({ order_id: 'a1' })])
    const taken = join(ws.root, 'taken')
    mkdirSync(taken)
    writeFileSync(join(taken, 'report.csv'), 'x\n')
    // a folder that cannot be the mirror is the user's to fix: bad input, exit 2
    await expect(run(ws, taken)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(`the folder ${taken} is not empty and holds no StreamDesk mirror (report.csv)`)
    })
    expect(readdirSync(taken)).toEqual(['report.csv'])

    const mirror = join(ws.root, 'mirror')
    await run(ws, mirror)
    const other = makeWorkspace()
    writeLines(other.orders('a.jsonl'), [order({ order_id: 'o1' })])
    await expect(run(other, mirror)).rejects.toThrow(/holds the Parquet mirror of another lake/)
    await expect(run(ws, join(ws.lake, 'mirror'))).rejects.toThrow(/cannot be in or around the lake folder/)
  })
})
