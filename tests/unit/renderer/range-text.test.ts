import { describe, expect, it } from 'vitest'
import type { HistoryView, Kpis } from '../../../src/shared/dto'
import { bucketLabel, fromLocalInput, rangeKpiPeriod, rangeSummary, toLocalInput } from '../../../src/renderer/src/features/history/range-text'
import { formatBytes } from '../../../src/renderer/src/lib/format'

const kpis = (over: Partial<Kpis>): Kpis => ({
  minutes: 1440,
  completeMinutes: 1440,
  periodStart: '2024-02-29T12:00:00.000Z',
  periodEnd: '2024-03-01T12:00:00.000Z',
  firstCompleteAt: null,
  orders: 10,
  ordersPerMinute: 10 / 1440,
  revenue: 100,
  avgOrderValue: 10,
  uniqueCustomers: 3,
  asOf: '2024-03-01T12:00:30.000Z',
  ...over
})

describe('range picker words', () => {
  it('names bucket widths in their largest whole unit', () => {
    expect([1, 15, 60, 120, 1440, 2880].map(bucketLabel)).toEqual(['1-min', '15-min', '1-h', '2-h', '1-day', '2-day'])
  })

  it('summarises a range, or says the lake has no orders', () => {
    const view = { from: '2024-02-29T12:15:00.000Z', to: '2024-03-01T12:15:00.000Z', bucketMinutes: 15 } as HistoryView
    expect(rangeSummary(view, 'en-US')).toMatch(/^Feb 29, \d\d:15 – Mar 1, \d\d:15 · 15-min buckets$/)
    expect(rangeSummary({ ...view, from: null, to: null }, 'en-US')).toBe('no orders in the lake yet')
    expect(rangeSummary(null)).toBe('')
  })

  it('the KPI period counts complete minutes, or says the range has none', () => {
    expect(rangeKpiPeriod(kpis({}), 'en-US')).toMatch(/^1,440 complete minutes · Feb 29, \d\d:00–Mar 1, \d\d:00$/)
    expect(rangeKpiPeriod(kpis({ completeMinutes: 0, periodStart: null, periodEnd: null }))).toBe('no complete minute in this range')
    expect(rangeKpiPeriod(kpis({ asOf: null }))).toBe('no orders yet')
  })

  it('datetime-local values round-trip to the minute, and nonsense is refused', () => {
    const iso = '2024-03-01T12:34:00.000Z'
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso)
    expect(fromLocalInput('')).toBeNull()
    expect(fromLocalInput('not a time')).toBeNull()
  })

  it('bytes in binary units', () => {
    expect([0, 1023, 1024, 1536, 5 * 1024 ** 2, null].map((n) => formatBytes(n, 'en-US'))).toEqual(['0 B', '1,023 B', '1 KiB', '1.5 KiB', '5 MiB', '—'])
  })
})
