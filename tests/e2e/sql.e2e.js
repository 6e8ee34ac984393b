// The SQL tab as an analyst uses it, in Chromium against a real `streamdesk serve` while the
// built-in generator and the pipeline write the lake: completion of the lake's tables, a count
// that grows between runs, a chart of the result, the row cap, a refusal and DuckDB's error
// with its position, Cancel, the result saved as CSV and exported as Parquet, and a query saved
// as a .sql file and opened.
//
// The tests in this file run in order and share one server and one browser page.

import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { api, eventually, openTab, parseShownNumber, servedSession, textOf } from './helpers.js'

const session = servedSession({ name: 'sql', settings: { generator: { pace: 'rate', ratePerSecond: 40 }, pipeline: { triggerMs: 300 } } })

/** Replaces the editor's text without typing it key by key (typing would open completions). */
async function setSql(text) {
  await session.page.locator('.cm-content').click()
  await session.page.keyboard.press('ControlOrMeta+A')
  await session.page.keyboard.insertText(text)
}

const hint = () => textOf(session.page.getByTestId('sql-result-hint'))
const problem = () => textOf(session.page.getByTestId('sql-problem'))
const firstCell = () => textOf(session.page.getByTestId('sql-result').locator('tbody td').first())

/** Runs the editor's statement; the callers poll for the answer they expect. */
async function runAndWait(how = 'button') {
  if (how === 'keys') await session.page.keyboard.press('ControlOrMeta+Enter')
  else await session.page.getByTestId('sql-run').click()
  await session.page.getByTestId('sql-run').waitFor({ state: 'visible' })
}

test('the SQL tab counts orders while the pipeline writes them', async () => {
  const start = session.page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()
  await eventually(async () => (await api(session.server.url, 'pipeline.status')).totals.orders > 0, { message: 'the first committed orders' })
  await openTab(session.page, 'sql')

  await session.page.locator('.cm-content').click()
  await session.page.keyboard.press('ControlOrMeta+A')
  await session.page.keyboard.type('SELECT count(*) AS n FROM silv')
  // clicked, not Enter: CodeMirror ignores keys for 75 ms after the list opens, a clock race
  await session.page.locator('.cm-tooltip-autocomplete').getByText('silver_orders').click()
  assert.equal(await textOf(session.page.locator('.cm-content')), 'SELECT count(*) AS n FROM silver_orders')

  await runAndWait('keys')
  const first = await eventually(async () => parseShownNumber(await firstCell()), { message: 'a count in the result', detail: problem })
  assert.ok(first > 0)
  assert.match(await hint(), /^1 row/)
  // the generator goes on: a later run sees a later committed batch
  await eventually(
    async () => {
      await runAndWait()
      return parseShownNumber(await firstCell()) > first
    },
    { message: 'a larger count on a later run', detail: firstCell }
  )
})

test('a result becomes a line chart in one click', async () => {
  await setSql("SELECT date_trunc('second', order_ts) AS second, count(*) AS orders FROM silver_orders GROUP BY ALL ORDER BY 1")
  await runAndWait()
  await eventually(async () => /rows? ·/.test(await hint()), { message: 'the grouped result', detail: problem })
  await session.page.getByTestId('sql-chart-line').click()
  const chart = session.page.getByTestId('sql-chart')
  await chart.locator('canvas').first().waitFor({ state: 'visible' })
  assert.equal(await chart.getAttribute('aria-label'), 'line chart of the result')
})

test('the row cap is stated', async () => {
  await session.page.getByTestId('sql-max-rows').selectOption('100')
  await setSql('SELECT * FROM range(5000)')
  await runAndWait()
  await eventually(async () => /capped at 100/.test(await hint()), { message: 'the capped hint', detail: hint })
  assert.equal(await session.page.getByTestId('sql-result').locator('tbody tr').count(), 100)
})

test('the result is saved as CSV', async () => {
  const [download] = await Promise.all([session.page.waitForEvent('download'), session.page.getByTestId('sql-export-csv').click()])
  const text = readFileSync(await download.path(), 'utf8')
  const lines = text.trimEnd().split('\r\n')
  assert.equal(lines[0], 'range')
  assert.deepEqual(lines.slice(1, 4), ['0', '1', '2'])
  assert.equal(lines.length, 101)
})

test('a query is saved as a .sql file and opened again', async () => {
  const dir = join(session.server.dir, 'queries')
  const saved = 'SELECT status, count(*) AS n FROM silver_orders GROUP BY ALL'
  await session.page.getByTestId('sql-saved-dir').fill(dir)
  await session.page.getByTestId('sql-saved-dir').press('Enter')
  await setSql(saved)
  await session.page.getByTestId('sql-saved-name').fill('status mix')
  await session.page.getByTestId('sql-saved-save').click()
  const entry = session.page.getByTestId('sql-saved-list').getByRole('button', { name: 'status mix' })
  await entry.waitFor({ state: 'visible' })
  assert.equal(readFileSync(join(dir, 'status mix.sql'), 'utf8'), `${saved}\n`)

  // saving again under the name asks first
  await setSql('SELECT 1')
  await session.page.getByTestId('sql-saved-save').click()
  await session.page.getByTestId('sql-saved-replace').waitFor({ state: 'visible' })
  assert.equal(readFileSync(join(dir, 'status mix.sql'), 'utf8'), `${saved}\n`)

  await entry.click()
  await eventually(async () => (await textOf(session.page.locator('.cm-content'))) === saved, { message: 'the saved query in the editor' })
  assert.ok(!existsSync(join(dir, '.status mix.sql.tmp')))
})

test('the whole result is exported as Parquet, never over a file', async () => {
  const dir = join(session.server.dir, 'exports')
  mkdirSync(dir)
  await setSql('SELECT * FROM range(5000)')
  await session.page.getByTestId('sql-parquet-dir').fill(dir)
  await session.page.getByTestId('sql-parquet-name').fill('range')
  await session.page.getByTestId('sql-export-parquet').click()
  const done = () => textOf(session.page.getByTestId('sql-parquet-done'))
  await eventually(async () => /5,000 rows written to .*range\.parquet$/.test(await done()), { message: 'the export', detail: done })
  assert.deepEqual(readdirSync(dir), ['range.parquet'])
  const size = statSync(join(dir, 'range.parquet')).size

  await session.page.getByTestId('sql-export-parquet').click()
  const error = () => textOf(session.page.getByTestId('sql-parquet-error'))
  await eventually(async () => /range\.parquet exists already/.test(await error()), { message: 'the refusal to replace it', detail: error })
  assert.equal(statSync(join(dir, 'range.parquet')).size, size)
})

test('a writing statement is refused and a wrong one shows where it is wrong', async () => {
  await setSql('DELETE FROM silver_orders')
  await runAndWait()
  await eventually(async () => /^Refused/.test(await problem()), { message: 'the refusal', detail: problem })
  assert.match(await problem(), /only a SELECT statement .*it starts with DELETE/)

  await setSql('SELECT nope FROM silver_orders')
  await runAndWait()
  await eventually(async () => /^DuckDB error/.test(await problem()), { message: "DuckDB's error", detail: problem })
  assert.equal(await textOf(session.page.getByTestId('sql-problem-position')), 'at line 1, column 8')
  assert.match(await problem(), /Referenced column "nope" not found/)
})

test('Cancel stops a long query', async () => {
  await setSql('SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000000) b')
  await session.page.getByTestId('sql-run').click()
  await session.page.getByTestId('sql-cancel').click()
  await eventually(async () => /^Cancelled/.test(await problem()), { message: 'the cancelled answer', detail: problem })
  assert.deepEqual(session.browser.problems, [])
})
