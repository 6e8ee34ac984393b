// The health banner as a person sees it in Chromium against a real `streamdesk serve`: a pipeline
// with input waiting that commits nothing shows "stuck" on every tab, with the cause and what to
// do; stopping it clears the banner. It is made stuck honestly: after its first batch, the
// trigger interval (10 min) keeps the next batch from starting while a file waits. The banner
// appears once the monitor has seen the file wait for stuckSeconds, however long that takes here.

import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { api, craftedOrder, eventually, makeInputFolders, openTab, parseShownNumber, servedSession, textOf, writeAtomically } from './helpers.js'

const SMALL = [{ product_id: 'P1', product_name: 'E2E Mug', category: 'Home & Kitchen', quantity: 1, unit_price: 12.5 }]
const tag = Date.now().toString(36)
const line = (id) => JSON.stringify(craftedOrder({ orderId: id, customerId: 'cus_e2e_health', items: SMALL })) + '\n'

const session = servedSession({
  name: 'health',
  settings: ({ input }) => ({
    source: { kind: 'folder', inputPath: input },
    pipeline: { triggerMs: 600_000 },
    alerts: { health: { stuckSeconds: 5, checkSeconds: 1, holdSeconds: 0 } }
  }),
  afterStart: makeInputFolders
})

test('a stuck pipeline shows a banner on every tab with its cause; idle shows none', async () => {
  writeAtomically(join(session.server.input, 'orders'), 'first.jsonl', line(`ord_e2e_${tag}_1`))
  const start = session.page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()
  await openTab(session.page, 'pipeline')
  const orders = () => textOf(session.page.getByTestId('stat-orders'))
  await eventually(async () => parseShownNumber(await orders()) === 1, { message: 'the first order', detail: orders })

  // idle: nothing to read, however many looks the monitor takes
  const health = () => api(session.server.url, 'query.health')
  const firstLook = (await health()).checkedAt
  await eventually(async () => {
    const h = await health()
    return h.checkedAt !== firstLook && h.activity === 'idle'
  }, { message: 'the monitor to look again and see idle', detail: health })
  assert.equal(await session.page.getByTestId('health-banner').count(), 0, 'no banner while idle')
  const activity = session.page.getByTestId('input-activity')
  await eventually(async () => (await activity.getAttribute('data-activity')) === 'idle', { message: 'the Pipeline tab saying idle' })
  assert.equal(await textOf(activity), 'Input: idle, everything there is has been read')

  writeAtomically(join(session.server.input, 'orders'), 'second.jsonl', line(`ord_e2e_${tag}_2`))
  const banner = session.page.getByTestId('health-stuck')
  await eventually(() => banner.isVisible(), { message: 'the stuck banner', detail: health })
  assert.match(await textOf(banner), /Pipeline stuck: input is waiting, but no batch is committed\./)
  assert.match(await textOf(banner.getByTestId('health-cause')), /^1 file, \d+ B waiting to be read, and no batch committed for \d+ s; this is not idle: there is input\.$/)
  assert.match(await textOf(banner), /What to do: /)
  for (const tab of ['metrics', 'fraud', 'orders', 'sql', 'rules', 'pipeline']) {
    await openTab(session.page, tab)
    assert.ok(await banner.isVisible(), `the banner on the ${tab} tab`)
  }
  assert.match(await textOf(activity), /^Input: stuck, 1 file, \d+ B waiting and no batch committed$/)

  await session.page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await session.page.getByTestId('health-banner').count()) === 0, { message: 'the banner gone once stopped' })
})
