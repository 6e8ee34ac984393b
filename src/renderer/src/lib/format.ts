// Number and time formatting for the dashboard. Intl formatters are costly to build and the UI
// formats thousands of cells per second, so they are cached per (locale, options).

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>()

function numberFormat(locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${locale ?? ''}|${JSON.stringify(options)}`
  let f = cache.get(key) as Intl.NumberFormat | undefined
  if (!f) {
    f = new Intl.NumberFormat(locale, options)
    cache.set(key, f)
  }
  return f
}

function dateFormat(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${locale ?? ''}|${JSON.stringify(options)}`
  let f = cache.get(key) as Intl.DateTimeFormat | undefined
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options)
    cache.set(key, f)
  }
  return f
}

export const DASH = '—'

const finite = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n)

/** 12345.6 -> "12,346" (maxDigits fraction digits, default 0). */
export function formatNumber(n: number | null | undefined, maxDigits = 0, locale?: string): string {
  if (!finite(n)) return DASH
  return numberFormat(locale, { maximumFractionDigits: maxDigits, minimumFractionDigits: 0 }).format(n)
}

/** Fixed number of fraction digits: 1.5 -> "1.50". */
export function formatFixed(n: number | null | undefined, digits: number, locale?: string): string {
  if (!finite(n)) return DASH
  return numberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n)
}

/** 1234567 -> "1.2M". */
export function formatCompact(n: number | null | undefined, locale?: string): string {
  if (!finite(n)) return DASH
  return numberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }).format(n)
}

function safeCurrency(currency: string | undefined): string {
  return currency && /^[A-Za-z]{3}$/.test(currency) ? currency.toUpperCase() : 'USD'
}

/** 1234.5 -> "$1,234.50". Unknown or malformed currency codes fall back to USD. */
export function formatCurrency(n: number | null | undefined, currency = 'USD', locale?: string): string {
  if (!finite(n)) return DASH
  const code = safeCurrency(currency)
  try {
    return numberFormat(locale, { style: 'currency', currency: code }).format(n)
  } catch {
    return numberFormat(locale, { style: 'currency', currency: 'USD' }).format(n)
  }
}

/** Currency without cents for axis labels and big numbers: "$12,346" or "$1.2M" past a million. */
export function formatCurrencyShort(n: number | null | undefined, currency = 'USD', locale?: string): string {
  if (!finite(n)) return DASH
  const code = safeCurrency(currency)
  const compact = Math.abs(n) >= 1_000_000
  try {
    return numberFormat(locale, {
      style: 'currency',
      currency: code,
      notation: compact ? 'compact' : 'standard',
      maximumFractionDigits: compact ? 1 : 0
    }).format(n)
  } catch {
    return formatCompact(n, locale)
  }
}

/** 0.034 -> "3.4%". */
export function formatPercent(fraction: number | null | undefined, maxDigits = 1, locale?: string): string {
  if (!finite(fraction)) return DASH
  return numberFormat(locale, { style: 'percent', maximumFractionDigits: maxDigits }).format(fraction)
}

/** Milliseconds as "850 ms", "2.4 s", "3 min 5 s". */
export function formatDuration(ms: number | null | undefined, locale?: string): string {
  if (!finite(ms)) return DASH
  if (ms < 1000) return `${formatNumber(ms, 0, locale)} ms`
  const s = ms / 1000
  if (s < 60) return `${formatNumber(s, s < 10 ? 1 : 0, locale)} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`
  const h = Math.floor(m / 60)
  return `${h} h ${m - h * 60} min`
}

/** Pipeline lag in seconds: "0.4 s", "12 s", "3 min 5 s"; null -> dash. */
export function formatLag(seconds: number | null | undefined, locale?: string): string {
  if (!finite(seconds)) return DASH
  return formatDuration(Math.max(0, seconds) * 1000, locale)
}

function toDate(iso: string | null | undefined): Date | null {
  if (!iso) return null
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? null : d
}

/** ISO timestamp -> local "14:03:27". */
export function formatTime(iso: string | null | undefined, locale?: string): string {
  const d = toDate(iso)
  if (!d) return DASH
  return dateFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(d)
}

/** ISO timestamp -> local "14:03". */
export function formatClock(iso: string | number | null | undefined, locale?: string): string {
  const d = typeof iso === 'number' ? new Date(iso) : toDate(iso)
  if (!d) return DASH
  return dateFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d)
}

/** Bytes -> "512 B", "12.3 KiB", "4.5 MiB", "1.2 GiB". */
export function formatBytes(n: number | null | undefined, locale?: string): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${formatNumber(v, i === 0 ? 0 : 1, locale)} ${units[i]}`
}

/** Epoch ms or ISO timestamp -> local "Mar 4, 14:03": a time axis over days. */
export function formatDayClock(t: string | number | null | undefined, locale?: string): string {
  const d = typeof t === 'number' ? new Date(t) : toDate(t)
  if (!d) return DASH
  return dateFormat(locale, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d)
}

/** ISO timestamp -> local "Mar 4, 14:03:27". */
export function formatDateTime(iso: string | null | undefined, locale?: string): string {
  const d = toDate(iso)
  if (!d) return DASH
  return dateFormat(locale, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23'
  }).format(d)
}

/** An order's money as the dashboard has it (OrderMoney in shared/dto.ts). */
export interface OrderAmounts {
  amount: number
  currency: string
  reportingAmount?: number | null
  reportingCurrency?: string | null
  fxRate?: number | null
}

/**
 * An order's amount as the dashboard shows it: in the reporting currency (what the sums and the
 * fraud rules use), and as sent when that was another currency. An order without a converted
 * amount (an old lake, a currency it had no rate for) is shown as sent only.
 */
export function orderMoney(o: OrderAmounts, locale?: string): { shown: string; sent: string | null; title: string } {
  const sentText = formatCurrency(o.amount, o.currency, locale)
  if (o.reportingAmount === null || o.reportingAmount === undefined || !o.reportingCurrency) {
    return { shown: sentText, sent: null, title: `${sentText} (not converted)` }
  }
  const shown = formatCurrency(o.reportingAmount, o.reportingCurrency, locale)
  if (o.reportingCurrency === o.currency) return { shown, sent: null, title: shown }
  const rate = o.fxRate === null || o.fxRate === undefined ? '' : ` at ${formatNumber(o.fxRate, 6, locale)} ${o.reportingCurrency} per ${o.currency}`
  return { shown, sent: sentText, title: `${sentText}${rate} = ${shown}` }
}

/** Shortens long text for table cells; the full value goes in a title attribute. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  return `${text.slice(0, Math.max(0, max - 1))}…`
}
