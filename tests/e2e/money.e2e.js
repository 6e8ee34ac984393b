// Money in Chromium against a real `streamdesk serve`: the generator writes USD, EUR, GBP, CAD
// and AUD; Recent orders shows every amount in the reporting currency (the amount as sent beneath
// it) and a per-currency breakdown whose rows add up to the Revenue card; the exchange rates are
// edited in the drawer, a rate removed there is gone from the settings file, and a rate for the
// reporting currency other than 1 is refused next to the field.

import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { eventually, launchBrowser, openTab, parseShownNumber, startServe, textOf } from './helpers.js'

let server
let browser
let page

before(async () => {
  server = await startServe({ name: 'money', settings: { generator: { ratePerSecond: 40, seed: 4 } }, args: ['--start'] })
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

test('Recent orders: amounts in USD, the amount as sent beneath; the currency rows add up to the revenue', async () => {
  await openTab(page, 'orders')
  const rows = page.getByTestId('currency-row')
  await eventually(async () => (await rows.count()) >= 3, { message: 'orders in at least three currencies' })
  // the engine may refresh the snapshot between reads: stop first, so the figures hold still
  await page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
    message: 'the pipeline to stop'
  })
  await eventually(
    async () => {
      const inUsd = []
      for (const row of await rows.all()) inUsd.push(parseShownNumber((await row.locator('td').nth(2).textContent()) ?? ''))
      const revenue = parseShownNumber(await textOf(page.getByTestId('summary-revenue')))
      return Math.abs(inUsd.reduce((a, b) => a + b, 0) - revenue) < 0.011 * inUsd.length
    },
    { message: 'the currency rows to add up to the revenue card' }
  )
  const usd = page.locator('[data-testid="currency-row"][data-currency="USD"]')
  assert.match(await textOf(usd), /reporting/)
  const eur = page.locator('[data-testid="currency-row"][data-currency="EUR"]')
  if ((await eur.count()) === 1) assert.match(await textOf(eur), /× 1\.08/)
  // an order sent in another currency shows both amounts
  const converted = page.locator('[data-testid="order-row"] .money', { has: page.locator('.money-sent') }).first()
  await converted.waitFor()
  assert.match(await textOf(converted.locator('.money-sent')), /^(€|£|CA\$|A\$)/)
  assert.match(await textOf(converted), /^\$[\d,.]+(€|£|CA\$|A\$)/)
})

test('Exchange rates in the drawer: saved whole (a removed rate is gone), the reporting currency only at 1', async () => {
  await page.getByTestId('open-settings').click()
  await page.getByTestId('settings-drawer').waitFor({ state: 'visible' })
  const rates = page.getByTestId('setting-reporting.fxRates')
  await rates.waitFor({ state: 'visible' })
  assert.equal(await rates.inputValue(), 'AUD 0.66, CAD 0.73, EUR 1.08, GBP 1.27')
  await rates.fill('EUR 1.1, GBP 1.25')
  await page.getByTestId('settings-save').click()
  await page.getByTestId('settings-saved').waitFor({ state: 'visible' })
  const saved = JSON.parse(readFileSync(server.settingsFile, 'utf8'))
  assert.deepEqual(saved.reporting.fxRates, { EUR: 1.1, GBP: 1.25 })

  await page.getByTestId('setting-reporting.currency').selectOption('EUR')
  const error = page.getByTestId('setting-error-reporting.fxRates')
  await error.waitFor({ state: 'visible' })
  assert.equal(await textOf(error), 'EUR is the reporting currency: its rate is 1 (got 1.1)')
  assert.equal(await page.getByTestId('settings-save').isEnabled(), false)
  await page.getByTestId('settings-reset').click()
  await page.getByTestId('settings-close').click()
})
