// The analyst workbench's history views as a person uses them, in Chromium against a real
// `streamdesk serve` reading a folder this test writes: the 24 h range on Metrics (re-bucketed
// charts, KPI cards as the engine computes them over the range), Recent orders searched across
// the lake, and live updates paused (the list holds still while batches commit) and resumed.
// Screenshots at 1280×800 and 1024×640 are kept in a temp folder (printed), and copied to
// $STREAMDESK_E2E_SHOTS when it is set.
//
// The tests in this file run in order and share one server and one browser page.

import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { api, craftedOrder, eventually, openTab, parseShownNumber, servedSession, textOf, VIEWPORT, writeAtomically } from './helpers.js'

const SMALL_SCREEN = { width: 1024, height: 640 }
const FIND_ME = 'cus_e2e_find_me'

let shots
let written = 0

const session = servedSession({
  name: 'workbench',
  settings: ({ input }) => ({ source: { kind: 'folder', inputPath: input }, pipeline: { triggerMs: 200 }, dashboard: { refreshSeconds: 1 } }),
  afterStart: () => {
    shots = mkdtempSync(join(tmpdir(), 'streamdesk-workbench-shots-'))
    writeHistory()
  },
  reducedMotion: 'reduce'
})

after(() => {
  if (shots) console.log(`workbench: screenshots in ${shots}`)
})

/** Writes orders as one file the way the generator does; returns how many the lake will hold. */
function writeOrders(name, orders) {
  writeAtomically(join(session.server.input, 'orders'), name, orders.map((o) => JSON.stringify(o)).join('\n') + '\n')
  written += orders.length
}

/**
 * Twenty hours of orders, every 20 minutes, in the first batch (which has no watermark, so none
 * is late), and a few of one customer to search for.
 */
function writeHistory() {
  const now = Date.now()
  const orders = []
  for (let k = 60; k >= 1; k--) {
    for (let i = 0; i < 1 + (k % 4); i++) {
      const ts = new Date(now - k * 20 * 60_000 + i * 1000)
      const items = [{ product_id: `P${i}`, product_name: 'E2E Lamp', category: 'Home & Kitchen', quantity: 1 + (k % 3), unit_price: 15 + (k % 7) * 10 }]
      orders.push(craftedOrder({ orderId: `ord_e2e_h_${k}_${i}`, customerId: `cus_e2e_h_${k % 9}`, items, status: k % 10 === 0 ? 'cancelled' : 'paid', ts }))
    }
  }
  for (const [i, status] of ['paid', 'shipped', 'paid'].entries()) {
    orders.push(craftedOrder({ orderId: `ord_e2e_find_${i}`, customerId: FIND_ME, status, ts: new Date(now - (i + 1) * 3 * 60_000) }))
  }
  writeOrders('history.jsonl', orders)
}

async function screenshot(name) {
  const file = join(shots, `${name}.png`)
  await session.page.screenshot({ path: file, fullPage: false })
  if (process.env.STREAMDESK_E2E_SHOTS) {
    mkdirSync(process.env.STREAMDESK_E2E_SHOTS, { recursive: true })
    copyFileSync(file, join(process.env.STREAMDESK_E2E_SHOTS, `${name}.png`))
  }
}

async function atBothSizes(name) {
  await screenshot(`${name}-1280`)
  await session.page.setViewportSize(SMALL_SCREEN)
  await screenshot(`${name}-1024`)
  await session.page.setViewportSize(VIEWPORT)
}

const kpiValue = (id) => textOf(session.page.getByTestId(`kpi-${id}-value`))

/** The value of an <input type="datetime-local"> for a time, in this machine's (and the page's) zone. */
const localInput = (d) => {
  const pad = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

test('the 24 h range on Metrics shows the engine’s figures over the range, in 15-minute buckets', async () => {
  const start = session.page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()
  await eventually(async () => (await api(session.server.url, 'pipeline.status')).totals.orders === written, { message: 'the history in the lake' })
  await openTab(session.page, 'metrics')

  await session.page.getByTestId('range-24h').click()
  await eventually(async () => /15-min buckets/.test(await textOf(session.page.getByTestId('range-summary'))), {
    message: 'the 24 h range summary',
    detail: () => textOf(session.page.getByTestId('range-summary'))
  })
  const view = await api(session.server.url, 'query.history', { range: '24h' })
  assert.equal(view.bucketMinutes, 15)
  assert.ok(view.buckets.length > 40, `buckets over 20 hours: ${view.buckets.length}`)
  // nothing is ingested meanwhile: the cards show exactly what the engine computed
  await eventually(async () => Math.abs(parseShownNumber(await kpiValue('revenue')) - view.kpis.revenue) < 0.005, {
    message: 'the Revenue card to show the range’s revenue',
    detail: async () => `${await kpiValue('revenue')} vs ${view.kpis.revenue}`
  })
  assert.equal(parseShownNumber(await kpiValue('unique-customers')), view.kpis.uniqueCustomers)
  assert.ok(Math.abs(parseShownNumber(await kpiValue('orders-per-minute')) - view.kpis.ordersPerMinute) < 0.05)
  assert.match(await textOf(session.page.getByTestId('kpi-revenue-period')), /1,440 complete minutes|complete minutes/)
  assert.match(await textOf(session.page.getByTestId('chart-orders')), /per 15-min bucket/)
  assert.ok(await session.page.getByTestId('chart-revenue').locator('canvas, svg').count(), 'the revenue chart is drawn')
  await atBothSizes('metrics-24h')

  // a custom range, typed as local times: the last six whole hours
  const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000)
  const from = new Date(to.getTime() - 6 * 3_600_000)
  await session.page.getByTestId('range-custom').click()
  await session.page.getByTestId('range-from').fill(localInput(from))
  await session.page.getByTestId('range-to').fill(localInput(to))
  await session.page.getByTestId('range-apply').click()
  const custom = await api(session.server.url, 'query.history', { range: 'custom', from: from.toISOString(), to: to.toISOString() })
  assert.equal(custom.bucketMinutes, 5)
  await eventually(async () => /5-min buckets/.test(await textOf(session.page.getByTestId('range-summary'))), {
    message: 'the custom range summary',
    detail: () => textOf(session.page.getByTestId('range-summary'))
  })
  await eventually(async () => Math.abs(parseShownNumber(await kpiValue('revenue')) - custom.kpis.revenue) < 0.005, {
    message: 'the Revenue card to show the custom range’s revenue',
    detail: async () => `${await kpiValue('revenue')} vs ${custom.kpis.revenue}`
  })
  await screenshot('metrics-custom-1280')

  await openTab(session.page, 'fraud')
  await session.page.getByTestId('chart-alerts-per-bucket').waitFor({ state: 'visible' })
  await atBothSizes('fraud-24h')
  await session.page.getByTestId('range-live').click()
  await session.page.getByTestId('chart-alerts-timeline').waitFor({ state: 'visible' })
})

test('Recent orders finds one customer’s orders across the lake, then narrows by status', async () => {
  await openTab(session.page, 'orders')
  await session.page.getByTestId('filter-customer').fill('FIND_me')
  const ids = async () => session.page.getByTestId('order-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order-id')))
  const expected = await api(session.server.url, 'query.orderSearch', { customer: 'FIND_me', limit: 100 })
  assert.equal(expected.total, 3)
  await eventually(async () => JSON.stringify(await ids()) === JSON.stringify(expected.rows.map((r) => r.orderId)), {
    message: 'the three orders of the customer',
    detail: ids
  })
  assert.match(await textOf(session.page.getByTestId('orders-range')), /^1–3 of 3$/)

  await session.page.getByTestId('filter-status').selectOption('shipped')
  await eventually(async () => JSON.stringify(await ids()) === JSON.stringify(['ord_e2e_find_1']), { message: 'the shipped one', detail: ids })
  await atBothSizes('orders-search')
  await session.page.getByTestId('filter-clear').click()
  await eventually(async () => (await ids()).length === Math.min(100, written), { message: 'the live list again', detail: ids })
})

test('Pause holds the list still while batches commit; Resume shows them', async () => {
  await openTab(session.page, 'orders')
  const firstRow = () => session.page.getByTestId('order-row').first().getAttribute('data-order-id')
  const before = await firstRow()
  const batchesBefore = (await api(session.server.url, 'pipeline.status')).lastBatchId

  await session.page.getByTestId('live-pause').click()
  await session.page.getByTestId('live-paused').waitFor({ state: 'visible' })
  writeOrders('after-pause.jsonl', [craftedOrder({ orderId: 'ord_e2e_while_paused', customerId: 'cus_e2e_paused', ts: new Date() })])
  await eventually(async () => (await api(session.server.url, 'pipeline.status')).lastBatchId > batchesBefore, { message: 'a batch committed while paused' })
  // the page received the snapshot with the new order and held it back
  await eventually(async () => (await session.page.getByTestId('live-paused').getAttribute('data-held-back')) === 'true', {
    message: 'newer figures held back',
    detail: () => textOf(session.page.getByTestId('live-paused'))
  })
  assert.equal(await firstRow(), before, 'the list did not move while paused')
  assert.match(await textOf(session.page.getByTestId('live-paused')), /batch(es)? committed since/)
  await atBothSizes('paused')

  await session.page.getByTestId('live-resume').click()
  await session.page.getByTestId('live-paused').waitFor({ state: 'detached' })
  await eventually(async () => (await firstRow()) === 'ord_e2e_while_paused', { message: 'the new order after Resume', detail: firstRow })
  assert.deepEqual(session.browser.problems, [])
})

test('the checkpoint inspector lists the input files with no lag once read', async () => {
  await openTab(session.page, 'pipeline')
  const rows = session.page.getByTestId('checkpoint-row')
  await eventually(async () => (await rows.count()) === 2, { message: 'two file offsets', detail: () => rows.count() })
  const offsets = await api(session.server.url, 'query.sourceOffsets')
  assert.deepEqual(
    offsets.map((o) => [o.unit, o.lag]),
    [
      ['bytes', 0],
      ['bytes', 0]
    ]
  )
  await session.page.getByTestId('checkpoints-card').scrollIntoViewIfNeeded()
  await atBothSizes('checkpoints')
})
