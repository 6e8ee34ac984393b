import { describe, expect, it } from 'vitest'
import {
  DASH,
  orderMoney,
  formatCompact,
  formatCurrency,
  formatCurrencyShort,
  formatDuration,
  formatFixed,
  formatLag,
  formatNumber,
  formatPercent,
  formatTime,
  truncate
} from '../../../src/renderer/src/lib/format'

const L = 'en-US'

describe('number formatting', () => {
  it('groups thousands and rounds', () => {
    expect(formatNumber(1234567.891, 0, L)).toBe('1,234,568')
    expect(formatNumber(1234.5, 1, L)).toBe('1,234.5')
    expect(formatFixed(1.5, 2, L)).toBe('1.50')
    expect(formatCompact(1_250_000, L)).toBe('1.3M')
  })

  it('formats currency with the given code and falls back to USD', () => {
    expect(formatCurrency(1234.5, 'USD', L)).toBe('$1,234.50')
    expect(formatCurrency(99, 'EUR', L)).toBe('€99.00')
    expect(formatCurrency(5, 'not a code', L)).toBe('$5.00')
    expect(formatCurrencyShort(12345.6, 'USD', L)).toBe('$12,346')
    expect(formatCurrencyShort(2_500_000, 'USD', L)).toBe('$2.5M')
  })

  it('formats percentages', () => {
    expect(formatPercent(0.034, 1, L)).toBe('3.4%')
  })

  it('shows a dash for missing or non-finite numbers', () => {
    expect(formatNumber(null)).toBe(DASH)
    expect(formatNumber(undefined)).toBe(DASH)
    expect(formatNumber(NaN)).toBe(DASH)
    expect(formatCurrency(Infinity)).toBe(DASH)
    expect(formatLag(null)).toBe(DASH)
  })
})

describe('durations and times', () => {
  it('picks a readable unit', () => {
    expect(formatDuration(850, L)).toBe('850 ms')
    expect(formatDuration(2400, L)).toBe('2.4 s')
    expect(formatDuration(42_000, L)).toBe('42 s')
    expect(formatDuration(185_000, L)).toBe('3 min 5 s')
    expect(formatDuration(2 * 3600_000 + 5 * 60_000, L)).toBe('2 h 5 min')
    expect(formatLag(0.4, L)).toBe('400 ms')
    expect(formatLag(-3, L)).toBe('0 ms')
  })

  it('formats ISO timestamps as 24h local clock times', () => {
    const iso = new Date(2025, 2, 4, 14, 3, 27).toISOString()
    expect(formatTime(iso, L)).toBe('14:03:27')
    expect(formatTime('garbage', L)).toBe(DASH)
    expect(formatTime(null, L)).toBe(DASH)
  })
})

describe('helpers', () => {
  it("shows an order's amount in the reporting currency, and as sent when that differs", () => {
    const L = 'en-US'
    expect(orderMoney({ amount: 99.99, currency: 'GBP', reportingAmount: 126.99, reportingCurrency: 'USD', fxRate: 1.27 }, L)).toEqual({
      shown: '$126.99',
      sent: '£99.99',
      title: '£99.99 at 1.27 USD per GBP = $126.99'
    })
    expect(orderMoney({ amount: 5, currency: 'USD', reportingAmount: 5, reportingCurrency: 'USD', fxRate: 1 }, L)).toEqual({
      shown: '$5.00',
      sent: null,
      title: '$5.00'
    })
    // an order of an old lake in a currency it had no rate for
    expect(orderMoney({ amount: 7, currency: 'SEK', reportingAmount: null, reportingCurrency: null, fxRate: null }, L)).toEqual({
      shown: formatCurrency(7, 'SEK', L),
      sent: null,
      title: `${formatCurrency(7, 'SEK', L)} (not converted)`
    })
  })

  it('truncates with an ellipsis', () => {
    expect(truncate('abcdef', 10)).toBe('abcdef')
    expect(truncate('abcdefghijkl', 5)).toBe('abcd…')
  })
})
