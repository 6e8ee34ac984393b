// Rewind as a person does it in Chromium against a real `streamdesk serve`: the checkpoint
// inspector's Rewind… is disabled while the pipeline runs, with the reason; stopped, the dialog
// refuses an offset that is not a line start, states the consequence before anything changes,
// and only the confirmation rewinds. The next run reads the file again: the re-read orders show
// as duplicates, the valid orders stay as they were.

import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { api, craftedOrder, eventually, makeInputFolders, openTab, parseShownNumber, servedSession, textOf } from './helpers.js'

const SMALL = [{ product_id: 'P1', product_name: 'E2E Mug', category: 'Home & Kitchen', quantity: 1, unit_price: 100 }]
const tag = Date.now().toString(36)

const session = servedSession({
  name: 'rewind',
  settings: ({ input }) => ({ source: { kind: 'folder', inputPath: input }, pipeline: { triggerMs: 200 } }),
  afterStart: makeInputFolders
})

after(() => {
  assert.deepEqual(session.browser?.problems ?? [], [])
})

const state = () => session.page.getByTestId('pipeline-state').getAttribute('data-state')

test('a file rewound to byte 0 from the checkpoint inspector is read again as duplicates', async () => {
  const file = join(session.server.input, 'orders', 'one.jsonl')
  const lines = [1, 2, 3].map((i) => JSON.stringify(craftedOrder({ orderId: `ord_e2e_${tag}_${i}`, items: SMALL })) + '\n')
  writeFileSync(file, lines.join(''))
  const start = session.page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()
  await openTab(session.page, 'pipeline')
  const orders = () => textOf(session.page.getByTestId('stat-orders'))
  await eventually(async () => parseShownNumber(await orders()) === 3, { message: 'the three orders', detail: orders })

  const row = session.page.getByTestId('checkpoint-row').first()
  await row.waitFor()
  const button = row.getByTestId('checkpoint-rewind')
  assert.equal(await button.isEnabled(), false, 'Rewind waits for Stop')
  assert.match(await textOf(session.page.getByTestId('checkpoint-rewind-reason')), /Stop the pipeline to rewind a source/)

  await session.page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await state()) === 'stopped', { message: 'the pipeline to stop' })
  await eventually(() => button.isEnabled(), { message: 'Rewind enabled once stopped' })
  await button.click()
  const dialog = session.page.getByTestId('rewind-dialog')
  await dialog.waitFor()

  // not a line start: the reason names the nearest ones, and nothing is asked to confirm
  const second = Buffer.byteLength(lines[0])
  await dialog.getByTestId('rewind-value').fill(String(second + 3))
  await dialog.getByTestId('rewind-check').click()
  const error = dialog.getByTestId('rewind-error')
  await error.waitFor()
  assert.match(await textOf(error), new RegExp(`offset ${second + 3} of .* is not the start of a line; the nearest line starts are ${second} or ${second + Buffer.byteLength(lines[1])}`))
  assert.equal(await dialog.getByTestId('rewind-confirm').count(), 0)

  await dialog.getByTestId('rewind-value').fill('0')
  await dialog.getByTestId('rewind-check').click()
  const confirm = dialog.getByTestId('rewind-confirm')
  await confirm.waitFor()
  assert.match(await textOf(confirm), new RegExp(`Rewind from ${readFileSync(file).length.toLocaleString('en-US')} to 0 bytes\\?`))
  assert.match(await textOf(dialog.getByTestId('rewind-consequence')), /count as duplicates, not as new orders/)
  const offsets = await api(session.server.url, 'query.sourceOffsets', {})
  assert.equal(offsets[0].committedOffset, readFileSync(file).length, 'nothing changed before the confirmation')

  await dialog.getByTestId('rewind-confirm-ok').click()
  const done = dialog.getByTestId('rewind-done')
  await done.waitFor()
  assert.match(await textOf(done), /recorded as batch #\d+ in the batch log/)
  await dialog.getByTestId('rewind-finish').click()
  const kinds = await api(session.server.url, 'query.batches', {})
  assert.equal(kinds.at(-1).kind, 'rewind')

  await start.click()
  const dupes = () => textOf(session.page.getByTestId('stat-duplicates'))
  await eventually(async () => parseShownNumber(await dupes()) === 3, { message: 'the re-read orders counted as duplicates', detail: dupes })
  assert.equal(parseShownNumber(await orders()), 3, 'no order counted twice')
  await eventually(async () => (await session.page.getByTestId('file-event-kind').allTextContents()).includes('rewound'), { message: 'the rewind in File events' })
  await session.page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await state()) === 'stopped', { message: 'the pipeline to stop' })
})
