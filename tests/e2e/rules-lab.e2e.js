// The rule lab as an analyst uses it, in Chromium against a real `streamdesk serve` reading a
// folder: edit a rule (a mistake is shown with its position), backtest it, open a sample order
// from the backtest in Recent orders, promote it, see the next batch scored by the new version in
// the Fraud tab, label that alert, roll back, run a shadow; make a list and backtest a rule
// naming it.
//
// The tests in this file run in order and share one server and one browser page.

import assert from 'node:assert/strict'
import { join } from 'node:path'
import { before, test } from 'node:test'
import { api, craftedOrder, eventually, openTab, servedSession, textOf, writeAtomically } from './helpers.js'

const RUN = Date.now().toString(36)
const GIFT_BEFORE = `ord_e2e_gift_a_${RUN}`
const GIFT_AFTER = `ord_e2e_gift_b_${RUN}`
const PLAIN = `ord_e2e_plain_${RUN}`

/** A paid order of one item at `price`, paid with `payment`, an hour apart per `hour`. */
function orderLine(orderId, price, payment, hour) {
  const o = craftedOrder({
    orderId,
    customerId: `cus_${orderId}`,
    ts: new Date(Date.now() - (6 - hour) * 3600_000),
    items: [{ product_id: 'P1', product_name: 'Gift', category: 'Gifts', quantity: 1, unit_price: price }]
  })
  return JSON.stringify({ ...o, payment_method: payment, billing_country: o.shipping_country }) + '\n'
}

const withGiftCards = (base) => ({
  ...base,
  rules: [...base.rules, { id: 'gift_card', description: 'gift-card order over 500', when: "payment_method = 'gift_card' and amount > 500", points: 3 }]
})

const session = servedSession({
  name: 'rules-lab',
  settings: ({ input }) => ({ source: { kind: 'folder', inputPath: input }, pipeline: { triggerMs: 200 } }),
  afterStart: (server) => {
    writeAtomically(join(server.input, 'orders'), `orders-e2e-1-${RUN}.jsonl`, orderLine(GIFT_BEFORE, 800, 'gift_card', 1) + orderLine(PLAIN, 800, 'credit_card', 2))
  }
})

before(async () => {
  await eventually(() => session.page.getByTestId('pipeline-start').isEnabled(), { message: 'the Start button to be enabled' })
  await session.page.getByTestId('pipeline-start').click()
  await eventually(async () => (await api(session.server.url, 'pipeline.status')).totals.orders === 2, { message: 'the first two orders in the lake' })
})

test('1. the Rules tab shows version 1 in the editor, and a mistake with its line and column', async () => {
  await openTab(session.page, 'rules')
  const editor = session.page.getByTestId('rules-text')
  await eventually(async () => (await editor.inputValue()).includes('amount_over_5000'), { message: 'the active ruleset in the editor' })
  await eventually(async () => (await session.page.getByTestId('rules-version').count()) === 1, { message: 'version 1 in the versions list' })
  const v1 = JSON.parse(await editor.inputValue())
  await editor.fill(JSON.stringify({ ...v1, rules: [...v1.rules, { id: 'oops', when: 'amount >', points: 1 }] }, null, 2))
  const issues = session.page.getByTestId('rules-issues')
  await eventually(async () => /rules\[7\]\.when \(oops\): line 1, column 9/.test(await textOf(issues)), { message: 'the issue with its position' })
  assert.equal(await session.page.getByTestId('promote-run').isEnabled(), false, 'a ruleset that does not check cannot be promoted')
})

test('2. a new rule backtests to the one gift-card order it would add', async () => {
  const v1 = (await api(session.server.url, 'rules.active')).ruleset
  await session.page.getByTestId('rules-text').fill(JSON.stringify(withGiftCards(v1), null, 2))
  await session.page.getByTestId('rules-ok').waitFor({ state: 'visible' })
  await session.page.getByTestId('backtest-run').click()
  const row = session.page.locator('[data-testid="backtest-rule"][data-rule-id="gift_card"]')
  await eventually(async () => (await row.count()) === 1, { message: 'the gift_card row of the backtest' })
  assert.equal(await textOf(row.getByTestId('rule-matched')), '1')
  assert.equal(await textOf(session.page.getByTestId('backtest-gained')), '1')
  assert.equal(await textOf(session.page.getByTestId('backtest-lost')), '0')
  assert.match(await textOf(session.page.getByTestId('backtest-gained-sample')), new RegExp(GIFT_BEFORE))
})

test('2b. a sample order id of the backtest opens Recent orders filtered to that order', async () => {
  await session.page.getByTestId('backtest-gained-sample').getByText(GIFT_BEFORE, { exact: true }).click()
  await session.page.getByTestId('panel-orders').waitFor({ state: 'visible' })
  const rows = session.page.getByTestId('order-row')
  await eventually(async () => (await rows.count()) === 1 && (await rows.first().getAttribute('data-order-id')) === GIFT_BEFORE, { message: `only ${GIFT_BEFORE} in Recent orders` })
  assert.equal(await session.page.getByTestId('filter-order').inputValue(), GIFT_BEFORE)
  await openTab(session.page, 'rules')
  await session.page.getByTestId('backtest-report').waitFor({ state: 'visible' })
})

test('3. promoted, it scores the next batch: the new gift-card order is an alert that says why', async () => {
  await session.page.getByTestId('promote-note').fill('gift cards')
  await session.page.getByTestId('promote-run').click()
  await eventually(async () => /version 2 is active/.test(await textOf(session.page.getByTestId('rules-notice'))), { message: 'the promote notice' })
  assert.equal(await session.page.getByTestId('rules-version').count(), 2)

  writeAtomically(join(session.server.input, 'orders'), `orders-e2e-2-${RUN}.jsonl`, orderLine(GIFT_AFTER, 800, 'gift_card', 3))
  await openTab(session.page, 'fraud')
  const row = session.page.locator(`[data-testid="alert-row"][data-order-id="${GIFT_AFTER}"]`)
  await eventually(async () => (await row.count()) === 1, { message: `the alert row for ${GIFT_AFTER}` })
  assert.match(await textOf(row.locator('td.reasons')), /payment_method gift_card = 'gift_card' and amount 800 > 500: \+3/)
  // the order scored by version 1 stays as it was
  assert.equal(await session.page.locator(`[data-testid="alert-row"][data-order-id="${GIFT_BEFORE}"]`).count(), 0)
})

test('4. the analyst labels the alert fraud, and the label is in the lake', async () => {
  const row = session.page.locator(`[data-testid="alert-row"][data-order-id="${GIFT_AFTER}"]`)
  await row.getByTestId('label-fraud').click()
  await eventually(async () => (await row.getByTestId('label-fraud').getAttribute('aria-pressed')) === 'true', { message: 'the Fraud label pressed' })
  const labels = await api(session.server.url, 'labels.list', { orderIds: [GIFT_AFTER] })
  assert.deepEqual(labels.map((l) => [l.orderId, l.label]), [[GIFT_AFTER, 'fraud']])
})

test('5. rolling back promotes version 1 again, as version 3', async () => {
  await openTab(session.page, 'rules')
  await session.page.locator('[data-testid="rules-version"][data-version="1"]').getByTestId('rules-restore').click()
  await eventually(async () => /version 3 is active/.test(await textOf(session.page.getByTestId('rules-notice'))), { message: 'the rollback notice' })
  const active = await api(session.server.url, 'rules.active')
  assert.equal(active.version, 3)
  assert.equal(active.ruleset.rules.some((r) => r.id === 'gift_card'), false)
})

test('6. run as shadow: the next batch is scored beside the live version, shown side by side, then dropped', async () => {
  const live = (await api(session.server.url, 'rules.active')).ruleset
  await session.page.getByTestId('rules-text').fill(JSON.stringify(withGiftCards(live), null, 2))
  await session.page.getByTestId('rules-ok').waitFor({ state: 'visible' })
  await session.page.getByTestId('shadow-start').click()
  await eventually(async () => /shadow 1 scores the next batches/.test(await textOf(session.page.getByTestId('rules-notice'))), { message: 'the shadow notice' })
  const giftShadow = `ord_e2e_gift_c_${RUN}`
  writeAtomically(join(session.server.input, 'orders'), `orders-e2e-3-${RUN}.jsonl`, orderLine(giftShadow, 800, 'gift_card', 4))
  await eventually(async () => (await textOf(session.page.getByTestId('shadow-orders'))) === '1', { message: 'the shadow report to count the new order' })
  assert.equal(await textOf(session.page.getByTestId('shadow-alerts')), '1')
  assert.equal(await textOf(session.page.getByTestId('shadow-live')), '0')
  assert.match(await textOf(session.page.getByTestId('shadow-only-sample')), new RegExp(giftShadow))
  await session.page.getByTestId('shadow-drop').click()
  await eventually(async () => /shadow 1 dropped/.test(await textOf(session.page.getByTestId('rules-notice'))), { message: 'the drop notice' })
  assert.equal((await api(session.server.url, 'rules.active')).version, 3)
})

test('7. a list made in the app: a bad name is refused at its field, a file imported, and a rule naming it backtests against it', async () => {
  const live = (await api(session.server.url, 'rules.active')).ruleset
  const watched = { ...live, rules: [...live.rules, { id: 'watched', when: "customer_id in list('watch')", points: 10 }] }
  await session.page.getByTestId('rules-text').fill(JSON.stringify(watched, null, 2))
  await eventually(async () => /watch/.test(await textOf(session.page.getByTestId('rules-issues'))), { message: 'the unknown list among the issues' })

  await session.page.getByTestId('list-new').click()
  await session.page.locator('#list-name').fill('Watch')
  await session.page.getByTestId('list-import').setInputFiles({ name: 'watch.txt', mimeType: 'text/plain', buffer: Buffer.from(`# customers to watch\ncus_${PLAIN}\n`) })
  await eventually(async () => (await session.page.locator('#list-values').inputValue()) === `cus_${PLAIN}`, { message: 'the imported file in the values' })
  await session.page.getByTestId('list-save').click()
  await eventually(async () => /lower-case letter/.test(await textOf(session.page.getByTestId('list-name-error'))), { message: 'the name refused at its field' })
  await session.page.locator('#list-name').fill('watch')
  await session.page.getByTestId('list-save').click()
  await eventually(async () => /list watch saved: 1 value/.test(await textOf(session.page.getByTestId('lists-notice'))), { message: 'the saved notice' })
  assert.equal(await textOf(session.page.locator('[data-testid="list-row"][data-list="watch"]').getByTestId('list-count')), '1')
  assert.deepEqual(await api(session.server.url, 'lists.get'), [{ name: 'watch', description: '', values: [`cus_${PLAIN}`] }])

  // saving the list checks the candidate again: the list it names now exists
  await session.page.getByTestId('rules-ok').waitFor({ state: 'visible' })
  await session.page.getByTestId('backtest-run').click()
  const row = session.page.locator('[data-testid="backtest-rule"][data-rule-id="watched"]')
  await eventually(async () => (await row.count()) === 1, { message: 'the watched row of the backtest' })
  assert.equal(await textOf(row.getByTestId('rule-matched')), '1')
  assert.match(await textOf(session.page.getByTestId('backtest-gained-sample')), new RegExp(PLAIN))
})
