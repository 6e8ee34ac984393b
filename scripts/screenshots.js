#!/usr/bin/env node
// Screenshots of the dashboard for the README, taken from the real thing: `streamdesk serve` in a
// temp folder, the built-in generator at ~50 orders/s with 8 % fraud, Debian's Chromium at
// 1280×800 (playwright-core; no browser download).
//
//   node scripts/screenshots.js [outDir=docs/screenshots]      (after `npm run build`)
//
// Writes metrics.png, fraud.png, orders.png, pipeline-stats.png (the Pipeline tab's top),
// pipeline.png (its batches and quarantine), settings.png (drawer open),
// sql.png (a query charted), rules.png (the default ruleset backtested), export.png (dialog with
// a finished export) and metrics-dark.png (prefers-color-scheme: dark).
//
// Windows are one minute long, so half a minute of live data draws a single point. To show what
// the charts look like after a while, the input folder is first filled with BACKFILL_MINUTES of
// history made by the generator's own EventFactory with a clock set in the past (well inside the
// 10-minute watermark, so none of it is late); the pipeline ingests that backlog in its first
// batch and then follows the live generator for RUN_SECONDS. A few bad lines are dropped in on
// the way so the quarantine browser has something to show.

import { mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  craftedOrder,
  eventually,
  launchBrowser,
  openTab,
  parseShownNumber,
  ROOT,
  sleep,
  startServe,
  textOf,
  writeAtomically
} from '../tests/e2e/helpers.js'

const outDir = resolve(process.argv[2] ?? join(ROOT, 'docs', 'screenshots'))
const RUN_SECONDS = Number(process.env.STREAMDESK_SCREENSHOT_SECONDS ?? 25)
const BACKFILL_MINUTES = Number(process.env.STREAMDESK_SCREENSHOT_BACKFILL_MINUTES ?? 8)
const RATE = 50
const FRAUD_RATE = 0.08

const log = (msg) => console.error(`screenshots: ${msg}`)

/** BACKFILL_MINUTES of generator history ending now, one orders (+ customers) file per minute. */
async function backfill(input) {
  if (!(BACKFILL_MINUTES > 0)) return 0
  const { tsImport } = await import('tsx/esm/api')
  const { EventFactory } = await tsImport(join(ROOT, 'src', 'main', 'generator', 'event-factory.ts'), import.meta.url)
  const end = Date.now()
  let clock = end - BACKFILL_MINUTES * 60_000
  // No late orders in the history: the first batch has no watermark yet, so they would land in
  // windows 11-30 minutes back and stretch the time axes.
  const factory = new EventFactory({ seed: 20261124, fraudRate: FRAUD_RATE, lateRate: 0, now: () => clock })
  let orders = 0
  for (let minute = 0; clock < end; minute++) {
    const batch = { orders: [], customers: [] }
    const minuteEnd = Math.min(end, clock + 60_000)
    while (clock < minuteEnd) {
      factory.next(batch)
      // A rate that drifts between ~30 and ~60 orders/s, like a real day does.
      const t = (clock - end) / 60_000
      const rate = RATE * (0.9 + 0.25 * Math.sin(t * 1.3) + 0.1 * Math.sin(t * 4.1))
      clock += 1000 / rate
    }
    const stamp = String(minute).padStart(3, '0')
    const ndjson = (rows) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n'
    if (batch.customers.length) writeAtomically(join(input, 'customers'), `customers-backfill-${stamp}.jsonl`, ndjson(batch.customers))
    writeAtomically(join(input, 'orders'), `orders-backfill-${stamp}.jsonl`, ndjson(batch.orders))
    orders += batch.orders.length
  }
  return orders
}

async function main() {
  mkdirSync(outDir, { recursive: true })
  const server = await startServe({
    name: 'screenshots',
    relativePaths: true,
    settings: {
      generator: { enabled: true, pace: 'rate', ratePerSecond: RATE, fraudRate: FRAUD_RATE },
      pipeline: { triggerMs: 500 }
    }
  })
  log(`serving at ${server.url} (temp folder ${server.dir})`)
  const browser = await launchBrowser()
  const { page } = browser
  try {
    const history = await backfill(server.input)
    if (history) log(`backfilled ${history} orders over the last ${BACKFILL_MINUTES} minutes`)

    await page.goto(server.url)
    const start = page.getByTestId('pipeline-start')
    await eventually(() => start.isEnabled(), { message: 'the Start button' })
    await start.click()
    await eventually(async () => (await page.getByTestId('pipeline-state').getAttribute('data-state')) === 'running', {
      message: 'the pipeline to run'
    })
    const startedAt = Date.now()
    // The backlog is one big first batch. Its alerts reach an open page only as the 50 top-scored
    // ones (alerts.new), which would make the alerts timeline a lopsided sample; a page opened
    // after it, as most people would, starts from the latest alerts instead.
    await eventually(async () => parseShownNumber(await textOf(page.getByTestId('counter-orders'))) >= history, {
      timeout: 60_000,
      message: 'the backlog to be ingested'
    })
    await page.reload()
    await eventually(async () => (await page.getByTestId('pipeline-state').getAttribute('data-state')) === 'running', {
      message: 'the reloaded page'
    })
    log(`pipeline running; letting live data accumulate for ${RUN_SECONDS} s`)

    // Halfway through: a couple of lines the pipeline has to quarantine.
    await sleep((RUN_SECONDS * 1000) / 2)
    const badTotal = craftedOrder({ orderId: 'ord_partner_0002', customerId: 'cus_partner_17' })
    badTotal.total_amount = 99.99 // its items add up to 7,500.00
    writeAtomically(
      join(server.input, 'orders'),
      'orders-partner-feed.jsonl',
      '{"order_id": "ord_partner_0001", "customer_id": "cus_partner_17", "status": "paid", "total_amount": 12.5,\n' +
        JSON.stringify(badTotal) +
        '\n'
    )
    writeAtomically(join(server.input, 'customers'), 'customers-crm-export.jsonl', 'customer_id,name,email,signup_ts\n')

    const rest = RUN_SECONDS * 1000 - (Date.now() - startedAt)
    if (rest > 0) await sleep(rest)
    await eventually(async () => parseShownNumber(await textOf(page.getByTestId('counter-orders'))) > history, {
      message: 'the backlog and live orders in the counter'
    })

    const toast = page.getByTestId('alert-toast')
    const shot = async (name, { withoutToast = false } = {}) => {
      // Let charts finish their update animation.
      await sleep(1200)
      // New alerts keep arriving (and the toast with them): dismiss it, shoot, and shoot again
      // if one popped up meanwhile.
      for (let attempt = 0; ; attempt++) {
        if (withoutToast && (await toast.count())) await toast.getByRole('button', { name: 'Dismiss' }).click()
        await page.screenshot({ path: join(outDir, name) })
        if (!withoutToast || (await toast.count()) === 0 || attempt >= 10) break
      }
      log(`wrote ${join(outDir, name)}`)
    }

    await openTab(page, 'metrics')
    await page.getByTestId('kpi-revenue-value').waitFor({ state: 'visible' })
    await shot('metrics.png')

    await openTab(page, 'fraud')
    await page.getByTestId('alert-row').first().waitFor({ state: 'visible' })
    await shot('fraud.png')

    await openTab(page, 'orders')
    await page.getByTestId('order-row').first().waitFor({ state: 'visible' })
    await shot('orders.png', { withoutToast: true })

    await openTab(page, 'pipeline')
    await page.getByTestId('batch-row').first().waitFor({ state: 'visible' })
    await page.getByTestId('quarantine-refresh').click()
    await page.getByTestId('quarantine-row').first().waitFor({ state: 'visible', timeout: 20_000 })
    // The top: what the input is doing, the counters with their definitions, the charts.
    await page.getByTestId('batches-card').evaluate((el) => {
      el.closest('.content').scrollTop = 0
    })
    await shot('pipeline-stats.png', { withoutToast: true })
    // Batch history and the quarantine browser together; the stats and charts are above.
    await page.getByTestId('batches-card').evaluate((el) => {
      const content = el.closest('.content')
      content.scrollTop += el.getBoundingClientRect().top - content.getBoundingClientRect().top - 16
    })
    await shot('pipeline.png', { withoutToast: true })

    await openTab(page, 'sql')
    await page.locator('.cm-content').click()
    await page.keyboard.press('ControlOrMeta+A')
    await page.keyboard.insertText(
      "SELECT time_bucket(INTERVAL 1 MINUTE, order_ts) AS minute,\n  count(*) FILTER (WHERE fraud_score >= 3) AS alerts\nFROM silver_orders\nWHERE order_ts > now() - INTERVAL 15 MINUTE\nGROUP BY ALL ORDER BY minute"
    )
    await page.keyboard.press('Escape') // the completion list typing opened
    await page.getByTestId('sql-run').click()
    await page.getByTestId('sql-result').waitFor({ state: 'visible' })
    await page.getByTestId('sql-chart-bar').click()
    await page.getByTestId('sql-chart').locator('canvas').first().waitFor({ state: 'visible' })
    await shot('sql.png', { withoutToast: true })

    await openTab(page, 'rules')
    await page.getByTestId('rules-text').waitFor({ state: 'visible' })
    await page.getByTestId('backtest-run').click()
    await page.getByTestId('backtest-report').waitFor({ state: 'visible', timeout: 30_000 })
    await shot('rules.png', { withoutToast: true })

    await openTab(page, 'metrics')
    await page.getByTestId('open-settings').click()
    await page.getByTestId('setting-pipeline.triggerMs').waitFor({ state: 'visible' })
    await shot('settings.png')
    await page.getByTestId('settings-close').click()

    await page.getByTestId('open-export').click()
    await page.getByTestId('export-dir').fill('exports/snapshot')
    await page.getByTestId('export-format-parquet').click()
    await page.getByTestId('export-run').click()
    await page.getByTestId('export-result').waitFor({ state: 'visible', timeout: 30_000 })
    await shot('export.png')
    await page.getByTestId('export-close').click()

    await page.emulateMedia({ colorScheme: 'dark' })
    await eventually(async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === 'dark', {
      message: 'the dark theme'
    })
    await shot('metrics-dark.png')

    if (browser.problems.length > 0) log(`the page reported:\n  ${browser.problems.join('\n  ')}`)
  } finally {
    await browser.close()
    await server.stop()
    rmSync(server.dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(`screenshots: failed: ${err instanceof Error ? err.message : err}`)
  process.exit(1)
})
