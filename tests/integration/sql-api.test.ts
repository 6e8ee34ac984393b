import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngineHost } from '../../src/main/api/engine-host'
import type { EngineHost } from '../../src/main/api/host'
import { startHttpServer, type HttpServerHandle } from '../../src/main/api/http-server'
import { writeBulkInput } from '../support/bulk-input'
import { cleanupTempDirs, makeWorkspace, runPipeline, type Workspace } from '../support/lake-fixtures'
import { until } from '../support/wait'

// sql.run, sql.cancel and sql.schema as the app and the browser reach them: the engine host's
// handlers behind the HTTP API, with the contract's argument checks in front.

let ws: Workspace
let host: EngineHost
let server: HttpServerHandle
let orders = 0

async function call(name: string, args: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/api/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) })
  return { status: res.status, body: await res.json() }
}

beforeAll(async () => {
  ws = makeWorkspace()
  orders = writeBulkInput(ws.input, { files: 1, ordersPerFile: 300, customers: 10, seed: 3 }).validOrderIds.size
  await runPipeline(ws)
  host = await createEngineHost({ settingsFile: join(ws.root, 'settings.json'), baseDir: ws.root, overrides: { lakePath: ws.lake } })
  server = await startHttpServer({ handlers: host.handlers, events: host.events, port: 0 })
})

afterAll(async () => {
  await server?.close()
  await host?.dispose()
  cleanupTempDirs()
})

describe('the sql.* API', () => {
  it('sql.run answers with rows, and a refusal is an answer with its position', async () => {
    const ok = await call('sql.run', { sql: 'SELECT count(*) AS n FROM silver_orders' })
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ ok: true, columns: [{ name: 'n', type: 'BIGINT' }], rows: [[String(orders)]], truncated: false, maxRows: 1000 })
    const refused = await call('sql.run', { sql: "SELECT * FROM\n  glob('/*')" })
    expect(refused.body).toEqual({
      ok: false,
      problem: { kind: 'refused', message: expect.stringContaining('glob() reads files'), position: { offset: 16, line: 2, column: 3 } }
    })
  })

  it('checks its arguments', async () => {
    const blank = await call('sql.run', { sql: '  ' })
    expect(blank.status).toBe(400)
    expect(blank.body.message).toContain('write a statement')
    const tooMany = await call('sql.run', { sql: 'SELECT 1', maxRows: 100_001 })
    expect(tooMany.status).toBe(400)
  })

  it('sql.cancel stops a running query', async () => {
    const running = call('sql.run', { sql: 'SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000000) b', queryId: 'q1' })
    await until('the query to be cancelled', async () => (await call('sql.cancel', { queryId: 'q1' })).body.cancelled === true)
    expect((await running).body).toEqual({ ok: false, problem: { kind: 'cancelled', message: 'the query was cancelled' } })
    expect((await call('sql.cancel', { queryId: 'q1' })).body).toEqual({ cancelled: false })
  })

  it('sql.schema lists tables with their columns', async () => {
    const { body } = await call('sql.schema', {})
    const silver = body.find((t: { name: string }) => t.name === 'silver_orders')
    expect(silver.kind).toBe('table')
    expect(silver.columns).toContainEqual({ name: 'order_id', type: 'VARCHAR' })
  })

  it('saves queries as .sql files in a folder, lists and reads them, and asks before replacing one', async () => {
    const dir = join(ws.root, 'queries')
    expect((await call('sql.savedWrite', { dir, name: 'by status', sql: 'SELECT status FROM silver_orders' })).body).toEqual({ status: 'saved', name: 'by status' })
    expect(readFileSync(join(dir, 'by status.sql'), 'utf8')).toBe('SELECT status FROM silver_orders\n')
    const again = await call('sql.savedWrite', { dir, name: 'by status', sql: 'SELECT 2' })
    expect(again.body).toEqual({ status: 'exists', name: 'by status' })
    expect(readFileSync(join(dir, 'by status.sql'), 'utf8')).toBe('SELECT status FROM silver_orders\n')
    await call('sql.savedWrite', { dir, name: 'by status', sql: 'SELECT 2', overwrite: true })
    writeFileSync(join(dir, 'notes.txt'), 'not a query')
    const listed = await call('sql.savedList', { dir })
    expect(listed.body.queries.map((q: { name: string }) => q.name)).toEqual(['by status'])
    expect((await call('sql.savedRead', { dir, name: 'by status' })).body).toEqual({ name: 'by status', sql: 'SELECT 2\n' })
    expect(readdirSync(dir).sort()).toEqual(['by status.sql', 'notes.txt'])
  })

  it('sql.exportParquet writes <name>.parquet in the folder, never over a file, and nothing for a refused statement', async () => {
    const dir = join(ws.root, 'exports')
    mkdirSync(dir)
    const ok = await call('sql.exportParquet', { dir, name: 'orders', sql: 'SELECT order_id FROM silver_orders' })
    expect(ok.body).toMatchObject({ ok: true, file: join(dir, 'orders.parquet'), rows: orders })
    const again = await call('sql.exportParquet', { dir, name: 'orders.parquet', sql: 'SELECT 1' })
    expect(again.status).toBe(400)
    expect(again.body.fields).toEqual([{ field: 'name', message: expect.stringContaining(`${join(dir, 'orders.parquet')} exists already`) }])
    const refused = await call('sql.exportParquet', { dir, name: 'refused', sql: 'DROP TABLE silver_orders' })
    expect(refused.body).toMatchObject({ ok: false, problem: { kind: 'refused' } })
    for (const name of ['../escape', '.hidden', 'a/b']) {
      expect((await call('sql.exportParquet', { dir, name, sql: 'SELECT 1' })).body.fields).toEqual([{ field: 'name', message: expect.stringContaining('a file name is letters') }])
    }
    expect(readdirSync(dir)).toEqual(['orders.parquet'])
    expect(readdirSync(ws.root)).not.toContain('escape.parquet')
  })

  it('a saved query name cannot leave its folder', async () => {
    const dir = join(ws.root, 'queries')
    for (const name of ['../escape', '.hidden', 'a/b']) {
      const r = await call('sql.savedWrite', { dir, name, sql: 'SELECT 1' })
      expect(r.status).toBe(400)
      expect(r.body.fields).toEqual([{ field: 'name', message: expect.stringContaining('a query name is letters') }])
    }
    expect(readdirSync(ws.root)).not.toContain('escape.sql')
    expect((await call('sql.savedList', { dir: join(ws.root, 'nope') })).body.message).toContain('there is no folder')
  })
})
