// A webhook alert sink set up in the settings drawer, in Chromium against a real `streamdesk
// serve`: a local HTTP receiver started here gets every alert of a folder of crafted orders, each
// request with an Idempotency-Key and a signature made with the sink's secret; the Pipeline tab
// shows the sink green (backlog 0, last success); the settings file never holds the secret, and
// the drawer shows it as stored, not as typed. Then the sink, failing with alerts queued, is
// removed: the card keeps it as orphaned with its count until the user discards them.

import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { craftedOrder, eventually, launchBrowser, openTab, startServe, textOf, writeAtomically } from './helpers.js'

const SECRET = 'e2e-whsec-9d81c2'
const ORDERS = ['e2e-sink-1', 'e2e-sink-2', 'e2e-sink-3']

let server
let browser
let page
let receiver
let failing = false
const requests = []

before(async () => {
  receiver = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      if (failing) {
        res.statusCode = 503
        res.end()
        return
      }
      requests.push({ key: req.headers['idempotency-key'], signature: req.headers['x-streamdesk-signature'], body })
      res.statusCode = 204
      res.end()
    })
  })
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r))
  server = await startServe({
    name: 'sinks',
    settings: ({ input }) => ({ source: { kind: 'folder', inputPath: input }, pipeline: { triggerMs: 100 } })
  })
  // orders that raise alerts (7,500 USD each: over the 5,000 amount rule), waiting in the folder
  const input = join(server.dir, 'input')
  writeAtomically(join(input, 'customers'), 'c.jsonl', '')
  const now = Date.now()
  const lines = ORDERS.map((orderId, i) => JSON.stringify(craftedOrder({ orderId, customerId: `cus_sink_${i}`, ts: new Date(now - 60_000 + i * 1000) })))
  writeAtomically(join(input, 'orders'), 'orders-1.jsonl', lines.join('\n') + '\n')
  browser = await launchBrowser()
  page = browser.page
  await page.goto(server.url)
  await eventually(async () => (await page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
    message: 'the page to connect to the engine'
  })
})

after(async () => {
  await browser?.close()
  if (server) {
    const ended = await server.stop()
    rmSync(server.dir, { recursive: true, force: true })
    assert.ok(ended.signal === null || ended.signal === 'SIGINT', `serve had to be killed (${JSON.stringify(ended)})`)
  }
  await new Promise((r) => receiver?.close(r))
  assert.deepEqual(browser?.problems ?? [], [])
})

test('A webhook added in the drawer turns green on the Pipeline tab; the receiver has every alert once, signed; no secret in the settings file', async () => {
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`
  await page.getByTestId('open-settings').click()
  await page.getByTestId('settings-drawer').waitFor({ state: 'visible' })
  const sinks = page.getByTestId('setting-alerts.sinks')
  await sinks.waitFor({ state: 'visible' })
  await sinks.fill(`webhook ${hookUrl} secret=${SECRET} name=e2e-hook`)
  await page.getByTestId('settings-save').click()
  await page.getByTestId('settings-saved').waitFor({ state: 'visible' })

  // the settings file names the sink and a reference; the secret is in the 0600 file beside it
  const saved = readFileSync(server.settingsFile, 'utf8')
  assert.ok(!saved.includes(SECRET), 'the settings file holds the secret in clear')
  assert.deepEqual(JSON.parse(saved).alerts.sinks[0].secret, { secretRef: JSON.parse(saved).alerts.sinks[0].secret.secretRef })
  const secretsFile = join(server.dir, 'settings.secrets.json')
  assert.equal(statSync(secretsFile).mode & 0o777, 0o600)
  // the drawer shows that a secret is stored, never what it is
  await eventually(async () => /secret=••••[0-9a-f]{16}/.test(await sinks.inputValue()), { message: 'the drawer to show the stored secret' })
  assert.ok(!(await sinks.inputValue()).includes(SECRET))
  await page.getByTestId('settings-close').click()
  await page.getByTestId('settings-drawer').waitFor({ state: 'detached' })

  await page.getByTestId('pipeline-start').click()
  await openTab(page, 'pipeline')
  const row = page.getByTestId('alert-sink-row').filter({ hasText: 'e2e-hook' })
  await eventually(
    async () => {
      const health = await textOf(row.getByTestId('alert-sink-health'))
      const cells = await row.locator('td').allTextContents()
      return health === 'ok' && cells[2].trim() === '0' && cells[3].trim() !== '—' && cells[3].trim() !== ''
    },
    { message: 'the sink to show ok, backlog 0 and a last success', detail: async () => JSON.stringify(await row.locator('td').allTextContents()) }
  )
  assert.match(await row.getByTestId('alert-sink-health').getAttribute('class'), /\brunning\b/)

  // what the receiver got: every alert once, each request with its key and a valid signature
  const delivered = []
  for (const r of requests) {
    assert.match(r.key ?? '', /^[0-9a-f]{32}$/, 'Idempotency-Key header')
    assert.equal(r.signature, `sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`)
    delivered.push(...JSON.parse(r.body).alerts.map((a) => a.order_id))
  }
  assert.deepEqual([...delivered].sort(), ORDERS)
  assert.equal(new Set(requests.map((r) => r.key)).size, requests.length)

  await page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
    message: 'the pipeline to stop'
  })
  // nothing written by the engine in the serve folder holds the secret, except the secrets file
  for (const f of readdirSync(server.dir)) {
    if (f === 'settings.secrets.json' || !statSync(join(server.dir, f)).isFile()) continue
    assert.ok(!readFileSync(join(server.dir, f), 'utf8').includes(SECRET), `${f} holds the secret`)
  }
})

test('A removed sink with alerts queued stays listed as orphaned until its alerts are discarded, after a confirmation', async () => {
  failing = true
  const now = Date.now()
  const late = ['e2e-orphan-1', 'e2e-orphan-2'].map((orderId, i) => JSON.stringify(craftedOrder({ orderId, customerId: `cus_orphan_${i}`, ts: new Date(now - 30_000 + i * 1000) })))
  writeAtomically(join(server.dir, 'input', 'orders'), 'orders-2.jsonl', late.join('\n') + '\n')
  await page.getByTestId('pipeline-start').click()
  const row = page.getByTestId('alert-sink-row').filter({ hasText: 'e2e-hook' })
  await eventually(
    async () => (await textOf(row.getByTestId('alert-sink-health'))) === 'failing' && (await row.locator('td').nth(2).textContent())?.trim() === '2',
    { message: 'the sink to fail with 2 alerts queued', detail: async () => JSON.stringify(await row.locator('td').allTextContents()) }
  )
  await page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', { message: 'the pipeline to stop' })

  await page.getByTestId('open-settings').click()
  const sinks = page.getByTestId('setting-alerts.sinks')
  await sinks.waitFor({ state: 'visible' })
  await sinks.fill('')
  await page.getByTestId('settings-save').click()
  await page.getByTestId('settings-saved').waitFor({ state: 'visible' })
  await page.getByTestId('settings-close').click()
  await page.getByTestId('settings-drawer').waitFor({ state: 'detached' })

  await eventually(async () => (await textOf(row.getByTestId('alert-sink-health'))) === 'orphaned', {
    message: 'the removed sink to show as orphaned',
    detail: async () => JSON.stringify(await page.getByTestId('alert-sink-row').allTextContents())
  })
  assert.equal((await row.locator('td').nth(2).textContent())?.trim(), '2')
  assert.match(await textOf(row.getByTestId('alert-sink-orphan')), /No longer in the settings: 2 undelivered alerts kept/)
  await row.getByTestId('alert-sink-discard').click()
  await row.getByTestId('alert-sink-discard-confirm').click()
  await eventually(async () => (await page.getByTestId('alert-sink-row').count()) === 0, { message: 'the orphan to be gone after the discard' })
  assert.deepEqual(requests.flatMap((r) => JSON.parse(r.body).alerts.map((a) => a.order_id)).sort(), ORDERS)
})
