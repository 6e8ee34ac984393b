import type { Lake } from './lake'

// Every amount a lake sums (windows, KPIs, the fraud thresholds) is in one reporting currency,
// recorded in lake_meta.reporting_currency. A lake with orders keeps its currency: adding orders
// converted to another would sum two currencies again, the very mistake conversion removes. An
// empty lake takes the currency of the run that first writes it.

export class ReportingCurrencyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ReportingCurrencyError'
  }
}

/** The lake's reporting currency (null: none yet, e.g. a new lake before its first run). */
export async function lakeReportingCurrency(conn: Lake['reader']): Promise<string | null> {
  const r = await conn.runAndReadAll(`SELECT value FROM lake_meta WHERE key = 'reporting_currency'`)
  const v = r.getRows()[0]?.[0]
  return typeof v === 'string' ? v : null
}

/** Makes `currency` the lake's reporting currency, or refuses (ReportingCurrencyError) if it holds orders in another. */
export async function adoptReportingCurrency(lake: Lake, currency: string): Promise<void> {
  const current = await lakeReportingCurrency(lake.writer)
  if (current === currency) return
  const r = await lake.writer.runAndReadAll(`SELECT EXISTS (SELECT 1 FROM silver_orders)`)
  if (current !== null && r.getRows()[0][0] === true) {
    throw new ReportingCurrencyError(
      `the lake ${lake.file} holds orders converted to ${current}; it cannot add orders converted to ${currency}. ` +
        `Set the reporting currency back to ${current}, or choose a new lake folder to report in ${currency}`
    )
  }
  await lake.writer.run(`INSERT INTO lake_meta VALUES ('reporting_currency', '${currency.replace(/'/g, "''")}')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
}
