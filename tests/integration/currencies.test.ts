import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseGenerateOptions, runGenerate } from '../../src/main/cli/commands/generate'
import { openLake } from '../../src/main/lake/lake'
import { dashboard } from '../../src/main/lake/queries'
import { CliError } from '../../src/main/cli/errors'
import { DEFAULT_FX_RATES, parseSettings } from '../../src/shared/settings'
import { spawnCli } from '../support/kafka-processes'
import {
  cleanupTempDirs,
  customer,
  makeWorkspace,
  order,
  queries,
  query,
  runPipeline,
  ts,
  writeLines
} from '../support/lake-fixtures'

// Issue 10, defect 2: revenue added currencies together. Every order now keeps its amount and
// currency as sent, with the rate used and the amount in the reporting currency, which is what
// windows, KPIs, summaries and the fraud amount rules add up and compare.

afterAll(cleanupTempDirs)

const item = (unit_price: number, quantity = 1) => ({ product_id: 'p', product_name: 'Thing', category: 'Home', quantity, unit_price })

describe('money in one reporting currency', () => {
  it('EUR, GBP and USD orders in one minute: the window revenue is the sum of the converted amounts', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('mix.jsonl'), [
      order({ order_id: 'eur', currency: 'EUR', total_amount: 100, order_ts: ts(1000) }),
      order({ order_id: 'gbp', currency: 'gbp', items: [item(33.33, 3)], order_ts: ts(2000) }),
      order({ order_id: 'usd', currency: 'USD', total_amount: 50.25, order_ts: ts(3000) }),
      // not in revenue, still converted
      order({ order_id: 'eur-refunded', currency: 'EUR', total_amount: 1000, status: 'refunded', order_ts: ts(4000) })
    ])
    await runPipeline(ws)
    const r = await queries(ws.lake, {
      silver: `SELECT order_id, currency, total_amount::DOUBLE AS amount, fx_rate, reporting_currency,
        reporting_amount::DOUBLE AS reporting_amount, reporting_cents FROM silver_orders ORDER BY order_id`,
      window: `SELECT orders, revenue_orders, revenue::DOUBLE AS revenue, avg_order_value::DOUBLE AS aov FROM order_windows`,
      bySql: `SELECT (sum(round(total_cents * fx_rate)) FILTER (WHERE status NOT IN ('cancelled', 'refunded')) / 100)::DOUBLE AS converted FROM silver_orders`
    })
    expect(r.silver).toEqual([
      { order_id: 'eur', currency: 'EUR', amount: 100, fx_rate: 1.08, reporting_currency: 'USD', reporting_amount: 108, reporting_cents: 10800 },
      { order_id: 'eur-refunded', currency: 'EUR', amount: 1000, fx_rate: 1.08, reporting_currency: 'USD', reporting_amount: 1080, reporting_cents: 108000 },
      // 99.99 GBP × 1.27 = 126.9873 → 126.99
      { order_id: 'gbp', currency: 'GBP', amount: 99.99, fx_rate: 1.27, reporting_currency: 'USD', reporting_amount: 126.99, reporting_cents: 12699 },
      { order_id: 'usd', currency: 'USD', amount: 50.25, fx_rate: 1, reporting_currency: 'USD', reporting_amount: 50.25, reporting_cents: 5025 }
    ])
    expect(r.window).toEqual([{ orders: 4, revenue_orders: 3, revenue: 108 + 126.99 + 50.25, aov: 95.08 }])
    expect(r.bySql).toEqual([{ converted: r.window[0].revenue }])

    // the dashboard reads the same: the KPIs' revenue and the Recent orders summary, per currency
    const lake = await openLake(ws.lake, { create: false })
    try {
      const snap = await dashboard(lake.reader, 1)
      expect(snap.currency).toBe('USD')
      expect(snap.summary).toEqual({ orders: 4, revenue: 285.24, avgOrderValue: 95.08 })
      expect(snap.currencies).toEqual([
        { currency: 'GBP', orders: 1, revenueOrders: 1, amount: 99.99, reportingAmount: 126.99, minRate: 1.27, maxRate: 1.27 },
        { currency: 'EUR', orders: 2, revenueOrders: 1, amount: 100, reportingAmount: 108, minRate: 1.08, maxRate: 1.08 },
        { currency: 'USD', orders: 1, revenueOrders: 1, amount: 50.25, reportingAmount: 50.25, minRate: 1, maxRate: 1 }
      ])
      expect(snap.recentOrders.find((o) => o.orderId === 'gbp')).toMatchObject({ amount: 99.99, currency: 'GBP', reportingAmount: 126.99, reportingCurrency: 'USD', fxRate: 1.27 })
    } finally {
      await lake.close()
    }
  })

  it('a 4,100 GBP order at 1.27 fires "amount > 5000" in USD; at 1.20 it is over 3000', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('a.jsonl'), [order({ order_id: 'gbp-4100', currency: 'GBP', total_amount: 4100 })])
    await runPipeline(ws, { baseSettings: parseSettings({ reporting: { fxRates: { GBP: 1.27 } } }) })
    expect(
      await query(ws.lake, `SELECT fraud_score, fraud_reasons, reporting_amount::DOUBLE AS usd, total_amount::DOUBLE AS gbp FROM fraud_alerts`)
    ).toEqual([{ fraud_score: 4, fraud_reasons: ['amount 5,207 > 5,000: +4'], usd: 5207, gbp: 4100 }])

    const cheaper = makeWorkspace()
    writeLines(cheaper.orders('a.jsonl'), [order({ order_id: 'gbp-4100', currency: 'GBP', total_amount: 4100 })])
    await runPipeline(cheaper, { baseSettings: parseSettings({ reporting: { fxRates: { GBP: 1.2 } } }) })
    expect(await query(cheaper.lake, `SELECT fraud_score, fraud_reasons, reporting_amount::DOUBLE AS usd FROM silver_orders`)).toEqual([
      { fraud_score: 3, fraud_reasons: ['amount 4,920 > 3,000 and amount 4,920 <= 5,000: +3'], usd: 4920 }
    ])
  })

  it('the new-account rule compares the converted amount too', async () => {
    const ws = makeWorkspace()
    writeLines(ws.customers('c.jsonl'), [customer({ customer_id: 'fresh', signup_ts: ts(-3600_000) })])
    // 800 GBP is 1,016 USD: over the 1,000 of the rule; 900 AUD is 594 USD: under it
    writeLines(ws.orders('o.jsonl'), [
      order({ order_id: 'gbp-800', customer_id: 'fresh', currency: 'GBP', total_amount: 800 }),
      order({ order_id: 'aud-900', customer_id: 'fresh', currency: 'AUD', total_amount: 900, order_ts: ts(1000) })
    ])
    await runPipeline(ws)
    expect(await query(ws.lake, `SELECT order_id, fraud_reasons FROM silver_orders ORDER BY order_id`)).toEqual([
      { order_id: 'aud-900', fraud_reasons: [] },
      { order_id: 'gbp-800', fraud_reasons: ['account_age_hours 1 < 24 and amount 1,016 > 1,000: +2'] }
    ])
  })

  it('quarantines a currency without a rate, naming it; a rate added later applies to new batches only', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('1.jsonl'), [
      order({ order_id: 'sek-1', currency: 'SEK', total_amount: 500 }),
      order({ order_id: 'eur-1', currency: 'EUR', total_amount: 10 })
    ])
    await runPipeline(ws)
    expect(await query(ws.lake, `SELECT reason FROM quarantine`)).toEqual([{ reason: 'no exchange rate for SEK: add one to reporting.fxRates (USD per SEK)' }])

    writeLines(ws.orders('2.jsonl'), [
      order({ order_id: 'sek-2', currency: 'SEK', total_amount: 500, order_ts: ts(1000) }),
      order({ order_id: 'eur-2', currency: 'EUR', total_amount: 10, order_ts: ts(2000) })
    ])
    await runPipeline(ws, { baseSettings: parseSettings({ reporting: { fxRates: { SEK: 0.095, EUR: 1.1 } } }) })
    expect(
      await query(ws.lake, `SELECT order_id, batch_id, fx_rate, reporting_amount::DOUBLE AS usd FROM silver_orders ORDER BY order_id`)
    ).toEqual([
      { order_id: 'eur-1', batch_id: 1, fx_rate: 1.08, usd: 10.8 },
      { order_id: 'eur-2', batch_id: 2, fx_rate: 1.1, usd: 11 },
      { order_id: 'sek-2', batch_id: 2, fx_rate: 0.095, usd: 47.5 }
    ])
    // the window holds both rates' amounts, each as its batch converted it
    expect(await query(ws.lake, `SELECT revenue::DOUBLE AS revenue FROM order_windows`)).toEqual([{ revenue: 10.8 + 11 + 47.5 }])
  })

  it('quarantines codes that are not ISO 4217 currencies or ISO 3166-1 alpha-2 countries', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('o.jsonl'), [
      order({ order_id: 'cur-xyz', currency: 'XYZ' }),
      order({ order_id: 'ship-zz', shipping_country: 'ZZ' }),
      order({ order_id: 'bill-uk', billing_country: 'uk' }),
      order({ order_id: 'ok-gb', shipping_country: 'gb', billing_country: 'GB' })
    ])
    writeLines(ws.customers('c.jsonl'), [customer({ customer_id: 'c-xk', country: 'XK' }), customer({ customer_id: 'c-se', country: 'se' })])
    await runPipeline(ws)
    const r = await queries(ws.lake, {
      silver: `SELECT order_id, shipping_country, billing_country FROM silver_orders`,
      customers: `SELECT customer_id, country FROM customers`,
      quarantine: `SELECT kind, reason FROM quarantine ORDER BY reason`
    })
    expect(r.silver).toEqual([{ order_id: 'ok-gb', shipping_country: 'GB', billing_country: 'GB' }])
    expect(r.customers).toEqual([{ customer_id: 'c-se', country: 'SE' }])
    expect(r.quarantine).toEqual([
      { kind: 'order', reason: 'billing_country uk is not an ISO 3166-1 alpha-2 country code' },
      { kind: 'customer', reason: 'country XK is not an ISO 3166-1 alpha-2 country code' },
      { kind: 'order', reason: 'currency XYZ is not an ISO 4217 currency code' },
      { kind: 'order', reason: 'shipping_country ZZ is not an ISO 3166-1 alpha-2 country code' }
    ])
  })

  it('reports in the currency the settings name, and a lake keeps the currency its orders were converted to', async () => {
    const ws = makeWorkspace()
    const eur = parseSettings({ reporting: { currency: 'EUR', fxRates: { USD: 0.92, GBP: 1.18 } } })
    writeLines(ws.orders('1.jsonl'), [
      order({ order_id: 'usd', currency: 'USD', total_amount: 100 }),
      order({ order_id: 'eur', currency: 'EUR', total_amount: 100 }),
      order({ order_id: 'aud', currency: 'AUD', total_amount: 100 })
    ])
    await runPipeline(ws, { baseSettings: eur })
    const r = await queries(ws.lake, {
      silver: `SELECT order_id, fx_rate, reporting_currency, reporting_amount::DOUBLE AS amount FROM silver_orders ORDER BY order_id`,
      meta: `SELECT value FROM lake_meta WHERE key = 'reporting_currency'`,
      quarantine: `SELECT reason FROM quarantine`
    })
    expect(r.silver).toEqual([
      { order_id: 'eur', fx_rate: 1, reporting_currency: 'EUR', amount: 100 },
      { order_id: 'usd', fx_rate: 0.92, reporting_currency: 'EUR', amount: 92 }
    ])
    expect(r.meta).toEqual([{ value: 'EUR' }])
    expect(r.quarantine).toEqual([{ reason: 'no exchange rate for AUD: add one to reporting.fxRates (EUR per AUD)' }])

    writeLines(ws.orders('2.jsonl'), [order({ order_id: 'later', total_amount: 1 })])
    const err = await runPipeline(ws).then(
      () => null,
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(CliError)
    expect((err as CliError).exitCode).toBe(2)
    expect((err as Error).message).toMatch(
      /holds orders converted to EUR; it cannot add orders converted to USD\. Set the reporting currency back to EUR, or choose a new lake folder to report in USD/
    )
    expect(await query(ws.lake, `SELECT count(*) AS n FROM silver_orders`)).toEqual([{ n: 2 }])
  })
})

describe('--settings FILE on the command line', () => {
  it('`pipeline --settings` converts with the rates of the file; a file with a bad rate exits 2 naming the field', async () => {
    const ws = makeWorkspace()
    const file = join(ws.root, 'settings.json')
    writeFileSync(file, JSON.stringify({ lakePath: ws.lake, reporting: { fxRates: { GBP: 2 } } }))
    writeLines(ws.orders('a.jsonl'), [order({ order_id: 'gbp', currency: 'GBP', total_amount: 10 })])
    // no --lake: the file's lakePath
    const ok = spawnCli(['pipeline', '--input-path', ws.input, '--settings', file, '--until-idle', '--quiet'])
    expect((await ok.exited).code, ok.stderr()).toBe(0)
    expect(await query(ws.lake, `SELECT fx_rate, reporting_amount::DOUBLE AS usd FROM silver_orders`)).toEqual([{ fx_rate: 2, usd: 20 }])

    const bad = join(ws.root, 'bad.json')
    writeFileSync(bad, JSON.stringify({ reporting: { fxRates: { GBP: -1, XYZ: 2 } } }))
    const refused = spawnCli(['pipeline', '--input-path', ws.input, '--lake', ws.lake, '--settings', bad, '--until-idle'])
    expect((await refused.exited).code).toBe(2)
    expect(refused.stderr()).toMatch(/settings file .*bad\.json: .*reporting\.fxRates\.GBP: must be more than 0/)
    expect(refused.stderr()).toMatch(/reporting\.fxRates\.XYZ: is not an ISO 4217 currency code/)
  })
})

describe("the generator's output with the default settings", () => {
  it('is entirely valid: nothing quarantined, every currency it writes has a default rate', async () => {
    const ws = makeWorkspace()
    await runGenerate(parseGenerateOptions({ output: ws.input, rate: 'max', count: '3000', seed: '12', quiet: true, fraudRate: '0.1' }), {
      log: () => undefined
    })
    await runPipeline(ws)
    const r = await queries(ws.lake, {
      counts: `SELECT (SELECT count(*) FROM bronze_orders) AS orders, (SELECT count(*) FROM silver_orders) AS silver,
        (SELECT count(*) FROM quarantine) AS quarantined, (SELECT count(*) FROM bronze_customers) AS customer_lines,
        (SELECT count(*) FROM customers) AS customers`,
      currencies: `SELECT DISTINCT currency FROM silver_orders ORDER BY 1`
    })
    expect(r.counts).toEqual([{ orders: 3000, silver: 3000, quarantined: 0, customer_lines: r.counts[0].customers, customers: r.counts[0].customers }])
    expect(r.currencies.map((c) => c.currency)).toEqual(['AUD', 'CAD', 'EUR', 'GBP', 'USD'])
    expect(Object.keys(DEFAULT_FX_RATES).sort()).toEqual(['AUD', 'CAD', 'EUR', 'GBP'])
  })
})
