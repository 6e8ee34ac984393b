import { describe, expect, it } from 'vitest'
import { hasFigures, KPI_DEFINITIONS, kpiPeriod } from '../../../src/renderer/src/features/metrics/kpi-text'
import type { Kpis } from '../../../src/shared/dto'

const kpis = (over: Partial<Kpis>): Kpis => ({
  minutes: 1,
  completeMinutes: 1,
  periodStart: '2025-01-01T10:03:00.000Z',
  periodEnd: '2025-01-01T10:04:00.000Z',
  firstCompleteAt: null,
  orders: 10,
  ordersPerMinute: 10,
  revenue: 100,
  avgOrderValue: 10,
  uniqueCustomers: 8,
  asOf: '2025-01-01T10:04:30.000Z',
  ...over
})
const clock = (iso: string) => new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

describe('the words under the KPI cards', () => {
  it('every card names the same orders', () => {
    for (const d of Object.values(KPI_DEFINITIONS)) expect(d).toContain('excl. cancelled and refunded')
  })

  it('names the minutes the figures cover', () => {
    const range = `${clock('2025-01-01T10:03:00.000Z')}–${clock('2025-01-01T10:04:00.000Z')}`
    expect(kpiPeriod(kpis({}), 'en-GB')).toBe(`last complete minute · ${range}`)
    expect(kpiPeriod(kpis({ minutes: 5, completeMinutes: 5, periodStart: '2025-01-01T09:59:00.000Z' }), 'en-GB')).toBe(
      `last 5 complete minutes · ${clock('2025-01-01T09:59:00.000Z')}–${clock('2025-01-01T10:04:00.000Z')}`
    )
    expect(kpiPeriod(kpis({ minutes: 5, completeMinutes: 2, periodStart: '2025-01-01T10:02:00.000Z' }), 'en-GB')).toBe(
      `2 complete minutes so far (of 5) · ${clock('2025-01-01T10:02:00.000Z')}–${clock('2025-01-01T10:04:00.000Z')}`
    )
  })

  it('before a minute is complete: no figures, and when there will be', () => {
    const waiting = kpis({ completeMinutes: 0, periodStart: null, periodEnd: null, firstCompleteAt: '2025-01-01T10:05:00.000Z' })
    expect(hasFigures(waiting)).toBe(false)
    expect(kpiPeriod(waiting, 'en-GB')).toBe(`waiting for the first complete minute (ends ${clock('2025-01-01T10:05:00.000Z')})`)
    expect(kpiPeriod(kpis({ completeMinutes: 0, asOf: null }))).toBe('no orders yet')
    expect(hasFigures(kpis({}))).toBe(true)
  })
})
