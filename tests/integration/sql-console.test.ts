import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Pipeline } from '../../src/main/engine/pipeline'
import { settingsFromFlags } from '../../src/main/cli/commands/pipeline'
import type { Lake } from '../../src/main/lake/lake'
import { acquireLake } from '../../src/main/lake/lake-registry'
import { readEndpointFile } from '../../src/main/lake/lake-endpoint-file'
import { SqlConsole, sqlSchema } from '../../src/main/lake/sql-console'
import { LAKE_TABLES } from '../../src/main/lake/schema'
import { FolderSource, FILE_SOURCE_KIND } from '../../src/main/sources/folder-source'
import type { SqlAnswer } from '../../src/shared/sql'
import { writeBulkInput } from '../support/bulk-input'
import { cleanupTempDirs, makeWorkspace, runPipeline, type Workspace } from '../support/lake-fixtures'
import { until } from '../support/wait'

// The SQL console on a real lake file: what it refuses (and that the lake and the disk stay as
// they were), the row cap, cancel, DuckDB's errors with their position, and queries answered
// from committed snapshots while a pipeline writes the same lake.

let ws: Workspace
let lake: Lake
const sql = new SqlConsole()
let input: ReturnType<typeof writeBulkInput>
let expectedOrders = 0

const run = (text: string, maxRows = 1000, queryId?: string): Promise<SqlAnswer> => sql.run(lake, { sql: text, maxRows, queryId })

async function rows(text: string): Promise<unknown[][]> {
  const answer = await run(text)
  if (!answer.ok) throw new Error(`${text}: ${answer.problem.message}`)
  return answer.rows
}

/** Row count of every lake table: the lake is unchanged when this is. */
async function tableCounts(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const t of LAKE_TABLES) out[t] = String((await rows(`SELECT count(*) FROM ${t}`))[0][0])
  return out
}

beforeAll(async () => {
  ws = makeWorkspace()
  input = writeBulkInput(ws.input, { files: 3, ordersPerFile: 400, customers: 50, seed: 12 })
  expectedOrders = input.validOrderIds.size
  await runPipeline(ws)
  lake = await acquireLake(ws.lake, { create: false })
})

afterAll(async () => {
  await lake?.close()
  cleanupTempDirs()
})

describe('SQL console: reading', () => {
  it('answers a SELECT with columns, DuckDB types and JSON values', async () => {
    const answer = await run('SELECT count(*) AS n, min(order_id) AS first FROM silver_orders')
    expect(answer.ok).toBe(true)
    if (!answer.ok) return
    expect(answer.columns).toEqual([
      { name: 'n', type: 'BIGINT' },
      { name: 'first', type: 'VARCHAR' }
    ])
    expect(Number(answer.rows[0][0])).toBe(expectedOrders)
    expect(answer.truncated).toBe(false)
  })

  it('stops at the row cap and says so', async () => {
    const capped = await run('SELECT order_id FROM silver_orders', 100)
    expect(capped.ok && capped.rows.length).toBe(100)
    expect(capped.ok && capped.truncated).toBe(true)
    const exact = await run('SELECT * FROM range(100)', 100)
    expect(exact.ok && exact.rows.length).toBe(100)
    expect(exact.ok && exact.truncated).toBe(false)
  })

  it('allows CTEs, DESCRIBE, SUMMARIZE, a PIVOT with its values and the catalog functions', async () => {
    expect((await rows('SUMMARIZE batches')).length).toBeGreaterThan(5)
    expect((await rows("PIVOT silver_orders ON status IN ('paid', 'shipped') USING count(*) GROUP BY channel"))[0]).toHaveLength(3)
    expect((await rows('WITH s AS (SELECT * FROM silver_orders) SELECT count(*) FROM s'))[0][0]).toBe(String(expectedOrders))
    expect((await rows('DESCRIBE silver_orders')).length).toBeGreaterThan(5)
    expect((await rows("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'batches'"))[0][0]).toBe('1')
  })

  it("lists the lake's tables and columns for completion", async () => {
    const schema = await lake.use(async (l) => {
      const conn = await l.connect()
      try {
        return await sqlSchema(conn)
      } finally {
        conn.closeSync()
      }
    })
    expect(schema.map((t) => t.name).sort()).toEqual([...LAKE_TABLES, 'lake_meta'].sort())
    const silver = schema.find((t) => t.name === 'silver_orders')!
    expect(silver.columns.map((c) => c.name)).toContain('order_id')
  })

  it("gives DuckDB's message and the position it points at", async () => {
    const binder = await run('SELECT order_id,\n  no_such_column FROM silver_orders')
    expect(binder.ok).toBe(false)
    if (binder.ok) return
    expect(binder.problem.kind).toBe('invalid')
    expect(binder.problem.message).toContain('no_such_column')
    expect(binder.problem.position).toEqual({ offset: 19, line: 2, column: 3 })
    const parser = await run('SELECT 1 FROM silver_orders WHER order_id = 1')
    expect(!parser.ok && parser.problem.kind).toBe('invalid')
    expect(!parser.ok && parser.problem.message).toMatch(/syntax error/)
    expect(!parser.ok && parser.problem.position?.offset).toBe('SELECT 1 FROM silver_orders '.length + 5)
  })
})

describe('SQL console: refusals', () => {
  // OUT holds files a query could read; nothing may be read from it or written into it
  const outside = () => join(ws.root, 'outside')
  beforeAll(async () => {
    mkdirSync(outside())
    writeFileSync(join(outside(), 'x.csv'), 'column0\nord-1\n')
    writeFileSync(join(outside(), 'x.json'), '{"a": 1}\n')
  })

  it.each([
    ['INSERT INTO lake_meta VALUES (1, 2)', 'INSERT'],
    ["UPDATE lake_meta SET value = 'x'", 'UPDATE'],
    ['DELETE FROM silver_orders', 'DELETE'],
    ['CREATE TABLE t AS SELECT 1', 'CREATE'],
    ['DROP TABLE batches', 'DROP'],
    ['ALTER TABLE batches ADD COLUMN x INT', 'ALTER'],
    ["ATTACH 'other.duckdb' AS other", 'ATTACH'],
    ['DETACH lake', 'DETACH'],
    ['INSTALL httpfs', 'INSTALL'],
    ['LOAD httpfs', 'LOAD'],
    ["COPY silver_orders TO 'OUT/written.csv'", 'COPY'],
    ["COPY lake_meta FROM 'OUT/x.csv'", 'COPY'],
    ["EXPORT DATABASE 'OUT/export'", 'EXPORT'],
    ['PRAGMA enable_profiling', 'PRAGMA'],
    ['SET threads = 1', 'SET'],
    ['CHECKPOINT', 'CHECKPOINT'],
    ['CALL pragma_version()', 'CALL'],
    ['/* a comment first */ insert into lake_meta values (1, 2)', 'INSERT'],
    ['SELECT 1; DROP TABLE batches', 'one statement at a time; DuckDB reads this text as 2'],
    ['SELECT 1; SELECT 2', 'one statement at a time; DuckDB reads this text as 2'],
    ['PIVOT silver_orders ON status USING count(*)', 'a PIVOT needs its values listed'],
    ["SELECT * FROM read_csv('OUT/x.csv')", 'read_csv() reads files'],
    ["SELECT * FROM read_json_auto('OUT/x.json')", 'read_json_auto() reads files'],
    ["SELECT * FROM read_parquet('OUT/*.parquet')", 'read_parquet() reads files'],
    ["SELECT * FROM glob('/etc/*')", 'glob() reads files'],
    ["SELECT * FROM read_text('/etc/hostname')", 'read_text() reads files'],
    ["SELECT * FROM read_blob('/etc/hostname')", 'read_blob() reads files'],
    ["SELECT * FROM 'OUT/x.csv'", 'is not a table of the lake'],
    ["SELECT * FROM silver_orders WHERE order_id IN (SELECT column0 FROM read_csv('OUT/x.csv'))", 'read_csv() reads files'],
    ["WITH f AS (SELECT * FROM read_csv('OUT/x.csv')) SELECT * FROM f", 'read_csv() reads files'],
    ["SELECT * FROM (WITH \"OUT/x.csv\" AS (SELECT 1) SELECT * FROM \"OUT/x.csv\"), 'OUT/x.csv'", 'is not a table of the lake'],
    ["SELECT * FROM query('SELECT 1')", 'query() runs SQL given as text'],
    ["SELECT getenv('HOME')", 'getenv() reads the environment'],
    ["SELECT nextval('quarantine_id_seq')", 'nextval() advances a sequence']
  ])('refuses %s', async (statement, says) => {
    const before = await tableCounts()
    const answer = await run(statement.replaceAll('OUT', outside()))
    expect(answer.ok).toBe(false)
    if (answer.ok) return
    expect(answer.problem.kind).toBe('refused')
    expect(answer.problem.message).toContain(says)
    expect(await tableCounts()).toEqual(before)
    expect(readdirSync(outside()).sort()).toEqual(['x.csv', 'x.json'])
  })
})

describe('SQL console: cancel and the lake closing', () => {
  it('cancel stops a query that would run for hours', async () => {
    const answer = run('SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000000) b', 10, 'long')
    await until('the query to be running', () => sql.cancel('long'))
    expect(await answer).toEqual({ ok: false, problem: { kind: 'cancelled', message: 'the query was cancelled' } })
    expect(sql.cancel('long')).toBe(false)
    // the lake still answers
    expect((await rows('SELECT 42'))[0][0]).toBe(42)
  })

  it('a cancel sent right after the run, before it has a connection, is not lost', async () => {
    const answer = run('SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000000) b', 10, 'early')
    expect(sql.cancel('early')).toBe(true)
    expect(await answer).toEqual({ ok: false, problem: { kind: 'cancelled', message: 'the query was cancelled' } })
  })
})

describe('SQL console while a pipeline writes the lake', () => {
  it('every answer is one committed snapshot and the counts reach the input', async () => {
    const source = new FolderSource(ws.input)
    const pipeline = new Pipeline({ lake, source, sourceKind: FILE_SOURCE_KIND, settings: () => settingsFromFlags({ trigger: 50 }) })
    source.startWatching()
    const running = pipeline.start()
    const seen: number[] = []
    try {
      for (let round = 0; round < 4; round++) {
        const expected = writeBulkInput(ws.input, { files: 2, ordersPerFile: 300, customers: 0, seed: 100 + round, prefix: `more-${round}` }, input).validOrderIds.size
        await until(
          `silver to hold ${expected} orders`,
          async () => {
            // silver and the batch log are written in one transaction: a snapshot sees both or neither
            const [[silver, logged]] = await rows('SELECT (SELECT count(*) FROM silver_orders), (SELECT sum(valid) FROM batches)')
            expect(silver).toBe(logged)
            seen.push(Number(silver))
            return Number(silver) === expected
          },
          { detail: () => seen.slice(-3) }
        )
      }
    } finally {
      await pipeline.stop()
      await running
      await source.close()
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
  })
})

describe('the query endpoint of the process holding the lake', () => {
  it('is announced in the lake folder while the lake is open', () => {
    const info = readEndpointFile(ws.lake)
    expect(info?.pid).toBe(process.pid)
    expect(readdirSync(ws.lake)).toContain('.streamdesk-endpoint.json')
  })
})
