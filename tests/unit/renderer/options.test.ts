import { describe, expect, it } from 'vitest'
import type { AlertRow, BatchRow, WindowRow } from '../../../src/shared/dto'
import {
  alertsTimelineOption,
  batchDurationOption,
  fraudHistogramOption,
  orderVolumeOption,
  ratesOption,
  revenueTrendOption,
  statusPieOption,
  timeExtent
} from '../../../src/renderer/src/charts/options'
import { DARK, LIGHT } from '../../../src/renderer/src/charts/palette'

const windows: WindowRow[] = [0, 1, 2].map((m) => ({
  windowStart: `2025-01-01T00:0${m}:00.000Z`,
  windowEnd: `2025-01-01T00:0${m + 1}:00.000Z`,
  orders: 10 + m,
  revenueOrders: 10 + m,
  revenue: 100.5 * (m + 1),
  avgOrderValue: 10,
  uniqueCustomers: 5,
  partial: false
}))

type Series = { id?: string; type?: string; data?: unknown[]; itemStyle?: { color?: string }; lineStyle?: { color?: string } }
const seriesOf = (o: { series?: unknown }): Series[] => o.series as Series[]

describe('chart option builders', () => {
  it('revenue trend: one line, [time, revenue] points, currency tooltip', () => {
    const o = revenueTrendOption(windows, { palette: LIGHT, currency: 'EUR', locale: 'en-US' })
    const [s] = seriesOf(o)
    expect(s.type).toBe('line')
    expect(s.id).toBe('revenue')
    expect(s.data).toEqual([
      [Date.parse(windows[0].windowStart), 100.5],
      [Date.parse(windows[1].windowStart), 201],
      [Date.parse(windows[2].windowStart), 301.5]
    ])
    expect((o.xAxis as { type: string }).type).toBe('time')
    const tooltip = o.tooltip as { formatter: (p: unknown) => string }
    const html = tooltip.formatter([{ value: [Date.parse(windows[0].windowStart), 1234.5], marker: '' }])
    expect(html).toContain('€1,234.50')
  })

  it('order volume: bars of orders per window', () => {
    const [s] = seriesOf(orderVolumeOption(windows, { palette: LIGHT }))
    expect(s.type).toBe('bar')
    expect((s.data as number[][]).map((d) => d[1])).toEqual([10, 11, 12])
  })

  it('follows the palette of the theme', () => {
    const light = seriesOf(revenueTrendOption(windows, { palette: LIGHT }))[0]
    const dark = seriesOf(revenueTrendOption(windows, { palette: DARK }))[0]
    expect(light.lineStyle?.color).toBe(LIGHT.accent)
    expect(dark.lineStyle?.color).toBe(DARK.accent)
    const o = orderVolumeOption(windows, { palette: DARK }) as { textStyle?: { color?: string } }
    expect(o.textStyle?.color).toBe(DARK.text)
  })

  it('handles empty data', () => {
    expect(seriesOf(revenueTrendOption([], { palette: LIGHT }))[0].data).toEqual([])
    expect(seriesOf(alertsTimelineOption([], { palette: LIGHT }))[0].data).toEqual([])
    expect(seriesOf(statusPieOption([], { palette: LIGHT }))[0].data).toEqual([])
  })

  it('fraud histogram: categories in engine order, colour rising with score', () => {
    const rows = [
      { key: '0', count: 90 },
      { key: '5', count: 8 },
      { key: '10+', count: 2 }
    ]
    const o = fraudHistogramOption(rows, { palette: LIGHT })
    expect((o.xAxis as { data: string[] }).data).toEqual(['0', '5', '10+'])
    const data = seriesOf(o)[0].data as { value: number; itemStyle: { color: string } }[]
    expect(data.map((d) => d.value)).toEqual([90, 8, 2])
    expect(data[0].itemStyle.color).toBe(LIGHT.scoreScale[0])
    expect(data[2].itemStyle.color).toBe(LIGHT.scoreScale[2])
  })

  it('alerts timeline: time × amount, score as the visual dimension, escaped tooltip', () => {
    const alerts: AlertRow[] = [
      {
        orderId: '<b>O-1</b>',
        customerId: 'C',
        orderTs: '2025-01-01T00:00:10.000Z',
        amount: 5000,
        currency: 'USD',
        status: 'paid',
        fraudScore: 7,
        fraudReasons: ['amount'],
        shippingCountry: 'US',
        billingCountry: 'DE',
        detectedAt: '2025-01-01T00:00:11.000Z'
      }
    ]
    const o = alertsTimelineOption(alerts, { palette: LIGHT, locale: 'en-US' })
    const [s] = seriesOf(o)
    expect(s.type).toBe('scatter')
    expect(s.data).toEqual([[Date.parse('2025-01-01T00:00:10.000Z'), 5000, 7, '<b>O-1</b>']])
    expect((o.visualMap as { dimension: number }).dimension).toBe(2)
    const html = (o.tooltip as { formatter: (p: unknown) => string }).formatter({ value: s.data![0] })
    expect(html).toContain('&lt;b&gt;O-1&lt;/b&gt;')
    expect(html).toContain('$5,000.00')
  })

  it('status pie: known statuses get their colour', () => {
    const [s] = seriesOf(statusPieOption([{ key: 'completed', count: 3 }, { key: 'weird', count: 1 }], { palette: LIGHT }))
    const data = s.data as { name: string; itemStyle: { color: string } }[]
    expect(data[0].itemStyle.color).toBe(LIGHT.status.completed)
    expect(data[1].itemStyle.color).toBe(LIGHT.series[1])
  })

  it('pipeline charts: input vs processing rate and durations per batch', () => {
    const batches: BatchRow[] = [1, 2].map((id) => ({
      batchId: id,
      startedAt: `2025-01-01T00:00:0${id}.000Z`,
      committedAt: `2025-01-01T00:00:0${id}.500Z`,
      durationMs: 100 * id,
      rowsRead: 10,
      valid: 10,
      quarantined: 0,
      late: 0,
      duplicates: 0,
      alerts: 0,
      inputRate: 20 * id,
      processingRate: 50 * id,
      watermark: null
    }))
    const rates = seriesOf(ratesOption(batches, { palette: LIGHT }))
    expect(rates.map((s) => s.id)).toEqual(['input', 'processing'])
    expect((rates[1].data as number[][]).map((d) => d[1])).toEqual([50, 100])
    const dur = batchDurationOption(batches, { palette: LIGHT }, 500)
    const [d] = seriesOf(dur)
    expect((d.data as number[][]).map((x) => x[1])).toEqual([100, 200])
    expect((d as { markLine?: { data: unknown[] } }).markLine?.data).toEqual([{ yAxis: 500 }])
  })
})

describe('time ranges', () => {
  it('shows at least the minimum span ending at the newest point', () => {
    expect(timeExtent([], 1000)).toEqual({})
    expect(timeExtent([10_000], 5000)).toEqual({ min: 5000, max: 10_000 })
    expect(timeExtent([0, 20_000, 10_000], 5000, 100)).toEqual({ min: -100, max: 20_100 })
  })

  it('a single window gets a sensible axis, not days of empty space', () => {
    const one = revenueTrendOption(windows.slice(0, 1), { palette: LIGHT, locale: 'en-US' })
    const x = one.xAxis as { min: number; max: number; axisLabel: { formatter: (v: number) => string } }
    expect(x.max - x.min).toBe(15 * 60_000 + 60_000)
    expect(x.axisLabel.formatter(new Date(2025, 0, 1, 0, 5, 30).getTime())).toBe('00:05')
  })

  it('short ranges get seconds on the axis', () => {
    const b = { ...windows[0], batchId: 1, startedAt: '', committedAt: '2025-01-01T00:00:01.000Z' } as unknown as BatchRow
    const x = ratesOption([b], { palette: LIGHT, locale: 'en-US' }).xAxis as { axisLabel: { formatter: (v: number) => string } }
    expect(x.axisLabel.formatter(new Date(2025, 0, 1, 0, 0, 7).getTime())).toBe('00:00:07')
  })
})
