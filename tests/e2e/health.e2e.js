// The health banner as a person sees it in Chromium against a real `streamdesk serve`: a pipeline
// with input waiting that commits nothing shows "stuck" on every tab, with the cause and what to
// do; stopping it clears the banner. It is made stuck honestly: after its first batch, the
// trigger interval (10 min) keeps the next batch from starting while a file waits. The banner
// appears once the monitor has seen the file wait for stuckSeconds, however long that takes here.

import assert from 'node:assert/strict'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { api, craftedOrder, eventually, launchBrowser, openTab, parseShownNumber, startServe, textOf, writeAtomically } from './helpers.js'

const SMALL = [{ product_id: 'P1', product_name: 'E2E Mug', category: 'Home & Kitchen', quantity: 1, unit_price: 12.5 }]
const tag = Date.now().toString(36)
const line = (id) => JSON.stringify(craftedOrder({ orderId: id, customerId: 'cus_e2e_health', items: SMALL })) + '\n'

let server
let browser
let page

before(async () => {
  server = await startServe({
    name: 'health',
    settings: ({ input }) => ({
      source: { kind: 'folder', inputPath: input },
      pipeline: { triggerMs: 600_000 },
      alerts: { health: { stuckSeconds: 5, checkSeconds: 1, holdSeconds: 0 } }
    })
  })
  for (const sub of ['orders', 'customers']) mkdirSync(join(server.input, sub), { recursive: true })
  browser = await launchBrowser()
  page = browser.page
  await page.goto(server.url)
})

after(async () => {
  await browser?.close()
  if (server) {
    const ended = await server.stop()
    rmSync(server.dir, { recursive: true, force: true })
    assert.ok(ended.signal === null || ended.signal === 'SIGINT', `serve had to be killed (${JSON.stringify(ended)})`)
  }
})

test('a stuck pipeline shows a banner on every tab with its cause; idle shows none', async () => {
  writeAtomically(join(server.input, 'orders'), 'first.jsonl', line(`ord_e2e_${tag}_1`))
  const start = page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()
  await openTab(page, 'pipeline')
  const orders = () => textOf(page.getByTestId('stat-orders'))
  await eventually(async () => parseShownNumber(await orders()) === 1, { message: 'the first order', detail: orders })

  // idle: nothing to read, however many looks the monitor takes
  const health = () => api(server.url, 'query.health')
  const firstLook = (await health()).checkedAt
  await eventually(async () => {
    const h = await health()
    return h.checkedAt !== firstLook && h.activity === 'idle'
  }, { message: 'the monitor to look again and see idle', detail: health })
  assert.equal(await page.getByTestId('health-banner').count(), 0, 'no banner while idle')
  const activity = page.getByTestId('input-activity')
  await eventually(async () => (await activity.getAttribute('data-activity')) === 'idle', { message: 'the Pipeline tab saying idle' })
  assert.equal(await textOf(activity), 'Input: idle, everything there is has been read')

  writeAtomically(join(server.input, 'orders'), 'second.jsonl', line(`ord_e2e_${tag}_2`))
  const banner = page.getByTestId('health-stuck')
  await eventually(() => banner.isVisible(), { message: 'the stuck banner', detail: health })
  assert.match(await textOf(banner), /Pipeline stuck: input is waiting, but no batch is committed\./)
  assert.match(await textOf(banner.getByTestId('health-cause')), /^1 file, \d+ B waiting to be read, and no batch committed for \d+ s; this is not idle: there is input\.$/)
  assert.match(await textOf(banner), /What to do: /)
  for (const tab of ['metrics', 'fraud', 'orders', 'sql', 'rules', 'pipeline']) {
    await openTab(page, tab)
    assert.ok(await banner.isVisible(), `the banner on the ${tab} tab`)
  }
  assert.match(await textOf(activity), /^Input: stuck, 1 file, \d+ B waiting and no batch committed$/)

  await page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await page.getByTestId('health-banner').count()) === 0, { message: 'the banner gone once stopped' })
})
