// A watched folder whose file is truncated and written again (copytruncate rotation), as a person
// sees it in Chromium against a real `streamdesk serve`: the new lines are read from byte 0 and
// the Pipeline tab lists the event with what the pipeline did.

import assert from 'node:assert/strict'
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { craftedOrder, eventually, makeInputFolders, openTab, parseShownNumber, servedSession, textOf } from './helpers.js'

const SMALL = [{ product_id: 'P1', product_name: 'E2E Mug', category: 'Home & Kitchen', quantity: 1, unit_price: 12.5 }]
const line = (id) => JSON.stringify(craftedOrder({ orderId: id, customerId: 'cus_e2e_rotation', items: SMALL })) + '\n'
const tag = Date.now().toString(36)

const session = servedSession({
  name: 'file-events',
  settings: ({ input }) => ({ source: { kind: 'folder', inputPath: input }, pipeline: { triggerMs: 200 } }),
  afterStart: makeInputFolders
})

test('a truncated file is read again from its start and the Pipeline tab says so', async () => {
  const file = join(session.server.input, 'orders', 'app.jsonl')
  writeFileSync(file, line(`ord_e2e_${tag}_1`) + line(`ord_e2e_${tag}_2`) + line(`ord_e2e_${tag}_3`))
  const start = session.page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()
  await openTab(session.page, 'pipeline')
  const orders = () => textOf(session.page.getByTestId('stat-orders'))
  await eventually(async () => parseShownNumber(await orders()) === 3, { message: 'the first 3 orders', detail: orders })
  assert.equal(await session.page.getByTestId('file-events-card').count(), 0, 'no file events before the truncation')

  truncateSync(file, 0)
  appendFileSync(file, line(`ord_e2e_${tag}_4`) + line(`ord_e2e_${tag}_5`))

  const row = session.page.getByTestId('file-event-row')
  await eventually(async () => (await row.count()) === 1, { message: 'the file event row' })
  assert.equal(await textOf(row.getByTestId('file-event-kind')), 'truncated')
  assert.match(await textOf(row.getByTestId('file-event-message')), /app\.jsonl was truncated .*read again from byte 0/)
  await eventually(async () => parseShownNumber(await orders()) === 5, { message: 'all 5 orders, none lost', detail: orders })
})
