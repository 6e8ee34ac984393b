// Honest KPIs and charts, as a person sees them in Chromium against a real `streamdesk serve` with
// the built-in generator: run, Stop, wait until a whole minute has gone by without orders, Start
// again. The charts must show that minute and the stop as gaps, with no line drawn through them,
// and the minute in progress as partial. Screenshots of the Metrics, Fraud and Pipeline tabs are
// kept in a temp folder (printed), and copied to $STREAMDESK_E2E_SHOTS when it is set.
//
// Along the way, at 1024×640: a long source path is cut with an ellipsis and shown whole on hover,
// the "new alerts" notice never lies over a table, and no table hides its Amount or Score column.
// The tests in this file run in order and share one server and one browser page.

import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { api, craftedOrder, eventually, openTab, servedSession, textOf, VIEWPORT, writeAtomically } from './helpers.js'

const MINUTE = 60_000
/** The longest a full minute of wall-clock time plus a batch can take: a hang guard, not a race. */
const MINUTES_TIMEOUT = 4 * MINUTE
const SMALL_SCREEN = { width: 1024, height: 640 }
const HISTORY_MINUTES = 5
const LONG_FOLDER = 'an-input-folder-with-a-name-long-enough-to-push-the-start-and-stop-buttons-off-a-small-screen'

let shots
/** The generator's folder (the long one). */
let input

const session = servedSession({
  name: 'honest-charts',
  settings: ({ dir }) => ({
    source: { kind: 'generator', inputPath: join(dir, LONG_FOLDER, 'streaming') },
    generator: { pace: 'rate', ratePerSecond: 15, fraudRate: 0.15 },
    pipeline: { triggerMs: 500 },
    dashboard: { refreshSeconds: 1, kpiMinutes: 1 }
  }),
  afterStart: (server) => {
    input = join(server.dir, LONG_FOLDER, 'streaming')
    shots = mkdtempSync(join(tmpdir(), 'streamdesk-honest-charts-shots-'))
    writeHistory()
  },
  // charts change without animating, so a screenshot never catches one halfway
  reducedMotion: 'reduce'
})

/**
 * Orders of the last few minutes, waiting in the input folder for the first batch: the charts
 * have a history before the stop. Well inside the 10-minute watermark, so none of it is late.
 */
function writeHistory() {
  const now = Date.now()
  const lines = []
  for (let m = HISTORY_MINUTES; m >= 1; m--) {
    const perMinute = 30 + 12 * (m % 3)
    for (let i = 0; i < perMinute; i++) {
      const ts = new Date(now - m * MINUTE + Math.floor((i * MINUTE) / perMinute))
      const items = [{ product_id: `P${i % 9}`, product_name: 'E2E Lamp', category: 'Home & Kitchen', quantity: 1 + (i % 3), unit_price: 20 + (i % 7) * 15 }]
      lines.push(JSON.stringify(craftedOrder({ orderId: `ord_e2e_history_${m}_${i}`, customerId: `cus_e2e_history_${m}_${i}`, items, status: i % 10 === 0 ? 'cancelled' : 'paid', ts })))
    }
  }
  writeAtomically(join(input, 'orders'), 'orders-e2e-history.jsonl', lines.join('\n') + '\n')
}

after(() => {
  if (shots) console.log(`honest-charts: screenshots in ${shots}`)
})

const state = () => session.page.getByTestId('pipeline-state').getAttribute('data-state')
const minuteOf = (ms) => Math.floor(ms / MINUTE) * MINUTE
const box = (locator) => locator.boundingBox()
const overlaps = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height

async function startPipeline() {
  const start = session.page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()
  await eventually(async () => (await state()) === 'running', { message: 'the pipeline to run' })
}

async function stopPipeline() {
  await session.page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await state()) === 'stopped', { message: 'the pipeline to stop' })
}

/** Amount and Score headers of every table on the page lie inside its scroll box and the window. */
async function expectAmountAndScoreVisible(what) {
  const tables = session.page.locator('table.data')
  const n = await tables.count()
  let checked = 0
  for (let i = 0; i < n; i++) {
    const table = tables.nth(i)
    // a table that scrolls sits in a .table-wrap; a small one (Revenue by currency) is its own box
    const scroller = table.locator('xpath=ancestor::div[contains(@class,"table-wrap")][1]')
    const wrap = await box((await scroller.count()) > 0 ? scroller : table)
    for (const th of await table.locator('th').all()) {
      const label = (await textOf(th)).toLowerCase()
      if (label !== 'amount' && label !== 'score') continue
      const b = await box(th)
      assert.ok(b && wrap, `${what}: the ${label} column has a box`)
      assert.ok(b.x >= wrap.x - 1 && b.x + b.width <= wrap.x + wrap.width + 1, `${what}: the ${label} column is inside its table's box (${JSON.stringify({ b, wrap })})`)
      assert.ok(b.x + b.width <= SMALL_SCREEN.width, `${what}: the ${label} column is inside the window`)
      checked++
    }
  }
  return checked
}

test('1. Start: every KPI card says which orders it counts, and over which minutes', async () => {
  await startPipeline()
  for (const id of ['orders-per-minute', 'revenue', 'avg-order-value', 'unique-customers']) {
    const definition = session.page.getByTestId(`kpi-${id}-definition`)
    await eventually(async () => /excl\. cancelled and refunded/.test(await textOf(definition)), {
      message: `the ${id} card to say which orders it counts`,
      detail: () => textOf(definition)
    })
  }
  // the history gives complete minutes at once: figures, and the minute they cover
  await eventually(async () => /^last complete minute · \d\d:\d\d–\d\d:\d\d$/.test(await textOf(session.page.getByTestId('kpi-orders-per-minute-period'))), {
    message: 'the KPI period line',
    detail: () => textOf(session.page.getByTestId('kpi-orders-per-minute-period'))
  })
  assert.notEqual(await textOf(session.page.getByTestId('kpi-orders-per-minute-value')), '—')
})

test('2. At 1024×640: the source path is cut and whole on hover, the alert notice covers no table, Amount and Score stay in view', async () => {
  await session.page.setViewportSize(SMALL_SCREEN)
  const label = session.page.getByTestId('source-label')
  const full = await label.getAttribute('title')
  assert.ok(full?.includes(LONG_FOLDER), `the title holds the whole path, got ${full}`)
  const cut = await label.locator('.text').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, overflow: getComputedStyle(el).textOverflow }))
  assert.equal(cut.overflow, 'ellipsis')
  assert.ok(cut.scroll > cut.client, `the path is cut (${cut.scroll} px of text in ${cut.client} px)`)
  for (const id of ['pipeline-start', 'pipeline-stop', 'open-settings']) {
    const b = await box(session.page.getByTestId(id))
    assert.ok(b && b.x + b.width <= SMALL_SCREEN.width, `${id} is inside the window`)
  }

  // new alerts while the Recent orders tab is open: the notice sits in the tab bar
  await openTab(session.page, 'orders')
  await eventually(async () => (await session.page.getByTestId('order-row').count()) > 0, { message: 'recent orders' })
  const toast = session.page.getByTestId('alert-toast')
  // it goes by itself after a few seconds: measure it while it is there
  const t = await eventually(async () => ((await toast.isVisible()) ? await box(toast) : null), { message: 'the "new fraud alerts" notice' })
  const content = await box(session.page.locator('main.content'))
  assert.ok(t.y + t.height <= content.y, `the notice (${JSON.stringify(t)}) is above the page content (${JSON.stringify(content)})`)
  for (const table of await session.page.locator('table').all()) assert.ok(!overlaps(t, await box(table)), 'the notice covers no table')

  assert.ok((await expectAmountAndScoreVisible('Recent orders')) >= 2)
  await openTab(session.page, 'fraud')
  await eventually(async () => (await session.page.getByTestId('alert-row').count()) > 0, { message: 'rows in the alerts table' })
  assert.ok((await expectAmountAndScoreVisible('Fraud')) >= 2)
  await session.page.screenshot({ path: join(shots, 'small-fraud.png') })
  await openTab(session.page, 'orders')
  await session.page.screenshot({ path: join(shots, 'small-orders.png') })
  await session.page.setViewportSize(VIEWPORT)
})

test('3. Stop, a whole minute without orders, Start: gaps in every chart, no line through them, the minute in progress drawn as partial', async () => {
  await openTab(session.page, 'metrics')
  // something on both sides of the stop: at least one batch with orders before it
  await eventually(async () => (await api(session.server.url, 'query.windows', { limit: 60 })).length > HISTORY_MINUTES, { message: 'the history and a live window' })
  await stopPipeline()
  const stoppedAt = Date.now()
  const before = await api(session.server.url, 'query.windows', { limit: 60 })
  const lastBefore = Date.parse(before.at(-1).windowStart)

  // The minute after the stop's must pass entirely with the pipeline stopped: wait for the clock.
  const emptyMinuteEnds = minuteOf(stoppedAt) + 2 * MINUTE
  await eventually(() => Date.now() >= emptyMinuteEnds, { timeout: MINUTES_TIMEOUT, interval: 1000, message: 'a whole minute to pass while stopped' })
  await startPipeline()
  const restartedAt = Date.now()

  // after the restart: two complete windows after the gap (a line), and the one in progress
  const windows = await eventually(
    async () => {
      const w = await api(session.server.url, 'query.windows', { limit: 60 })
      const after = w.filter((x) => Date.parse(x.windowStart) >= minuteOf(restartedAt))
      return after.filter((x) => !x.partial).length >= 2 && after.some((x) => x.partial) ? w : null
    },
    { timeout: MINUTES_TIMEOUT, interval: 1000, message: 'two complete windows and a partial one after the restart' }
  )
  // the page follows the engine at its refresh interval: wait until its cards end where the
  // window in progress begins (formatted as the page formats times)
  const inProgress = Date.parse(windows.find((w) => w.partial).windowStart)
  const clock = await session.page.evaluate((ms) => new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms)), inProgress)
  const period = session.page.getByTestId('kpi-orders-per-minute-period')
  await eventually(async () => (await textOf(period)).endsWith(`–${clock}`), { message: `the KPI cards to cover the minutes up to ${clock}`, detail: () => textOf(period) })

  const starts = windows.map((w) => Date.parse(w.windowStart))
  assert.ok(!starts.some((s) => s > lastBefore && s < minuteOf(restartedAt)), 'no window between the stop and the restart')
  assert.equal(windows.filter((w) => w.partial).length, 1, 'exactly one window is in progress')

  // the charts say what they drew: a gap in each (their labels are built from the same points)
  await eventually(async () => /gap/.test((await session.page.getByTestId('chart-revenue').locator('[role=img]').getAttribute('aria-label')) ?? ''), {
    message: 'the revenue chart to have a gap'
  })
  assert.match((await session.page.getByTestId('chart-orders').locator('[role=img]').getAttribute('aria-label')) ?? '', /gap/)
  // the KPI cards now count a complete minute
  await eventually(async () => /complete minute/.test(await textOf(session.page.getByTestId('kpi-orders-per-minute-period'))) && (await textOf(session.page.getByTestId('kpi-orders-per-minute-value'))) !== '—', {
    message: 'KPI figures over a complete minute'
  })
  await session.page.screenshot({ path: join(shots, 'metrics.png') })

  await openTab(session.page, 'fraud')
  await session.page.getByTestId('chart-fraud-histogram').locator('canvas').first().waitFor({ state: 'visible' })
  await session.page.screenshot({ path: join(shots, 'fraud.png') })

  await openTab(session.page, 'pipeline')
  for (const id of ['chart-rates', 'chart-durations']) {
    await eventually(async () => /no batch ran/.test((await session.page.getByTestId(id).locator('[role=img]').getAttribute('aria-label')) ?? ''), {
      message: `${id} to show the stop as a gap`
    })
  }
  await session.page.screenshot({ path: join(shots, 'pipeline.png') })

  const copyTo = process.env.STREAMDESK_E2E_SHOTS
  if (copyTo) {
    mkdirSync(copyTo, { recursive: true })
    for (const f of ['metrics.png', 'fraud.png', 'pipeline.png', 'small-fraud.png', 'small-orders.png']) copyFileSync(join(shots, f), join(copyTo, f))
  }
})

test('4. The alerts table pages through every alert and finds a customer\'s by id', async () => {
  await openTab(session.page, 'fraud')
  // more alerts of one customer than a page holds, dropped in by hand: over $5,000 each
  const customerId = `cus_e2e_findme_${Date.now().toString(36)}`
  const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify(craftedOrder({ orderId: `ord_${customerId}_${i}`, customerId })))
  writeAtomically(join(input, 'orders'), `orders-e2e-${customerId}.jsonl`, lines.join('\n') + '\n')

  await session.page.getByTestId('alerts-search').fill(customerId.toUpperCase())
  const range = session.page.getByTestId('alerts-range')
  await eventually(async () => (await textOf(range)) === '1–50 of 60', { message: 'the first page of the 60 matching alerts', detail: () => textOf(range) })
  const firstPage = await session.page.getByTestId('alert-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order-id')))
  assert.equal(firstPage.length, 50)
  await session.page.getByTestId('alerts-next').click()
  await eventually(async () => (await textOf(range)) === '51–60 of 60', { message: 'the second page' })
  const secondPage = await session.page.getByTestId('alert-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order-id')))
  const seen = new Set([...firstPage, ...secondPage])
  assert.equal(seen.size, 60, 'every alert of the customer once, over two pages')
  assert.ok([...seen].every((id) => id.startsWith(`ord_${customerId}_`)))
  assert.match(await textOf(session.page.getByTestId('alerts-card').locator('.hint')), /60 of [\d,]+ alerts match/)

  // without the search: every alert in the lake, counted as the engine counts them
  await session.page.getByTestId('alerts-search').fill('')
  const all = (await api(session.server.url, 'query.alertPage', { limit: 1 })).all
  await eventually(async () => (await textOf(range)).startsWith('1–50 of '), { message: 'the first page of all alerts' })
  assert.ok(all > 60)
})

test('the page logged no errors along the way', () => {
  assert.deepEqual(session.browser.problems, [])
})
