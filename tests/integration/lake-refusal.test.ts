import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, describe, expect, it } from 'vitest'
import { openLake, LakeError } from '../../src/main/lake/lake'
import { SCHEMA_VERSION } from '../../src/main/lake/schema'
import { V4_MIGRATION_RATES } from '../../src/main/lake/migrations'
import { spawnCli } from '../support/kafka-processes'
import { cleanupTempDirs, lakeFromFixture, makeTempDir, makeWorkspace, order, queries, runPipeline, writeLines } from '../support/lake-fixtures'

// A lake is a StreamDesk lake or it is refused, unchanged: another program's DuckDB file, a
// SQLite file, junk, an empty file, a folder that is not empty, the root folder. A lake from an
// older StreamDesk is migrated; one from a newer StreamDesk is refused.

afterAll(() => cleanupTempDirs())

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

/** Another program's DuckDB database in `dir`/lake.duckdb, with the given tables. */
async function foreignDuckDb(dir: string, sql: string): Promise<string> {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'lake.duckdb')
  const db = await DuckDBInstance.create(file)
  const c = await db.connect()
  await c.run(sql)
  c.closeSync()
  db.closeSync()
  return file
}

async function refusal(dir: string, create = true): Promise<LakeError> {
  const err = await openLake(dir, { create }).then(
    (lake) => {
      void lake.close()
      throw new Error(`opened ${dir}`)
    },
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(LakeError)
  return err as LakeError
}

describe('a lake folder that is not a StreamDesk lake is refused unchanged', () => {
  it("another program's DuckDB database, also with tables named like the lake's", async () => {
    for (const sql of [
      `CREATE TABLE invoices (id INTEGER, amount DOUBLE); INSERT INTO invoices VALUES (1, 9.5)`,
      `CREATE TABLE batches (id INTEGER); CREATE TABLE silver_orders (x VARCHAR); INSERT INTO batches VALUES (7)`,
      `CREATE TABLE lake_meta (key VARCHAR, value VARCHAR); INSERT INTO lake_meta VALUES ('schema_version', '1')`
    ]) {
      const dir = makeTempDir()
      const file = await foreignDuckDb(dir, sql)
      const before = sha(file)
      const err = await refusal(dir)
      expect(err.code).toBe('refused')
      expect(err.message).toMatch(/is a DuckDB database that is not a StreamDesk lake \(tables: .+\); it was left unchanged/)
      expect(sha(file)).toBe(before)
      expect(readdirSync(dir)).toEqual(['lake.duckdb'])
    }
  })

  it('a SQLite file, junk, an empty file: refused by their first bytes, before DuckDB sees them', async () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4080)]), /is a SQLite database, not a StreamDesk lake/],
      [Buffer.from('hello, this is not a database\n'.repeat(50)), /is not a DuckDB database \(unknown content\)/],
      [Buffer.alloc(0), /is an empty file, not a StreamDesk lake/]
    ]
    for (const [bytes, message] of cases) {
      const dir = makeTempDir()
      writeFileSync(join(dir, 'lake.duckdb'), bytes)
      const err = await refusal(dir)
      expect(err.message).toMatch(message)
      expect(readFileSync(join(dir, 'lake.duckdb')).equals(bytes)).toBe(true)
      expect(readdirSync(dir)).toEqual(['lake.duckdb'])
    }
  })

  it('a new lake only in a missing or empty folder: never the root folder, a file, or a folder with other things in it', async () => {
    expect((await refusal('/')).message).toMatch(/cannot be the root folder/)
    expect(existsSync('/lake.duckdb')).toBe(false)

    const dir = makeTempDir()
    writeFileSync(join(dir, 'notes.txt'), 'mine')
    expect((await refusal(dir)).message).toMatch(/is not empty and holds no StreamDesk lake \(notes\.txt\)/)
    expect(readdirSync(dir)).toEqual(['notes.txt'])

    const file = join(makeTempDir(), 'a-file')
    writeFileSync(file, 'x')
    expect((await refusal(file)).message).toMatch(/is a file, not a folder/)
  })

  it('reading never creates a lake: a missing lake is an error', async () => {
    const dir = join(makeTempDir(), 'typo')
    const err = await refusal(dir, false)
    expect(err.code).toBe('missing')
    expect(existsSync(dir)).toBe(false)
  })

  it('`streamdesk pipeline` on a foreign database exits 3 with one sentence and no stack trace', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('a.jsonl'), [order({ order_id: 'o1' })])
    const file = await foreignDuckDb(ws.lake, `CREATE TABLE batches (id INTEGER); INSERT INTO batches VALUES (1)`)
    const before = sha(file)
    const child = spawnCli(['pipeline', '--input-path', ws.input, '--lake', ws.lake, '--until-idle'])
    const exit = await child.exited
    expect(exit.code, child.stderr()).toBe(3)
    expect(child.stderr().trim()).toMatch(/^streamdesk: .*lake\.duckdb is a DuckDB database that is not a StreamDesk lake \(tables: batches\); it was left unchanged$/)
    expect(child.stderr()).not.toMatch(/\n\s+at /)
    expect(sha(file)).toBe(before)
  })

  it('`streamdesk pipeline` with a missing input folder fails its check before it creates a lake', async () => {
    const root = makeTempDir()
    const child = spawnCli(['pipeline', '--input-path', join(root, 'nope'), '--lake', join(root, 'lake'), '--until-idle'])
    const exit = await child.exited
    expect(exit.code, child.stderr()).toBe(2)
    expect(child.stderr()).toMatch(/input folder .*nope does not exist/)
    expect(readdirSync(root)).toEqual([])
  })
})

describe('lakes outlive versions', () => {
  it('a lake written by the previous version (schema 1) opens, is migrated, and keeps every row; the pipeline goes on writing it', async () => {
    const ws = lakeFromFixture('lake-v1.duckdb.gz')
    const count = {
      silver: 'SELECT count(*) AS n FROM silver_orders',
      customers: 'SELECT count(DISTINCT customer_id) AS n FROM customers',
      quarantine: 'SELECT count(*) AS n FROM quarantine',
      alerts: 'SELECT count(*) AS n FROM fraud_alerts',
      batches: 'SELECT count(*) AS n, max(batch_id) AS last FROM batches',
      meta: `SELECT key, value FROM lake_meta WHERE key IN ('format', 'schema_version') ORDER BY key`
    }
    const before = await queries(ws.lake, count)
    expect(before.meta).toEqual([{ key: 'schema_version', value: '1' }])
    expect(before.silver[0].n).toBe(300)

    writeLines(ws.orders('new.jsonl'), [order({ order_id: 'after-upgrade-1' }), order({ order_id: 'after-upgrade-2' })])
    await runPipeline(ws)
    const after = await queries(ws.lake, {
      ...count,
      cols: `SELECT column_name FROM information_schema.columns WHERE table_name = 'quarantine' AND column_name IN ('kafka_key', 'kafka_timestamp') ORDER BY 1`
    })
    expect(after.meta).toEqual([
      { key: 'format', value: 'streamdesk-lake' },
      { key: 'schema_version', value: String(SCHEMA_VERSION) }
    ])
    expect(after.silver[0].n).toBe(302)
    expect(after.customers).toEqual(before.customers)
    expect(after.quarantine).toEqual(before.quarantine)
    expect(after.alerts[0].n).toBeGreaterThanOrEqual(before.alerts[0].n as number)
    expect(after.batches[0]).toEqual({ n: 2, last: 2 })
    expect(after.cols).toEqual([{ column_name: 'kafka_key' }, { column_name: 'kafka_timestamp' }])
  })

  it('a lake written by the previous version (schema 2) opens, is migrated, and keeps every row, offsets included', async () => {
    const ws = lakeFromFixture('lake-v2.duckdb.gz')
    const count = {
      silver: 'SELECT count(*) AS n FROM silver_orders',
      customers: 'SELECT count(*) AS n FROM customers',
      quarantine: 'SELECT count(*) AS n FROM quarantine',
      batches: 'SELECT count(*) AS n, max(batch_id) AS last FROM batches',
      version: `SELECT value FROM lake_meta WHERE key = 'schema_version'`
    }
    const before = await queries(ws.lake, { ...count, offsets: 'SELECT count(*) AS n FROM source_offsets' })
    expect(before.version).toEqual([{ value: '2' }])
    expect(before.silver[0].n).toBe(300)
    expect(before.offsets[0].n).toBe(3)

    writeLines(ws.orders('new.jsonl'), [order({ order_id: 'after-upgrade-1' }), order({ order_id: 'after-upgrade-2' })])
    await runPipeline(ws)
    const after = await queries(ws.lake, {
      ...count,
      offsets: 'SELECT key, identity IS NOT NULL AS has_identity FROM source_offsets ORDER BY has_identity, key',
      events: 'SELECT batch_id, events::VARCHAR AS events FROM batches ORDER BY batch_id'
    })
    expect(after.version).toEqual([{ value: String(SCHEMA_VERSION) }])
    expect(after.silver[0].n).toBe(302)
    expect(after.customers).toEqual(before.customers)
    expect(after.quarantine).toEqual(before.quarantine)
    expect(after.batches[0]).toEqual({ n: 2, last: 2 })
    // the fixture's offsets are of another input folder: kept as they were, so going back to
    // that folder reads nothing twice; the new file's offset has an identity
    expect(after.offsets.slice(0, 3).map((o) => o.has_identity)).toEqual([false, false, false])
    expect(after.offsets[3]).toEqual({ key: ws.orders('new.jsonl'), has_identity: true })
    expect(after.events).toEqual([
      { batch_id: 1, events: '[]' },
      { batch_id: 2, events: '[]' }
    ])
  })

  it('a lake written by the previous version (schema 3) opens, is migrated: its orders converted to USD at the fixed migration rates, its windows summed again', async () => {
    const ws = lakeFromFixture('lake-v3.duckdb.gz')
    const count = {
      silver: 'SELECT count(*) AS n, sum(total_cents) AS cents FROM silver_orders',
      customers: 'SELECT count(*) AS n FROM customers',
      quarantine: 'SELECT count(*) AS n FROM quarantine',
      alerts: 'SELECT count(*) AS n FROM fraud_alerts',
      offsets: 'SELECT count(*) AS n FROM source_offsets',
      version: `SELECT value FROM lake_meta WHERE key = 'schema_version'`
    }
    const before = await queries(ws.lake, {
      ...count,
      currencies: 'SELECT currency, count(*) AS n FROM silver_orders GROUP BY 1 ORDER BY 1',
      // schema 3 added the amounts as they came, whatever their currency
      windows: `SELECT (SELECT sum(revenue) FROM order_windows)::DOUBLE AS revenue,
        (SELECT sum(total_cents) FILTER (WHERE NOT is_late AND status NOT IN ('cancelled', 'refunded')) FROM silver_orders) / 100 AS raw_sum`
    })
    expect(before.version).toEqual([{ value: '3' }])
    expect(before.silver[0].n).toBe(300)
    expect(before.currencies.map((c) => c.currency)).toEqual(['AUD', 'CAD', 'EUR', 'GBP', 'USD'])
    expect(before.windows[0].revenue).toBeCloseTo(before.windows[0].raw_sum as number, 2)

    writeLines(ws.orders('new.jsonl'), [order({ order_id: 'after-upgrade-1' }), order({ order_id: 'after-upgrade-2', currency: 'GBP' })])
    await runPipeline(ws)
    const after = await queries(ws.lake, {
      ...count,
      version: `SELECT value FROM lake_meta WHERE key IN ('schema_version', 'reporting_currency') ORDER BY key`,
      // every old order at the rate the migration states, in cents rounded once
      converted: `SELECT count(*) FILTER (WHERE fx_rate = r.rate AND reporting_currency = 'USD'
          AND reporting_cents = round(total_cents * r.rate) AND reporting_amount = reporting_cents / 100) AS ok, count(*) AS n
        FROM silver_orders s JOIN (VALUES ${Object.entries(V4_MIGRATION_RATES)
          .map(([c, r]) => `('${c}', ${r}::DOUBLE)`)
          .join(', ')}) r(currency, rate) USING (currency) WHERE s.batch_id = 1`,
      alerts: `SELECT count(*) AS n, count(*) FILTER (WHERE a.reporting_amount = s.reporting_amount AND a.fx_rate = s.fx_rate) AS same
        FROM fraud_alerts a JOIN silver_orders s USING (order_id)`,
      windows: `SELECT (SELECT sum(revenue) FROM order_windows) = (SELECT sum(reporting_cents) FILTER (WHERE NOT is_late AND status NOT IN ('cancelled', 'refunded')) FROM silver_orders) / 100 AS ok`
    })
    expect(after.version).toEqual([{ value: 'USD' }, { value: String(SCHEMA_VERSION) }])
    expect(after.silver[0].n).toBe(302)
    expect(after.customers).toEqual(before.customers)
    expect(after.quarantine).toEqual(before.quarantine)
    expect(after.offsets[0].n).toBe(4)
    expect(after.converted).toEqual([{ ok: 300, n: 300 }])
    expect(after.alerts[0].same).toBe(after.alerts[0].n)
    expect(after.alerts[0].n).toBeGreaterThanOrEqual(before.alerts[0].n as number)
    expect(after.windows).toEqual([{ ok: true }])
  })

  it('a lake from a newer StreamDesk is refused with a clear message and left unchanged', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('a.jsonl'), [order({ order_id: 'o1' })])
    await runPipeline(ws)
    const db = await DuckDBInstance.create(join(ws.lake, 'lake.duckdb'))
    const c = await db.connect()
    await c.run(`UPDATE lake_meta SET value = '${SCHEMA_VERSION + 1}' WHERE key = 'schema_version'`)
    c.closeSync()
    db.closeSync()
    const before = sha(join(ws.lake, 'lake.duckdb'))
    const mtime = statSync(join(ws.lake, 'lake.duckdb')).mtimeMs
    const err = await refusal(ws.lake)
    expect(err.message).toMatch(new RegExp(`was written by a newer StreamDesk \\(lake schema version ${SCHEMA_VERSION + 1}; this version reads up to ${SCHEMA_VERSION}\\)`))
    expect(sha(join(ws.lake, 'lake.duckdb'))).toBe(before)
    expect(statSync(join(ws.lake, 'lake.duckdb')).mtimeMs).toBe(mtime)
  })

  it('a copy of a lake keeps working where it is copied to (the marker is inside the file)', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('a.jsonl'), [order({ order_id: 'o1' })])
    await runPipeline(ws)
    const copy = makeTempDir()
    copyFileSync(join(ws.lake, 'lake.duckdb'), join(copy, 'lake.duckdb'))
    const lake = await openLake(copy, { create: false })
    const r = await lake.reader.runAndReadAll('SELECT count(*) FROM silver_orders')
    expect(Number(r.getRows()[0][0])).toBe(1)
    await lake.close()
  })
})
