// Replay and re-validation as a person does them in Chromium against a real `streamdesk serve`:
// a SEK order is quarantined for want of a rate; with the pipeline stopped and the rate added,
// the quarantine browser re-validates it into silver once, and the Replay card re-derives the
// lake with the new rates, showing its progress and outcome. Neither is offered while it runs.

import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { api, craftedOrder, eventually, makeInputFolders, openTab, parseShownNumber, servedSession, textOf } from './helpers.js'

const SMALL = [{ product_id: 'P1', product_name: 'E2E Mug', category: 'Home & Kitchen', quantity: 1, unit_price: 100 }]
const tag = Date.now().toString(36)

const session = servedSession({
  name: 'replay',
  settings: ({ input }) => ({ source: { kind: 'folder', inputPath: input }, pipeline: { triggerMs: 200 } }),
  afterStart: makeInputFolders
})

after(() => {
  assert.deepEqual(session.browser?.problems ?? [], [])
})

test('a quarantined SEK order re-validated once the rate exists, then the lake replayed', async () => {
  const sek = { ...craftedOrder({ orderId: `ord_e2e_${tag}_sek`, items: SMALL }), currency: 'SEK' }
  const usd = craftedOrder({ orderId: `ord_e2e_${tag}_usd`, items: SMALL })
  writeFileSync(join(session.server.input, 'orders', 'one.jsonl'), JSON.stringify(usd) + '\n' + JSON.stringify(sek) + '\n')
  const start = session.page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()
  await openTab(session.page, 'pipeline')
  const quarantined = () => textOf(session.page.getByTestId('stat-quarantined'))
  await eventually(async () => parseShownNumber(await quarantined()) === 1, { message: 'the SEK line quarantined', detail: quarantined })
  assert.equal(await session.page.getByTestId('replay').count(), 0, 'no Replay while the pipeline runs')
  await session.page.getByTestId('quarantine-refresh').click()
  const row = session.page.getByTestId('quarantine-row').first()
  await row.waitFor()
  assert.match(await textOf(row.getByTestId('quarantine-reason')), /no exchange rate for SEK/)
  assert.equal(await row.getByTestId('quarantine-revalidate').isEnabled(), false, 'Re-validate waits for Stop')

  await session.page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await session.page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', { message: 'the pipeline to stop' })
  await api(session.server.url, 'settings.update', { patch: { reporting: { fxRates: { EUR: 1.08, SEK: 0.1 } } } })

  await row.getByTestId('quarantine-revalidate').click()
  const outcome = session.page.getByTestId('quarantine-revalidated')
  await outcome.waitFor()
  assert.match(await textOf(outcome), /^Batch \d+: 1 now valid, 0 duplicates, 0 still quarantined$/)
  await eventually(async () => (await session.page.getByTestId('quarantine-resolved').count()) === 1, { message: 'the line marked as taken into silver' })

  await session.page.getByTestId('replay-run').click()
  const replayed = session.page.getByTestId('replay-outcome')
  await replayed.waitFor()
  assert.equal(await textOf(replayed), 'Replayed 1 batches in 1 chunks: 2 orders read, 2 valid')
  assert.match(await textOf(session.page.getByTestId('replay-progress')), /^Chunk 1 of 1: batches 1–1, 2 orders read, 2 valid$/)
  // the SEK order counted once: under its own batch after the replay, the re-validated copy gone
  const orders = await api(session.server.url, 'query.recentOrders', {})
  assert.deepEqual(orders.map((o) => [o.orderId, o.reportingAmount]).sort(), [
    [sek.order_id, 10],
    [usd.order_id, 100]
  ])
})
