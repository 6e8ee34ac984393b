// One owner per lake, and nothing written where it does not belong, against a real
// `streamdesk serve` process: a lake path changed and then Start and status fired at the same
// moment (which once opened the new lake file two or three times and lost a committed batch);
// a lake path of "/" typed into the settings drawer; a lake folder holding another program's
// DuckDB file; Ctrl+C while dashboard queries are in flight.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import { api, BIN, craftedOrder, eventually, launchBrowser, startServe, textOf, writeAtomically } from './helpers.js'

const cleanup = []
after(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true })
})

async function readLake(dir, sql) {
  const db = await DuckDBInstance.create(join(dir, 'lake.duckdb'), { access_mode: 'READ_ONLY' })
  const c = await db.connect()
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson()
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

const sha = (file) => createHash('sha256').update(readFileSync(file)).digest('hex')

test('a changed lake path, then Start, status and the dashboard at the same moment: the lake is opened once and every batch is in it', async () => {
  const server = await startServe({
    name: 'lake-owner',
    settings: ({ input }) => ({ source: { kind: 'folder', inputPath: input }, pipeline: { triggerMs: 100 } })
  })
  cleanup.push(server.dir)
  const orders = Array.from({ length: 60 }, (_, i) => JSON.stringify(craftedOrder({ orderId: `own-${i}`, customerId: `c-${i % 7}` })))
  writeAtomically(join(server.input, 'orders'), 'a.jsonl', orders.slice(0, 30).join('\n') + '\n')
  mkdirSync(join(server.input, 'customers'), { recursive: true })
  const newLake = join(server.dir, 'other-lake')

  await api(server.url, 'settings.update', { patch: { lakePath: newLake } })
  assert.equal(existsSync(newLake), false, 'saving a lake path creates nothing')
  const [started] = await Promise.all([
    api(server.url, 'pipeline.start'),
    api(server.url, 'pipeline.status'),
    api(server.url, 'query.dashboard'),
    api(server.url, 'pipeline.status')
  ])
  assert.equal(started.state, 'running')
  await eventually(async () => (await api(server.url, 'pipeline.status')).totals.orders === 30, { timeout: 60_000, message: '30 orders committed' })
  writeAtomically(join(server.input, 'orders'), 'b.jsonl', orders.slice(30).join('\n') + '\n')
  const status = await eventually(
    async () => {
      const s = await api(server.url, 'pipeline.status')
      return s.totals.orders === 60 && s
    },
    { timeout: 60_000, message: '60 orders committed' }
  )
  await Promise.all([api(server.url, 'pipeline.stop'), api(server.url, 'query.dashboard'), api(server.url, 'pipeline.status')])

  // Ctrl+C with dashboard queries in flight: the process ends by itself
  const inFlight = Array.from({ length: 20 }, () => api(server.url, 'query.dashboard').catch(() => null))
  const ended = await server.stop()
  await Promise.all(inFlight)
  assert.deepEqual(ended, { code: 0, signal: null }, `serve did not shut down cleanly: ${server.output().stderr}`)

  assert.equal(existsSync(server.lake), false, 'the old lake path was never created')
  const [lake] = await readLake(
    newLake,
    `SELECT (SELECT count(*) FROM silver_orders) AS silver, (SELECT count(DISTINCT order_id) FROM silver_orders) AS ids,
            (SELECT sum(valid) FROM batches) AS valid, (SELECT max(batch_id) FROM batches) AS last_batch`
  )
  assert.deepEqual(lake, { silver: '60', ids: '60', valid: '60', last_batch: String(status.lastBatchId) })
})

test('"/" typed as the lake folder is refused next to its field, and nothing is written to /', async () => {
  const server = await startServe({ name: 'lake-root' })
  cleanup.push(server.dir)
  const browser = await launchBrowser()
  try {
    const { page } = browser
    await page.goto(server.url)
    await eventually(async () => (await page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
      message: 'the page to connect to the engine'
    })
    await page.getByTestId('open-settings').click()
    const field = page.getByTestId('setting-lakePath')
    await field.waitFor({ state: 'visible' })
    await field.fill('/')
    await page.getByTestId('settings-save').click()
    const error = page.getByTestId('setting-error-lakePath')
    await error.waitFor({ state: 'visible' })
    assert.match(await textOf(error), /cannot be the root folder/)
    assert.equal(existsSync('/lake.duckdb'), false)
    assert.equal(JSON.parse(readFileSync(server.settingsFile, 'utf8')).lakePath, server.lake)
    assert.deepEqual(browser.problems.filter((p) => !/status of 400/.test(p)), [])
  } finally {
    await browser.close()
    await server.stop()
  }
})

test("serve refuses a lake folder holding another program's DuckDB file: exit 3, one sentence, the file unchanged", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamdesk-foreign-'))
  cleanup.push(dir)
  const lakeDir = join(dir, 'lake')
  mkdirSync(lakeDir)
  const db = await DuckDBInstance.create(join(lakeDir, 'lake.duckdb'))
  const c = await db.connect()
  await c.run(`CREATE TABLE silver_orders (id INTEGER); INSERT INTO silver_orders VALUES (1)`)
  c.closeSync()
  db.closeSync()
  const before = sha(join(lakeDir, 'lake.duckdb'))

  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--lake', lakeDir, '--settings', join(dir, 'settings.json')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise((done) => child.once('exit', (c) => done(c)))
  assert.equal(code, 3, stderr)
  assert.match(stderr.trim(), /^streamdesk: .*lake\.duckdb is a DuckDB database that is not a StreamDesk lake \(tables: silver_orders\); it was left unchanged$/)
  assert.equal(sha(join(lakeDir, 'lake.duckdb')), before)
  assert.deepEqual(readdirSync(lakeDir), ['lake.duckdb'])
})
