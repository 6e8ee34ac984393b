import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Lake } from '../../src/main/lake/lake'
import { acquireLake } from '../../src/main/lake/lake-registry'
import { SqlConsole } from '../../src/main/lake/sql-console'
import { ParquetTargetError } from '../../src/main/lake/sql-parquet'
import { writeBulkInput } from '../support/bulk-input'
import { cleanupTempDirs, makeTempDir, makeWorkspace, runPipeline, type Workspace } from '../support/lake-fixtures'
import { until } from '../support/wait'

// A console result exported as Parquet: the file holds exactly the statement's rows, in its
// order and with its types; the guard decides as for a query; an existing file is never replaced
// and nothing but the chosen file is left in the folder.

let ws: Workspace
let lake: Lake
const sql = new SqlConsole()

beforeAll(async () => {
  ws = makeWorkspace()
  writeBulkInput(ws.input, { files: 2, ordersPerFile: 300, customers: 40, seed: 7 })
  await runPipeline(ws)
  lake = await acquireLake(ws.lake, { create: false })
})

afterAll(async () => {
  await lake?.close()
  cleanupTempDirs()
})

/** The file's rows and column types, read by a DuckDB of its own. */
async function readParquet(file: string): Promise<{ rows: unknown[][]; types: string[] }> {
  const instance = await DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  try {
    const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)
    return { rows: reader.getRowsJson(), types: reader.columnTypes().map((t) => t.toString()) }
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}

describe('SQL console: export as Parquet', () => {
  it("writes exactly the statement's rows, in its order, with its column types", async () => {
    const statement = 'SELECT * FROM silver_orders ORDER BY order_id DESC -- newest ids first;'
    const answer = await sql.run(lake, { sql: statement, maxRows: 100_000 })
    if (!answer.ok) throw new Error(answer.problem.message)
    expect(answer.rows.length).toBeGreaterThan(100)
    const dir = makeTempDir()
    const file = join(dir, 'orders.parquet')
    const exported = await sql.exportParquet(lake, { sql: statement, file })
    expect(exported).toMatchObject({ ok: true, file, rows: answer.rows.length })
    const back = await readParquet(file)
    expect(back.rows).toEqual(answer.rows)
    expect(back.types).toEqual(answer.columns.map((c) => c.type))
    expect(readdirSync(dir)).toEqual(['orders.parquet'])
  })

  it('is not bound by the row cap of the console', async () => {
    const file = join(makeTempDir(), 'range.parquet')
    const exported = await sql.exportParquet(lake, { sql: 'SELECT range AS n FROM range(250000);', file })
    expect(exported).toMatchObject({ ok: true, rows: 250_000 })
    expect((await readParquet(file)).rows.length).toBe(250_000)
  })

  it('refuses to replace an existing file, naming it, and leaves it as it was', async () => {
    const dir = makeTempDir()
    const file = join(dir, 'mine.parquet')
    writeFileSync(file, 'not StreamDesk\'s')
    await expect(sql.exportParquet(lake, { sql: 'SELECT 1', file })).rejects.toThrow(ParquetTargetError)
    await expect(sql.exportParquet(lake, { sql: 'SELECT 1', file })).rejects.toThrow(`${file} exists already`)
    expect(readFileSync(file, 'utf8')).toBe('not StreamDesk\'s')
    expect(readdirSync(dir)).toEqual(['mine.parquet'])
  })

  it('writes nothing for a statement the guard refuses or DuckDB rejects', async () => {
    const dir = makeTempDir()
    const file = join(dir, 'out.parquet')
    const refused = [
      `SELECT * FROM read_csv('${join(dir, 'x.csv')}')`,
      'DELETE FROM silver_orders',
      `COPY silver_orders TO '${join(dir, 'copy.parquet')}'`,
      'SELECT 1; SELECT 2',
      // a breakout of the wrapper is not one SELECT on its own
      `SELECT 1) TO '${join(dir, 'copy.csv')}' (FORMAT csv); SELECT (1`
    ]
    for (const statement of refused) {
      const answer = await sql.exportParquet(lake, { sql: statement, file })
      expect(answer.ok, statement).toBe(false)
    }
    const invalid = await sql.exportParquet(lake, { sql: 'SELECT no_such_column FROM silver_orders', file })
    expect(!invalid.ok && invalid.problem.kind).toBe('invalid')
    expect(readdirSync(dir)).toEqual([])
  })

  it('leaves nothing behind when cancelled while DuckDB writes', async () => {
    const dir = makeTempDir()
    const running = sql.exportParquet(lake, {
      sql: 'SELECT a.range * b.range AS n FROM range(100000) a, range(100000) b',
      file: join(dir, 'big.parquet'),
      queryId: 'big'
    })
    await until('DuckDB to start writing the temporary file', () => readdirSync(dir).length > 0)
    expect(sql.cancel('big')).toBe(true)
    expect(await running).toEqual({ ok: false, problem: { kind: 'cancelled', message: 'the query was cancelled' } })
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses a relative path or a folder that does not exist', async () => {
    await expect(sql.exportParquet(lake, { sql: 'SELECT 1', file: 'out.parquet' })).rejects.toThrow('absolute path')
    await expect(sql.exportParquet(lake, { sql: 'SELECT 1', file: join(makeTempDir(), 'no', 'out.parquet') })).rejects.toThrow('there is no folder')
  })
})
