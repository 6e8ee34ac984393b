import { describe, expect, it } from 'vitest'
import type { AlertRow, BatchRow, WindowRow } from '../../../src/shared/dto'
import {
  alertsPerBucketOption,
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
    const html = tooltip.formatter([{ value: [Date.parse(windows[0].windowStart), 100.5], marker: '' }])
    expect(html).toContain('€100.50')
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

  it('fraud histogram: categories in engine order, alert scores in the alert colour', () => {
    const rows = [
      { key: '0', count: 90 },
      { key: '1', count: 20 },
      { key: '5', count: 8 },
      { key: '10+', count: 2 }
    ]
    const o = fraudHistogramOption(rows, { palette: LIGHT }, 3)
    expect((o.xAxis as { data: string[] }).data).toEqual(['0', '1', '5', '10+'])
    const data = seriesOf(o)[0].data as { value: number; itemStyle: { color: string } }[]
    expect(data.map((d) => d.value)).toEqual([90, 20, 8, 2])
    expect(data.map((d) => d.itemStyle.color)).toEqual([LIGHT.axisLine, LIGHT.scoreScale[0], LIGHT.scoreScale[2], LIGHT.scoreScale[2]])
  })

  it('alerts timeline: time × amount, score as the visual dimension, escaped tooltip', () => {
    const alerts: AlertRow[] = [
      {
        orderId: '<b>O-1</b>',
        customerId: 'C',
        orderTs: '2025-01-01T00:00:10.000Z',
        amount: 5000,
        currency: 'USD',
        reportingAmount: 5000,
        reportingCurrency: 'USD',
        fxRate: 1,
        status: 'paid',
        fraudScore: 7,
        fraudReasons: ['amount'],
        shippingCountry: 'US',
        billingCountry: 'DE',
        detectedAt: '2025-01-01T00:00:11.000Z',
        rulesetVersion: 1
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

// Honest charts: what is not there is not drawn, and what is still filling is marked as such.

const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 10, minute)).toISOString()
const win = (minute: number, over: Partial<WindowRow> = {}): WindowRow => ({
  windowStart: at(minute),
  windowEnd: at(minute + 1),
  orders: 12,
  revenueOrders: 10,
  revenue: 1000 + minute,
  avgOrderValue: 100,
  uniqueCustomers: 9,
  partial: false,
  ...over
})
const t = (minute: number) => Date.parse(at(minute))

type AnySeries = Series & { smooth?: unknown; connectNulls?: boolean; lineStyle?: { type?: string } }
type Item = { value: [number, number]; itemStyle: { decal?: unknown; borderType?: string } }
const tip = (o: { tooltip?: unknown }, value: unknown[]) => (o.tooltip as { formatter: (p: unknown) => string }).formatter([{ value, marker: '' }])

describe('revenue and orders per window: gaps, no smoothing, the window in progress', () => {
  // 10:00, 10:01, then nothing until 10:04 (stopped), 10:05, and 10:06 still filling
  const rows = [win(0), win(1), win(4), win(5), win(6, { partial: true, revenue: 20, revenueOrders: 1, orders: 1 })]

  it('the revenue line is straight and stops where windows are missing', () => {
    const [line] = seriesOf(revenueTrendOption(rows, { palette: LIGHT })) as AnySeries[]
    expect(line.smooth).toBe(false)
    expect(line.connectNulls).toBe(false)
    expect(line.data).toEqual([
      [t(0), 1000],
      [t(1), 1001],
      [t(2), null],
      [t(4), 1004],
      [t(5), 1005]
    ])
  })

  it('the window still filling is a point of its own in a dashed "in progress" band, not a drop of the line', () => {
    const o = revenueTrendOption(rows, { palette: LIGHT })
    const [line, partial] = seriesOf(o) as (AnySeries & { markArea?: { data: { xAxis: number }[][]; itemStyle: { borderType?: string } } })[]
    expect((line.data as unknown[][]).map((p) => p[0])).not.toContain(t(6))
    expect(partial.data).toEqual([[t(6), 20]])
    expect(partial.markArea?.data).toEqual([[{ xAxis: t(6) - 30_000 }, { xAxis: t(6) + 30_000 }]])
    expect(partial.markArea?.itemStyle.borderType).toBe('dashed')
    expect(tip(revenueTrendOption(rows, { palette: LIGHT, locale: 'en-US' }), [t(6), 20])).toContain('in progress')
  })

  it('without a window in progress there is no band', () => {
    const [, partial] = seriesOf(revenueTrendOption([win(0), win(1)], { palette: LIGHT })) as (AnySeries & { markArea?: unknown })[]
    expect(partial.data).toEqual([])
    expect(partial.markArea).toBeUndefined()
  })

  it('order bars count what the KPI cards count, hatch the window in progress, and leave gaps empty', () => {
    const o = orderVolumeOption(rows, { palette: LIGHT, locale: 'en-US' })
    const data = seriesOf(o)[0].data as (Item | unknown[])[]
    const plain = data.filter(Array.isArray) as unknown[][]
    expect(plain).toEqual([
      [t(0), 10],
      [t(1), 10],
      [t(2), null],
      [t(4), 10],
      [t(5), 10]
    ])
    const hatched = data.find((d) => !Array.isArray(d)) as Item
    expect(hatched.value).toEqual([t(6), 1])
    expect(hatched.itemStyle.decal).toBeTruthy()
    expect(hatched.itemStyle.borderType).toBe('dashed')
    expect(tip(o, [t(0), 10])).toContain('not counted: 2 cancelled or refunded')
    expect(tip(o, [t(2), null])).toContain('no orders')
  })
})

describe('fraud histogram: readable beside a huge score-0 bar', () => {
  it('uses a log axis that starts below one and labels every bar with its count', () => {
    const o = fraudHistogramOption(
      [
        { key: '0', count: 1500 },
        { key: '2', count: 1 },
        { key: '8', count: 3 }
      ],
      { palette: LIGHT, locale: 'en-US' }
    )
    const y = o.yAxis as { type: string; min: number; max: number; startValue: number }
    expect(y.type).toBe('log')
    expect(y.min).toBeLessThan(1)
    expect(y.startValue).toBe(y.min)
    expect(y.max).toBeGreaterThan(1500)
    const label = (seriesOf(o)[0] as { label?: { show: boolean; formatter: (x: unknown) => string } }).label
    expect(label?.show).toBe(true)
    expect(label?.formatter({ value: 1500 })).toBe('1.5K')
  })
})

describe('pipeline charts: stopped periods are gaps', () => {
  const batchAt = (id: number, ms: number): BatchRow => ({
    batchId: id,
    startedAt: new Date(ms - 100).toISOString(),
    committedAt: new Date(ms).toISOString(),
    durationMs: 100,
    rowsRead: 10,
    valid: 10,
    quarantined: 0,
    late: 0,
    duplicates: 0,
    alerts: 0,
    inputRate: 10,
    processingRate: 100,
    watermark: null
  })
  // a batch every second for 20 s, stopped for 3 minutes, then again
  const t0 = Date.UTC(2025, 0, 1, 10)
  const batches = [
    ...Array.from({ length: 20 }, (_, i) => batchAt(i + 1, t0 + i * 1000)),
    ...Array.from({ length: 20 }, (_, i) => batchAt(i + 21, t0 + 200_000 + i * 1000))
  ]

  it('throughput and duration lines break across the stop', () => {
    const nulls = (s: AnySeries) => (s.data as unknown[][]).filter((p) => p[1] === null)
    const [input, processing] = seriesOf(ratesOption(batches, { palette: LIGHT })) as AnySeries[]
    const [duration] = seriesOf(batchDurationOption(batches, { palette: LIGHT })) as AnySeries[]
    for (const s of [input, processing, duration]) {
      expect(s.connectNulls).toBe(false)
      expect(s.smooth ?? false).toBe(false)
      const gap = nulls(s)[0][0] as number
      expect(gap).toBeGreaterThan(t0 + 19_000)
      expect(gap).toBeLessThan(t0 + 200_000)
    }
    expect(nulls(processing).length).toBe(1)
    expect(nulls(duration).length).toBe(1)
    // the first input rate after the stop is averaged over the stop: left out, not drawn as a dip
    expect(nulls(input).map((p) => p[0])).toEqual([nulls(processing)[0][0], t0 + 200_000])
    expect(tip(ratesOption(batches, { palette: LIGHT }), [t0 + 100_000, null])).toContain('no batches')
  })
})

describe('history range charts', () => {
  const day = { min: Date.parse('2025-01-01T00:00:00.000Z'), max: Date.parse('2025-01-02T00:00:00.000Z') }

  it('a range passes its own extent, and an axis over more than a day names the day', () => {
    const o = orderVolumeOption(windows, { palette: LIGHT, locale: 'en-US' }, { ...day, max: day.max + 3_600_000 })
    const axis = o.xAxis as { min: number; max: number; axisLabel: { formatter: (v: number) => string } }
    expect([axis.min, axis.max]).toEqual([day.min, day.max + 3_600_000])
    expect(axis.axisLabel.formatter(day.min)).toMatch(/^Jan 1, \d\d:\d\d$|^Dec 31, \d\d:\d\d$/)
  })

  it('alerts per bucket: one bar per bucket with alerts, whole-number ticks, the bucket named in the tooltip', () => {
    const buckets = [
      { bucketStart: '2025-01-01T08:00:00.000Z', alerts: 1 },
      { bucketStart: '2025-01-01T08:15:00.000Z', alerts: 3 }
    ]
    const o = alertsPerBucketOption(buckets, 15, { palette: LIGHT, locale: 'en-US' }, day)
    const [s] = seriesOf(o)
    expect(s.type).toBe('bar')
    expect(s.data).toEqual([
      [Date.parse(buckets[0].bucketStart), 1],
      [Date.parse(buckets[1].bucketStart), 3]
    ])
    expect((o.yAxis as { minInterval: number }).minInterval).toBe(1)
    const tip = (o.tooltip as { formatter: (p: unknown) => string }).formatter([{ value: [Date.parse(buckets[1].bucketStart), 3] }])
    expect(tip).toMatch(/Alerts <b>3<\/b>/)
  })
})
