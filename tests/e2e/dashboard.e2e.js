// The dashboard as a person uses it, in Chromium at 1280×800, against a real `streamdesk serve`:
// start the built-in generator + pipeline, look at every tab, drop a big order into the input
// folder and find it among the fraud alerts, export the lake, stop, and read the quarantine.
//
// The tests in this file run in order and share one server and one browser page.

import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  api,
  craftedOrder,
  eventually,
  openTab,
  parseShownNumber,
  servedSession,
  textOf,
  UI_TIMEOUT_MS,
  writeAtomically
} from './helpers.js'

const KPI_IDS = ['orders-per-minute', 'revenue', 'avg-order-value', 'unique-customers']
const BIG_ORDER_ID = `ord_e2e_big_${Date.now().toString(36)}`
const BROKEN_MARKER = `e2e-broken-${Date.now().toString(36)}`
const BAD_FILE = `orders-e2e-bad-lines-${process.pid}.jsonl`
const MISSING_FIELD_ID = `ord_e2e_nocustomer_${Date.now().toString(36)}`
const WHILE_STOPPED_MARKER = `e2e-while-stopped-${Date.now().toString(36)}`

// A livelier generator than the default (20 orders/s, 3 % fraud) so every tab has data within
// seconds, but slow enough that one alert stays in the 100-row alerts table for a while.
const session = servedSession({
  name: 'dashboard',
  settings: { generator: { pace: 'rate', ratePerSecond: 40, fraudRate: 0.1 }, pipeline: { triggerMs: 500 } }
})

async function kpiValues() {
  const values = {}
  for (const id of KPI_IDS) values[id] = await textOf(session.page.getByTestId(`kpi-${id}-value`))
  return values
}

test('1. Start: the state badge says running and the KPI cards show non-zero numbers', async () => {
  const badge = session.page.getByTestId('pipeline-state')
  await eventually(async () => (await badge.getAttribute('data-state')) === 'stopped', { message: 'the state badge to say stopped before Start' })
  await eventually(async () => (await textOf(session.page.getByTestId('source-label'))).startsWith('built-in generator'), {
    message: 'the source label to name the built-in generator'
  })

  const start = session.page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()

  await eventually(async () => (await badge.getAttribute('data-state')) === 'running', { message: 'the state badge to say running' })
  assert.equal(await textOf(badge), 'Running')

  const values = await eventually(
    async () => {
      const v = await kpiValues()
      return Object.values(v).every((t) => parseShownNumber(t) > 0) ? v : null
    },
    // The cards count complete minutes the lake saw whole: on a new lake the first one ends
    // within two minutes of wall-clock time after Start, however fast the machine is.
    { message: 'all four KPI cards to show non-zero numbers', timeout: 3 * 60_000 + UI_TIMEOUT_MS }
  )
  assert.match(values.revenue, /\$/, 'revenue is shown as money')
  assert.match(values['avg-order-value'], /\$/, 'the average order value is shown as money')
  // The charts under the KPIs are drawn too.
  for (const id of ['chart-revenue', 'chart-orders']) {
    await session.page.getByTestId(id).locator('canvas').first().waitFor({ state: 'visible' })
  }
})

test('2. Every tab shows data: Fraud, Recent orders, Pipeline', async () => {
  await openTab(session.page, 'fraud')
  const alertRows = session.page.getByTestId('alert-row')
  await eventually(async () => (await alertRows.count()) > 0, { message: 'rows in the fraud alerts table' })
  await session.page.getByTestId('chart-fraud-histogram').locator('canvas').first().waitFor({ state: 'visible' })
  await session.page.getByTestId('chart-alerts-timeline').locator('canvas').first().waitFor({ state: 'visible' })
  const firstScore = parseShownNumber(await textOf(alertRows.first().locator('td.num').nth(1)))
  assert.ok(firstScore >= 3, `an alert's score is at least the threshold 3, got ${firstScore}`)

  await openTab(session.page, 'orders')
  await eventually(async () => (await session.page.getByTestId('order-row').count()) > 0, { message: 'rows in the recent orders table' })
  for (const id of ['summary-orders', 'summary-revenue', 'summary-aov']) {
    await eventually(async () => parseShownNumber(await textOf(session.page.getByTestId(id))) > 0, { message: `${id} to be non-zero` })
  }
  await session.page.getByTestId('chart-status').locator('canvas').first().waitFor({ state: 'visible' })

  await openTab(session.page, 'pipeline')
  await eventually(async () => (await session.page.getByTestId('batch-row').count()) > 0, { message: 'rows in the batches table' })
  await eventually(async () => parseShownNumber(await textOf(session.page.getByTestId('stat-orders'))) > 0, { message: 'valid orders on the Pipeline tab' })
  assert.match(await textOf(session.page.getByTestId('stat-last-batch')), /^#\d+$/)
})

test('3. A crafted order over $5,000 dropped into the input folder shows up as a fraud alert with its score', async () => {
  const order = craftedOrder({ orderId: BIG_ORDER_ID })
  assert.ok(order.total_amount > 5000)
  writeAtomically(join(session.server.input, 'orders'), `orders-e2e-${BIG_ORDER_ID}.jsonl`, JSON.stringify(order) + '\n')

  await openTab(session.page, 'fraud')
  const row = session.page.locator(`[data-testid="alert-row"][data-order-id="${BIG_ORDER_ID}"]`)
  await eventually(async () => (await row.count()) === 1, { message: `the alert row for ${BIG_ORDER_ID}` })
  const cells = await row.locator('td').allTextContents()
  // Time | Order | Customer | Amount | Score | Reasons
  assert.equal(cells[1].trim(), BIG_ORDER_ID)
  assert.equal(cells[2].trim(), order.customer_id)
  assert.equal(parseShownNumber(cells[3]), order.total_amount, `amount cell ${cells[3]}`)
  const score = parseShownNumber(cells[4])
  assert.ok(score >= 4, `score shown in the row is ${cells[4]}, expected at least 4`)
  assert.match(cells[5], /5000|5,000/, `reasons name the amount rule: ${cells[5]}`)
})

test('6. Export to Parquet: the result shows and every table is on disk with a manifest', async () => {
  const outDir = join(session.server.dir, 'export-parquet')
  await session.page.getByTestId('open-export').click()
  await session.page.getByTestId('export-dialog').waitFor({ state: 'visible' })
  await session.page.getByTestId('export-dir').fill(outDir)
  await session.page.getByTestId('export-format-parquet').click()
  assert.equal(await session.page.getByTestId('export-format-parquet').getAttribute('aria-pressed'), 'true')
  await session.page.getByTestId('export-run').click()

  const result = session.page.getByTestId('export-result')
  // A hang guard: exporting every table may take long on a busy machine.
  await result.waitFor({ state: 'visible', timeout: 2 * UI_TIMEOUT_MS })
  assert.equal(await textOf(session.page.getByTestId('export-result-path')), outDir)
  const shown = await session.page.getByTestId('export-result-table').allTextContents()
  assert.ok(shown.length >= 9, `the result lists every table (${shown.length})`)

  const manifestFile = join(outDir, 'manifest.json')
  assert.ok(existsSync(manifestFile), 'manifest.json exists')
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'))
  assert.equal(manifest.format, 'parquet')
  const names = manifest.tables.map((t) => t.name)
  for (const table of ['bronze_orders', 'bronze_customers', 'silver_orders', 'customers', 'quarantine', 'order_windows', 'fraud_alerts', 'batches', 'source_offsets']) {
    assert.ok(names.includes(table), `manifest lists ${table}`)
  }
  assert.equal(shown.length, manifest.tables.length)

  // Each file is real Parquet with exactly the row count the manifest (and the dialog) claims.
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  try {
    for (const t of manifest.tables) {
      const file = join(outDir, t.file)
      assert.equal(t.file, `${t.name}.parquet`)
      assert.ok(existsSync(file), `${t.file} exists`)
      const r = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${file.replace(/'/g, "''")}')`)
      assert.equal(Number(r.getRows()[0][0]), t.rows, `${t.file} holds ${t.rows} rows`)
      const line = shown.find((s) => s.startsWith(t.name))
      assert.ok(line, `the dialog lists ${t.name}`)
      assert.equal(parseShownNumber(line.slice(t.name.length)), t.rows, `the dialog shows ${t.rows} rows for ${t.name}`)
    }
    const silver = manifest.tables.find((t) => t.name === 'silver_orders')
    assert.ok(silver.rows > 0, 'silver_orders is not empty')
  } finally {
    conn.closeSync()
    db.closeSync?.()
  }

  await session.page.getByTestId('export-close').click()
  await session.page.getByTestId('export-dialog').waitFor({ state: 'detached' })
})

test('6b. Export again into that folder: the dialog asks first, and replaces only the earlier export', async () => {
  const outDir = join(session.server.dir, 'export-parquet')
  const earlier = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')).files.map((f) => f.file)
  writeFileSync(join(outDir, 'notes.txt'), 'mine')
  const before = readdirSync(outDir).sort()

  await session.page.getByTestId('open-export').click()
  await session.page.getByTestId('export-dialog').waitFor({ state: 'visible' })
  await session.page.getByTestId('export-dir').fill(outDir)
  await session.page.getByTestId('export-format-csv').click()
  await session.page.getByTestId('export-run').click()

  const confirm = session.page.getByRole('alertdialog', { name: 'This folder is not empty' })
  await confirm.waitFor({ state: 'visible' })
  const listed = await session.page.getByTestId('export-confirm-replaces').locator('li').allTextContents()
  assert.deepEqual(listed.map((t) => t.trim()).sort(), [...earlier, 'manifest.json'].sort())
  assert.match(await textOf(session.page.getByTestId('export-confirm-others')), /1 other item stays as it is: notes\.txt/)
  // the safe answer has the focus, and Escape means no
  assert.equal(await session.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'export-confirm-cancel')
  await session.page.keyboard.press('Escape')
  await confirm.waitFor({ state: 'detached' })
  assert.ok(await session.page.getByTestId('export-dialog').isVisible(), 'Escape answered the question without closing the dialog')
  assert.deepEqual(readdirSync(outDir).sort(), before, 'nothing changed before the user confirmed')

  await session.page.getByTestId('export-run').click()
  await confirm.waitFor({ state: 'visible' })
  await session.page.getByTestId('export-confirm-overwrite').click()
  const result = session.page.getByTestId('export-result')
  // A hang guard: exporting every table may take long on a busy machine.
  await result.waitFor({ state: 'visible', timeout: 2 * UI_TIMEOUT_MS })
  assert.match(await textOf(result), new RegExp(`Replaced ${earlier.length} files of the earlier export`))

  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'))
  assert.equal(manifest.format, 'csv')
  assert.deepEqual(readdirSync(outDir).sort(), [...manifest.files.map((f) => f.file), 'manifest.json', 'notes.txt'].sort())
  assert.equal(readFileSync(join(outDir, 'notes.txt'), 'utf8'), 'mine')

  await session.page.getByTestId('export-close').click()
  await session.page.getByTestId('export-dialog').waitFor({ state: 'detached' })
})

test('7. Stop: state stopped, the orders counter stops growing, and the quarantine browser shows the bad lines with their reasons', async () => {
  // Bad lines first, while the pipeline runs: malformed JSON and an order without customer_id.
  const missingField = craftedOrder({ orderId: MISSING_FIELD_ID })
  delete missingField.customer_id
  writeAtomically(
    join(session.server.input, 'orders'),
    BAD_FILE,
    `{"order_id": "${BROKEN_MARKER}", this is not JSON\n${JSON.stringify(missingField)}\n`
  )
  await openTab(session.page, 'pipeline')
  await eventually(async () => parseShownNumber(await textOf(session.page.getByTestId('stat-quarantined'))) >= 2, {
    message: 'the Quarantined stat to count the two bad lines'
  })

  await session.page.getByTestId('pipeline-stop').click()
  const badge = session.page.getByTestId('pipeline-state')
  await eventually(async () => (await badge.getAttribute('data-state')) === 'stopped', { message: 'the state badge to say stopped' })
  assert.equal(await textOf(badge), 'Stopped')
  await eventually(() => session.page.getByTestId('pipeline-start').isEnabled(), { message: 'Start to be enabled again' })

  // The engine's own count once stopped. A last push may still be on its way to the page: the
  // header counter and the Pipeline stat are waited for until they show exactly that count.
  const stopped = await api(session.server.url, 'pipeline.status')
  assert.equal(stopped.state, 'stopped')
  const final = stopped.totals.orders
  assert.ok(final > 0)
  const counter = session.page.getByTestId('counter-orders')
  const shown = async () => ({
    header: parseShownNumber(await textOf(counter)),
    stat: parseShownNumber(await textOf(session.page.getByTestId('stat-orders')))
  })
  await eventually(
    async () => {
      const n = await shown()
      return n.header === final && n.stat === final
    },
    { message: `the header counter and the Pipeline stat to show the engine's ${final} orders`, detail: shown }
  )

  // The quarantine browser, refreshed the way a person would.
  await session.page.getByTestId('quarantine-refresh').click()
  const rows = session.page.getByTestId('quarantine-row')
  const brokenRow = rows.filter({ hasText: BROKEN_MARKER })
  await eventually(async () => (await brokenRow.count()) === 1, {
    message: 'the malformed line in the quarantine browser',
    detail: () => session.page.getByTestId('quarantine').innerText()
  })
  assert.equal(await textOf(brokenRow.getByTestId('quarantine-reason')), 'malformed JSON')
  assert.match(await textOf(brokenRow.getByTestId('quarantine-raw')), /this is not JSON/)
  const rowText = await textOf(brokenRow)
  assert.ok(rowText.includes(`${BAD_FILE}:byte 0`), `the row says which file and where the line came from: ${rowText}`)

  const missingRow = rows.filter({ hasText: MISSING_FIELD_ID })
  await eventually(async () => (await missingRow.count()) === 1, { message: 'the order without customer_id in the quarantine browser' })
  assert.equal(await textOf(missingRow.getByTestId('quarantine-reason')), 'missing field customer_id')
  assert.match(await textOf(session.page.getByTestId('quarantine-range')), /of [1-9]/)

  // Nothing is read while stopped, though input is waiting. A bad line dropped in now must be
  // taken by the first batch of the next run: batches are numbered without gaps, so no batch ran
  // in between, however long the stop lasted. (Watching the counter for some seconds would only
  // hope that the machine gave a runaway pipeline time enough to show itself.)
  writeAtomically(join(session.server.input, 'orders'), `orders-e2e-${WHILE_STOPPED_MARKER}.jsonl`, `{"order_id": "${WHILE_STOPPED_MARKER}", not JSON\n`)
  assert.deepEqual(await shown(), { header: final, stat: final }, 'the counters keep still after Stop')
  await session.page.getByTestId('pipeline-start').click()
  await eventually(async () => (await badge.getAttribute('data-state')) === 'running', { message: 'the state badge to say running again' })
  const quarantined = await eventually(
    async () => (await api(session.server.url, 'query.quarantine', { limit: 500 })).rows.find((q) => q.raw.includes(WHILE_STOPPED_MARKER)),
    { message: 'the line dropped in while stopped to be quarantined after Start' }
  )
  // The next batch number after Stop, and a batch of the new run: none committed in between.
  assert.equal(quarantined.batchId, stopped.lastBatchId + 1, 'the first batch after Stop read the line left while stopped')
  const run = await api(session.server.url, 'pipeline.status')
  assert.ok(
    Date.parse(quarantined.ingestedAt) >= Date.parse(run.startedAt),
    `the line was read at ${quarantined.ingestedAt}, after the new Start at ${run.startedAt}`
  )
  await session.page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await badge.getAttribute('data-state')) === 'stopped', { message: 'the state badge to say stopped again' })
})

test('the page logged no errors along the way', () => {
  assert.deepEqual(session.browser.problems, [])
})
