// Money in Chromium against a real `streamdesk serve`: the generator writes USD, EUR, GBP, CAD
// and AUD; Recent orders shows every amount in the reporting currency (the amount as sent beneath
// it) and a per-currency breakdown whose rows add up to the Revenue card; the exchange rates are
// edited in the drawer, a rate removed there is gone from the settings file, and a rate for the
// reporting currency other than 1 is refused next to the field.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, test } from 'node:test'
import { eventually, openTab, parseShownNumber, servedSession, textOf } from './helpers.js'

const session = servedSession({ name: 'money', settings: { generator: { ratePerSecond: 40, seed: 4 } }, args: ['--start'] })

after(() => {
  assert.deepEqual(session.browser?.problems ?? [], [])
})

test('Recent orders: amounts in USD, the amount as sent beneath; the currency rows add up to the revenue', async () => {
  await openTab(session.page, 'orders')
  const rows = session.page.getByTestId('currency-row')
  await eventually(async () => (await rows.count()) >= 3, { message: 'orders in at least three currencies' })
  // the engine may refresh the snapshot between reads: stop first, so the figures hold still
  await session.page.getByTestId('pipeline-stop').click()
  await eventually(async () => (await session.page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
    message: 'the pipeline to stop'
  })
  await eventually(
    async () => {
      const inUsd = []
      for (const row of await rows.all()) inUsd.push(parseShownNumber((await row.locator('td').nth(2).textContent()) ?? ''))
      const revenue = parseShownNumber(await textOf(session.page.getByTestId('summary-revenue')))
      return Math.abs(inUsd.reduce((a, b) => a + b, 0) - revenue) < 0.011 * inUsd.length
    },
    { message: 'the currency rows to add up to the revenue card' }
  )
  const usd = session.page.locator('[data-testid="currency-row"][data-currency="USD"]')
  assert.match(await textOf(usd), /reporting/)
  const eur = session.page.locator('[data-testid="currency-row"][data-currency="EUR"]')
  if ((await eur.count()) === 1) assert.match(await textOf(eur), /× 1\.08/)
  // an order sent in another currency shows both amounts
  const converted = session.page.locator('[data-testid="order-row"] .money', { has: session.page.locator('.money-sent') }).first()
  await converted.waitFor()
  assert.match(await textOf(converted.locator('.money-sent')), /^(€|£|CA\$|A\$)/)
  assert.match(await textOf(converted), /^\$[\d,.]+(€|£|CA\$|A\$)/)
})

test('Exchange rates in the drawer: saved whole (a removed rate is gone), the reporting currency only at 1', async () => {
  await session.page.getByTestId('open-settings').click()
  await session.page.getByTestId('settings-drawer').waitFor({ state: 'visible' })
  const rates = session.page.getByTestId('setting-reporting.fxRates')
  await rates.waitFor({ state: 'visible' })
  assert.equal(await rates.inputValue(), 'AUD 0.66, CAD 0.73, EUR 1.08, GBP 1.27')
  await rates.fill('EUR 1.1, GBP 1.25')
  await session.page.getByTestId('settings-save').click()
  await session.page.getByTestId('settings-saved').waitFor({ state: 'visible' })
  const saved = JSON.parse(readFileSync(session.server.settingsFile, 'utf8'))
  assert.deepEqual(saved.reporting.fxRates, { EUR: 1.1, GBP: 1.25 })

  await session.page.getByTestId('setting-reporting.currency').selectOption('EUR')
  const error = session.page.getByTestId('setting-error-reporting.fxRates')
  await error.waitFor({ state: 'visible' })
  assert.equal(await textOf(error), 'EUR is the reporting currency: its rate is 1 (got 1.1)')
  assert.equal(await session.page.getByTestId('settings-save').isEnabled(), false)
  await session.page.getByTestId('settings-reset').click()
  await session.page.getByTestId('settings-close').click()
})
