// Rewind as a person does it in Chromium against a real `streamdesk serve`: the checkpoint
// inspector's Rewind… is disabled while the pipeline runs, with the reason; stopped, the dialog
// refuses an offset that is not a line start, states the consequence before anything changes,
// and only the confirmation rewinds. The next run reads the file again: the re-read orders show
// as duplicates, the valid orders stay as they were.

import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { api, craftedOrder, eventually, launchBrowser, openTab, parseShownNumber, startServe, textOf } from './helpers.js'

const SMALL = [{ product_id: 'P1', product_name: 'E2E Mug', category: 'Home & Kitchen', quantity: 1, unit_price: 100 }]
const tag = Date.now().toString(36)

let server
let browser
let page

before(async () => {
  server = await startServe({
    name: 'rewind',
    settings: ({ input }) => ({ source: { kind: 'folder', inputPath: input }, pipeline: { triggerMs: 200 } })
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
  assert.deepEqual(browser?.problems ?? [], [])
})

const state = () => page.getByTestId('pipeline-state').getAttribute('data-state')

test('a file rewound to byte 0 from the checkpoint inspector is read again as duplicates', async () => {
  const file = join(server.input, 'orders', 'one.jsonl')
  const lines = [1, 2, 3].map((i) => JSON.stringify(craftedOrder({ orderId: `ord_e2e_${tag}_${i}`, items: SMALL })) + '\n')
  writeFileSync(file, lines.join(''))
  const start = page.getByTestId('pipeline-start')
  await eventually(() => start.isEnabled(), { message: 'the Start button to be enabled' })
  await start.click()
  await openTab(page, 'pipeline')
  const orders = () => textOf(page.getByTestId('stat-orders'))
  await eventually(async () => parseShownNumber(await orders()) === 3, { message: 'the three orders', detail: orders })

  const row = page.getByTestId('checkpoint-row').first()
  await row.waitFor()
  const button = row.getByTestId('checkpoint-rewind')
  assert.equal(await button.isEnabled(), false, 'Rewind waits for Stop')
  assert.match(await textOf(page.getByTestId('checkpoint-rewind-reason')), /Stop the pipeline to rewind a source/)

  await page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await state()) === 'stopped', { message: 'the pipeline to stop' })
  await eventually(() => button.isEnabled(), { message: 'Rewind enabled once stopped' })
  await button.click()
  const dialog = page.getByTestId('rewind-dialog')
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
  const offsets = await api(server.url, 'query.sourceOffsets', {})
  assert.equal(offsets[0].committedOffset, readFileSync(file).length, 'nothing changed before the confirmation')

  await dialog.getByTestId('rewind-confirm-ok').click()
  const done = dialog.getByTestId('rewind-done')
  await done.waitFor()
  assert.match(await textOf(done), /recorded as batch #\d+ in the batch log/)
  await dialog.getByTestId('rewind-finish').click()
  const kinds = await api(server.url, 'query.batches', {})
  assert.equal(kinds.at(-1).kind, 'rewind')

  await start.click()
  const dupes = () => textOf(page.getByTestId('stat-duplicates'))
  await eventually(async () => parseShownNumber(await dupes()) === 3, { message: 'the re-read orders counted as duplicates', detail: dupes })
  assert.equal(parseShownNumber(await orders()), 3, 'no order counted twice')
  await eventually(async () => (await page.getByTestId('file-event-kind').allTextContents()).includes('rewound'), { message: 'the rewind in File events' })
  await page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await state()) === 'stopped', { message: 'the pipeline to stop' })
})
