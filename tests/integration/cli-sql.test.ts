import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ENDPOINT_FILE_NAME, readEndpointFile } from '../../src/main/lake/lake-endpoint-file'
import { writeBulkInput } from '../support/bulk-input'
import { spawnCli } from '../support/kafka-processes'
import { cleanupTempDirs, makeTempDir, makeWorkspace, query, REPO_ROOT, runPipeline, type Workspace } from '../support/lake-fixtures'
import { until } from '../support/wait'

// `streamdesk sql` as scripts use it: rows and exit 0, 2 for a refused or invalid statement,
// 3 for a missing lake; and the same answers while another StreamDesk process holds the lake
// for writing, which DuckDB's lock would otherwise keep every other process out of.

interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

function sqlCli(args: string[]): Promise<Ran> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/main/cli/main.ts'), 'sql', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: '1' }
  })
  let stdout = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })))
}

/** A Parquet file's rows as DuckDB's JSON values, read by a DuckDB of its own. */
async function parquetRows(file: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  try {
    return (await conn.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowsJson()
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}

let ws: Workspace
let input: ReturnType<typeof writeBulkInput>

beforeAll(async () => {
  ws = makeWorkspace()
  input = writeBulkInput(ws.input, { files: 2, ordersPerFile: 300, customers: 20, seed: 7 })
  await runPipeline(ws)
})

afterAll(() => cleanupTempDirs())

describe('streamdesk sql on a lake no process holds', () => {
  it('prints the rows and exits 0, in each format', async () => {
    const count = 'SELECT count(*) AS orders FROM silver_orders'
    const csv = await sqlCli(['--lake', ws.lake, '--format', 'csv', count])
    expect(csv).toMatchObject({ code: 0, stdout: `orders\r\n${input.validOrderIds.size}\r\n` })
    const json = await sqlCli(['--lake', ws.lake, '--format', 'json', count])
    expect(JSON.parse(json.stdout)).toEqual([{ orders: String(input.validOrderIds.size) }])
    const table = await sqlCli(['--lake', ws.lake, count])
    expect(table.stdout.split('\n')[2].trim()).toBe(String(input.validOrderIds.size))
    expect(table.stderr).toContain('(1 row,')
  })

  it('caps the rows with --max-rows and says so', async () => {
    const r = await sqlCli(['--lake', ws.lake, '--format', 'csv', '--max-rows', '5', 'SELECT order_id FROM silver_orders ORDER BY order_id'])
    expect(r.code).toBe(0)
    const ids = [...input.validOrderIds].sort().slice(0, 5)
    expect(r.stdout).toBe(`order_id\r\n${ids.join('\r\n')}\r\n`)
    expect(r.stderr).toContain('the first 5 rows; the result has more')
  })

  it('exits 2 on a refused statement and leaves the lake as it was', async () => {
    const before = await query(ws.lake, 'SELECT count(*) AS n FROM silver_orders')
    const r = await sqlCli(['--lake', ws.lake, 'DELETE FROM silver_orders'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('refused: only a SELECT statement')
    const copy = await sqlCli(['--lake', ws.lake, `SELECT * FROM read_csv('${join(ws.root, 'x.csv')}')`])
    expect(copy.code).toBe(2)
    expect(copy.stderr).toContain('read_csv() reads files')
    expect(await query(ws.lake, 'SELECT count(*) AS n FROM silver_orders')).toEqual(before)
  })

  it("exits 2 on an invalid statement with DuckDB's message and caret", async () => {
    const r = await sqlCli(['--lake', ws.lake, 'SELECT nope FROM silver_orders'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Referenced column "nope" not found')
    expect(r.stderr).toContain('LINE 1: SELECT nope FROM silver_orders\n               ^')
  })

  it('exits 3 when there is no lake', async () => {
    const r = await sqlCli(['--lake', join(ws.root, 'no-lake'), 'SELECT 1'])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('there is no lake at')
  })
})

describe('streamdesk sql --format parquet', () => {
  const ids = 'SELECT order_id, total_amount FROM silver_orders ORDER BY order_id'

  it('writes every row to the new file and says how many', async () => {
    const dir = makeTempDir()
    const r = await sqlCli(['--lake', ws.lake, '--format', 'parquet', '--out', join(dir, 'ids.parquet'), ids])
    expect(r).toMatchObject({ code: 0, stdout: '' })
    expect(r.stderr).toContain(`${input.validOrderIds.size} rows written to ${join(dir, 'ids.parquet')}`)
    const json = await sqlCli(['--lake', ws.lake, '--format', 'json', '--max-rows', '100000', ids])
    const expected = (JSON.parse(json.stdout) as Record<string, unknown>[]).map((o) => Object.values(o))
    expect(await parquetRows(join(dir, 'ids.parquet'))).toEqual(expected)
    expect(readdirSync(dir)).toEqual(['ids.parquet'])
  })

  it('exits 4 naming a file that exists, and leaves it alone', async () => {
    const file = join(makeTempDir(), 'theirs.parquet')
    writeFileSync(file, 'someone else')
    const r = await sqlCli(['--lake', ws.lake, '--format', 'parquet', '--out', file, 'SELECT 1'])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain(`${file} exists already`)
    expect(readFileSync(file, 'utf8')).toBe('someone else')
  })

  it('exits 2 and writes nothing for a refused statement; --out goes with parquet only', async () => {
    const dir = makeTempDir()
    const refused = await sqlCli(['--lake', ws.lake, '--format', 'parquet', '--out', join(dir, 'x.parquet'), `SELECT * FROM read_text('${join(ws.root, 'x')}')`])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('refused')
    const misuse = await sqlCli(['--lake', ws.lake, '--format', 'csv', '--out', join(dir, 'x.csv'), 'SELECT 1'])
    expect(misuse.code).toBe(2)
    expect(misuse.stderr).toContain('--out is only for --format parquet')
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('streamdesk sql while `streamdesk pipeline` holds the lake', () => {
  it('answers with committed counts as the pipeline ingests, and falls back after a crash', async () => {
    const pipeline = spawnCli(['pipeline', '--input-path', ws.input, '--lake', ws.lake, '--trigger', '50ms', '--quiet'])
    try {
      await until('the pipeline to announce its lake', () => readEndpointFile(ws.lake)?.pid === pipeline.proc.pid, { detail: pipeline.stderr })
      for (let round = 0; round < 2; round++) {
        const expected = writeBulkInput(ws.input, { files: 2, ordersPerFile: 200, customers: 0, seed: 50 + round, prefix: `live-${round}` }, input).validOrderIds.size
        const seen: string[] = []
        await until(
          `streamdesk sql to count ${expected} orders`,
          async () => {
            const r = await sqlCli(['--lake', ws.lake, '--format', 'csv', 'SELECT (SELECT count(*) FROM silver_orders) = (SELECT sum(valid) FROM batches) AS consistent, (SELECT count(*) FROM silver_orders) AS n'])
            expect(r).toMatchObject({ code: 0, stderr: expect.stringContaining('row') })
            seen.push(r.stdout)
            expect(r.stdout).toMatch(/^consistent,n\r\ntrue,\d+\r\n$/)
            return r.stdout.endsWith(`,${expected}\r\n`)
          },
          { detail: () => seen.slice(-2) }
        )
      }
      // the holder writes the export (the lock keeps this process out of the lake)
      const out = join(makeTempDir(), 'live.parquet')
      const exported = await sqlCli(['--lake', ws.lake, '--format', 'parquet', '--out', out, 'SELECT order_id FROM silver_orders'])
      expect(exported.code, exported.stderr).toBe(0)
      expect((await parquetRows(out)).length).toBe(input.validOrderIds.size)
      // killed without closing: its endpoint file stays, nothing answers there, the CLI opens the lake itself
      pipeline.proc.kill('SIGKILL')
      await pipeline.exited
      expect(existsSync(join(ws.lake, ENDPOINT_FILE_NAME))).toBe(true)
      const r = await sqlCli(['--lake', ws.lake, '--format', 'csv', 'SELECT count(*) AS n FROM silver_orders'])
      expect(r).toMatchObject({ code: 0, stdout: `n\r\n${input.validOrderIds.size}\r\n` })
    } finally {
      pipeline.proc.kill('SIGKILL')
      await pipeline.exited
    }
  })

  it('a locked lake whose holder does not answer exits 3', async () => {
    // a stale endpoint file pointing nowhere, and a lock held by a process that is not StreamDesk
    writeFileSync(join(ws.lake, ENDPOINT_FILE_NAME), JSON.stringify({ pid: 1, port: 1, token: 'x' }))
    const holder = spawn(process.execPath, [
      '-e',
      `const { DuckDBInstance } = await import('@duckdb/node-api'); await DuckDBInstance.create(${JSON.stringify(join(ws.lake, 'lake.duckdb'))}); console.log('held'); setInterval(() => {}, 1000)`,
      '--input-type=module'
    ], { cwd: REPO_ROOT })
    try {
      let out = ''
      holder.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
      await until('the other process to hold the lake', () => out.includes('held'))
      const r = await sqlCli(['--lake', ws.lake, 'SELECT 1'])
      expect(r.code).toBe(3)
      expect(r.stderr).toContain('is in use by another process')
    } finally {
      holder.kill('SIGKILL')
    }
  })
})
