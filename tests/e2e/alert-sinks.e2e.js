// A webhook alert sink set up in the settings drawer, in Chromium against a real `streamdesk
// serve`: a local HTTP receiver started here gets every alert of a folder of crafted orders, each
// request with an Idempotency-Key and a signature made with the sink's secret; the Pipeline tab
// shows the sink green (backlog 0, last success); the settings file never holds the secret, and
// the drawer shows it as stored, not as typed. Then the sink, failing with alerts queued, is
// removed: the card keeps it as orphaned with its count until the user discards them.

import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { craftedOrder, eventually, openTab, servedSession, textOf, writeAtomically } from './helpers.js'

const SECRET = 'e2e-whsec-9d81c2'
const ORDERS = ['e2e-sink-1', 'e2e-sink-2', 'e2e-sink-3']

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
})

const session = servedSession({
  name: 'sinks',
  settings: ({ input }) => ({ source: { kind: 'folder', inputPath: input }, pipeline: { triggerMs: 100 } }),
  afterStart: (server) => {
    // orders that raise alerts (7,500 USD each: over the 5,000 amount rule), waiting in the folder
    const input = join(server.dir, 'input')
    writeAtomically(join(input, 'customers'), 'c.jsonl', '')
    const now = Date.now()
    const lines = ORDERS.map((orderId, i) => JSON.stringify(craftedOrder({ orderId, customerId: `cus_sink_${i}`, ts: new Date(now - 60_000 + i * 1000) })))
    writeAtomically(join(input, 'orders'), 'orders-1.jsonl', lines.join('\n') + '\n')
  }
})

before(async () => {
  await eventually(async () => (await session.page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
    message: 'the page to connect to the engine'
  })
})

after(async () => {
  await new Promise((r) => receiver?.close(r))
  assert.deepEqual(session.browser?.problems ?? [], [])
})

test('A webhook added in the drawer turns green on the Pipeline tab; the receiver has every alert once, signed; no secret in the settings file', async () => {
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`
  await session.page.getByTestId('open-settings').click()
  await session.page.getByTestId('settings-drawer').waitFor({ state: 'visible' })
  const sinks = session.page.getByTestId('setting-alerts.sinks')
  await sinks.waitFor({ state: 'visible' })
  await sinks.fill(`webhook ${hookUrl} secret=${SECRET} name=e2e-hook`)
  await session.page.getByTestId('settings-save').click()
  await session.page.getByTestId('settings-saved').waitFor({ state: 'visible' })

  // the settings file names the sink and a reference; the secret is in the 0600 file beside it
  const saved = readFileSync(session.server.settingsFile, 'utf8')
  assert.ok(!saved.includes(SECRET), 'the settings file holds the secret in clear')
  assert.deepEqual(JSON.parse(saved).alerts.sinks[0].secret, { secretRef: JSON.parse(saved).alerts.sinks[0].secret.secretRef })
  const secretsFile = join(session.server.dir, 'settings.secrets.json')
  assert.equal(statSync(secretsFile).mode & 0o777, 0o600)
  // the drawer shows that a secret is stored, never what it is
  await eventually(async () => /secret=••••[0-9a-f]{16}/.test(await sinks.inputValue()), { message: 'the drawer to show the stored secret' })
  assert.ok(!(await sinks.inputValue()).includes(SECRET))
  await session.page.getByTestId('settings-close').click()
  await session.page.getByTestId('settings-drawer').waitFor({ state: 'detached' })

  await session.page.getByTestId('pipeline-start').click()
  await openTab(session.page, 'pipeline')
  const row = session.page.getByTestId('alert-sink-row').filter({ hasText: 'e2e-hook' })
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

  await session.page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await session.page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
    message: 'the pipeline to stop'
  })
  // nothing written by the engine in the serve folder holds the secret, except the secrets file
  for (const f of readdirSync(session.server.dir)) {
    if (f === 'settings.secrets.json' || !statSync(join(session.server.dir, f)).isFile()) continue
    assert.ok(!readFileSync(join(session.server.dir, f), 'utf8').includes(SECRET), `${f} holds the secret`)
  }
})

test('A removed sink with alerts queued stays listed as orphaned until its alerts are discarded, after a confirmation', async () => {
  failing = true
  const now = Date.now()
  const late = ['e2e-orphan-1', 'e2e-orphan-2'].map((orderId, i) => JSON.stringify(craftedOrder({ orderId, customerId: `cus_orphan_${i}`, ts: new Date(now - 30_000 + i * 1000) })))
  writeAtomically(join(session.server.dir, 'input', 'orders'), 'orders-2.jsonl', late.join('\n') + '\n')
  await session.page.getByTestId('pipeline-start').click()
  const row = session.page.getByTestId('alert-sink-row').filter({ hasText: 'e2e-hook' })
  await eventually(
    async () => (await textOf(row.getByTestId('alert-sink-health'))) === 'failing' && (await row.locator('td').nth(2).textContent())?.trim() === '2',
    { message: 'the sink to fail with 2 alerts queued', detail: async () => JSON.stringify(await row.locator('td').allTextContents()) }
  )
  await session.page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await session.page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', { message: 'the pipeline to stop' })

  await session.page.getByTestId('open-settings').click()
  const sinks = session.page.getByTestId('setting-alerts.sinks')
  await sinks.waitFor({ state: 'visible' })
  await sinks.fill('')
  await session.page.getByTestId('settings-save').click()
  await session.page.getByTestId('settings-saved').waitFor({ state: 'visible' })
  await session.page.getByTestId('settings-close').click()
  await session.page.getByTestId('settings-drawer').waitFor({ state: 'detached' })

  await eventually(async () => (await textOf(row.getByTestId('alert-sink-health'))) === 'orphaned', {
    message: 'the removed sink to show as orphaned',
    detail: async () => JSON.stringify(await session.page.getByTestId('alert-sink-row').allTextContents())
  })
  assert.equal((await row.locator('td').nth(2).textContent())?.trim(), '2')
  assert.match(await textOf(row.getByTestId('alert-sink-orphan')), /No longer in the settings: 2 undelivered alerts kept/)
  await row.getByTestId('alert-sink-discard').click()
  await row.getByTestId('alert-sink-discard-confirm').click()
  await eventually(async () => (await session.page.getByTestId('alert-sink-row').count()) === 0, { message: 'the orphan to be gone after the discard' })
  assert.deepEqual(requests.flatMap((r) => JSON.parse(r.body).alerts.map((a) => a.order_id)).sort(), ORDERS)
})
