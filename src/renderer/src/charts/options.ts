import type { ComposeOption } from 'echarts/core'
import type { BarSeriesOption, LineSeriesOption, PieSeriesOption, ScatterSeriesOption } from 'echarts/charts'
import type {
  DataZoomComponentOption,
  GridComponentOption,
  LegendComponentOption,
  TooltipComponentOption,
  VisualMapComponentOption
} from 'echarts/components'
import type { AlertRow, BatchRow, CountRow, WindowRow } from '../../../shared/dto'
import {
  formatClock,
  formatDayClock,
  formatCompact,
  formatCurrency,
  formatCurrencyShort,
  formatDuration,
  formatNumber,
  formatTime
} from '../lib/format'
import { batchGapMs, withGaps, windowPoints, type Point } from './gaps'
import type { ChartPalette } from './palette'

// Pure ECharts option builders: data + palette in, option out. No DOM, so they are unit-tested
// directly; the Chart component only feeds them to an instance.

export type ChartOption = ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | PieSeriesOption
  | ScatterSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
  | VisualMapComponentOption
  | DataZoomComponentOption
>

export interface BuildContext {
  palette: ChartPalette
  currency?: string
  locale?: string
}

const ts = (iso: string): number => Date.parse(iso)

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** Pixels below the plot for x-axis labels (12 px text + 8 px margin + a little). */
const X_LABEL_ROOM = 22

function base(p: ChartPalette): ChartOption {
  return {
    backgroundColor: 'transparent',
    animationDuration: 300,
    animationDurationUpdate: 250,
    textStyle: { color: p.text, fontFamily: 'inherit', fontSize: 12 },
    // ECharts 6's automatic outer bounds keep y labels inside the canvas but not the x labels of
    // a time axis (their bottom half was cut off), so leave room for them explicitly.
    grid: { left: 8, right: 16, top: 28, bottom: X_LABEL_ROOM },
    tooltip: {
      trigger: 'axis',
      backgroundColor: p.tooltipBg,
      borderColor: p.tooltipBorder,
      textStyle: { color: p.text, fontSize: 12 },
      confine: true
    }
  }
}

/** Visible time range: at least `minSpanMs` ending at the newest point, padded for bars. */
export function timeExtent(times: readonly number[], minSpanMs: number, padMs = 0): { min?: number; max?: number } {
  const valid = times.filter((t) => Number.isFinite(t))
  if (valid.length === 0) return {}
  let first = valid[0]
  let last = valid[0]
  for (const t of valid) {
    if (t < first) first = t
    if (t > last) last = t
  }
  if (last - first < minSpanMs) first = last - minSpanMs
  return { min: first - padMs, max: last + padMs }
}

/** A chart's visible time range, epoch ms; a history range passes its own. */
export type TimeExtent = { min?: number; max?: number }

function timeAxis(p: ChartPalette, locale: string | undefined, extent: TimeExtent) {
  const span = extent.min !== undefined && extent.max !== undefined ? extent.max - extent.min : Infinity
  // Short ranges need seconds, or every label reads the same minute; ranges over days need the day.
  const label =
    span <= 15 * 60_000
      ? (v: number) => formatTime(new Date(v).toISOString(), locale)
      : span > 24 * 3_600_000
        ? (v: number) => formatDayClock(v, locale)
        : (v: number) => formatClock(v, locale)
  return {
    type: 'time' as const,
    min: extent.min,
    max: extent.max,
    axisLine: { lineStyle: { color: p.axisLine } },
    axisTick: { show: false },
    axisLabel: { color: p.textMuted, hideOverlap: true, formatter: label },
    splitLine: { show: false }
  }
}

const windowMs = (windows: readonly WindowRow[]): number => {
  const w = windows[0]
  const ms = w ? Date.parse(w.windowEnd) - Date.parse(w.windowStart) : NaN
  return Number.isFinite(ms) && ms > 0 ? ms : 60_000
}

function windowExtent(windows: readonly WindowRow[]) {
  const ms = windowMs(windows)
  return timeExtent(
    windows.map((w) => ts(w.windowStart)),
    15 * ms,
    ms / 2
  )
}

const batchExtent = (batches: readonly BatchRow[]) =>
  timeExtent(
    batches.map((b) => ts(b.committedAt)),
    60_000
  )

function valueAxis(p: ChartPalette, formatter: (v: number) => string, name?: string) {
  return {
    type: 'value' as const,
    name,
    nameTextStyle: { color: p.textMuted, align: 'left' as const },
    axisLabel: { color: p.textMuted, formatter },
    splitLine: { lineStyle: { color: p.splitLine } },
    axisLine: { show: false }
  }
}

interface AxisParam {
  value?: unknown
  seriesName?: string
  marker?: string
}

const asParams = (params: unknown): AxisParam[] => (Array.isArray(params) ? params : [params]) as AxisParam[]

const pointTime = (p: AxisParam | undefined): number | null =>
  Array.isArray(p?.value) && typeof p.value[0] === 'number' ? p.value[0] : null

const isGap = (p: AxisParam): boolean => Array.isArray(p.value) && p.value[1] === null

/** Axis tooltip: the point's time as a heading, then one line per series (a gap: "no batches"). */
function timeTooltip(heading: (t: number) => string, line: (x: AxisParam) => string) {
  return (params: unknown): string => {
    const list = asParams(params)
    const t = pointTime(list[0])
    const shown = list.filter((x) => !isGap(x))
    const body = shown.length ? shown.map((x) => `${x.marker ?? ''}${line(x)}`).join('<br/>') : 'no batches: stopped or idle'
    return (t === null ? '' : `${heading(t)}<br/>`) + body
  }
}

const pointValue = (p: AxisParam): number => (Array.isArray(p.value) ? Number(p.value[1]) : Number(p.value))

/** Windows by start time, for tooltips: a hovered point may be a gap or the partial window. */
const windowsByStart = (windows: readonly WindowRow[]) => new Map(windows.map((w) => [ts(w.windowStart), w]))

/** Tooltip for a window chart: the window's own figures, or "no orders" in a gap. */
function windowTooltip(windows: readonly WindowRow[], ctx: BuildContext, body: (w: WindowRow) => string) {
  const byStart = windowsByStart(windows)
  return (params: unknown): string => {
    const t = pointTime(asParams(params)[0])
    if (t === null) return ''
    const w = byStart.get(t)
    // a history bucket spans more than a minute: name the day and where it ends
    const heading =
      w && Date.parse(w.windowEnd) - Date.parse(w.windowStart) > 60_000
        ? `${formatDayClock(t, ctx.locale)}–${formatClock(w.windowEnd, ctx.locale)}`
        : formatClock(t, ctx.locale)
    if (!w) return `${heading}<br/>no orders`
    return `${heading}${w.partial ? ' · <i>in progress</i>' : ''}<br/>${body(w)}`
  }
}

/** Point indexes with no neighbour on either side: a line draws nothing there, so they get a dot. */
function isolated(points: readonly Point[]): Set<number> {
  const out = new Set<number>()
  points.forEach((p, i) => {
    if (p[1] !== null && (points[i - 1]?.[1] ?? null) === null && (points[i + 1]?.[1] ?? null) === null) out.add(i)
  })
  return out
}

/** A dashed, grey band over the window still filling, labelled, so its low value reads as "so far". */
function inProgressBand(p: ChartPalette, partial: Point | null, widthMs: number) {
  if (!partial) return {}
  return {
    markArea: {
      silent: true,
      itemStyle: { color: p.inProgress, borderColor: p.axisLine, borderWidth: 1, borderType: 'dashed' as const },
      // above the plot, where no point or bar label can lie under it
      label: { show: true, position: 'top' as const, color: p.textMuted, fontSize: 11, formatter: 'in progress' },
      data: [[{ xAxis: partial[0] - widthMs / 2 }, { xAxis: partial[0] + widthMs / 2 }]] as [{ xAxis: number }, { xAxis: number }][]
    }
  }
}

/** Diagonal stripes (ECharts decal) for what is not final yet. */
const hatch = (color: string) => ({
  symbol: 'rect',
  symbolSize: 1,
  color,
  dashArrayX: [1, 0],
  dashArrayY: [2, 4],
  rotation: -Math.PI / 4
})

/**
 * Revenue per window as a straight (never smoothed) line that stops where windows are missing.
 * The window still filling is not joined to the line: a hollow dot in a dashed "in progress"
 * band, so its low value so far never reads as a drop.
 */
export function revenueTrendOption(windows: readonly WindowRow[], ctx: BuildContext, extent?: TimeExtent): ChartOption {
  const p = ctx.palette
  const currency = ctx.currency ?? 'USD'
  const { complete, partial } = windowPoints(windows, (w) => w.revenue)
  const lone = isolated(complete)
  return {
    ...base(p),
    tooltip: {
      ...base(p).tooltip,
      formatter: windowTooltip(
        windows,
        ctx,
        (w) => `Revenue <b>${formatCurrency(w.revenue, currency, ctx.locale)}</b><br/>${formatNumber(w.revenueOrders, 0, ctx.locale)} orders`
      )
    },
    xAxis: timeAxis(p, ctx.locale, extent ?? windowExtent(windows)),
    yAxis: valueAxis(p, (v) => formatCurrencyShort(v, currency, ctx.locale)),
    series: [
      {
        id: 'revenue',
        name: 'Revenue',
        type: 'line',
        smooth: false,
        connectNulls: false,
        showSymbol: true,
        symbol: 'circle',
        symbolSize: (_v: unknown, params: { dataIndex: number }) => (lone.has(params.dataIndex) ? 6 : 0),
        lineStyle: { width: 2, color: p.accent },
        itemStyle: { color: p.accent },
        areaStyle: { color: p.accentSoft },
        data: complete
      },
      {
        id: 'revenue-partial',
        name: 'Revenue so far, window in progress',
        type: 'line',
        smooth: false,
        showSymbol: true,
        symbol: 'emptyCircle',
        symbolSize: 8,
        lineStyle: { width: 2, color: p.accent, type: 'dashed' },
        itemStyle: { color: p.accent },
        data: partial ? [partial] : [],
        ...inProgressBand(p, partial, windowMs(windows))
      }
    ]
  }
}

/**
 * Orders per window as bars, counted like the KPI cards (cancelled and refunded left out, the
 * tooltip names them); missing windows have no bar, the window still filling is hatched.
 */
export function orderVolumeOption(windows: readonly WindowRow[], ctx: BuildContext, extent?: TimeExtent): ChartOption {
  const p = ctx.palette
  const { complete, partial } = windowPoints(windows, (w) => w.revenueOrders)
  return {
    ...base(p),
    tooltip: {
      ...base(p).tooltip,
      formatter: windowTooltip(windows, ctx, (w) => {
        const left = w.orders - w.revenueOrders
        return (
          `Orders <b>${formatNumber(w.revenueOrders, 0, ctx.locale)}</b>` +
          (left > 0 ? `<br/>not counted: ${formatNumber(left, 0, ctx.locale)} cancelled or refunded` : '')
        )
      })
    },
    xAxis: timeAxis(p, ctx.locale, extent ?? windowExtent(windows)),
    yAxis: valueAxis(p, (v) => formatNumber(v, 0, ctx.locale)),
    series: [
      {
        id: 'orders',
        name: 'Orders',
        type: 'bar',
        barMaxWidth: 14,
        itemStyle: { color: p.secondary, borderRadius: [2, 2, 0, 0] },
        data: [
          ...complete,
          ...(partial
            ? [
                {
                  value: partial,
                  itemStyle: {
                    color: p.secondarySoft,
                    borderColor: p.secondary,
                    borderType: 'dashed' as const,
                    borderWidth: 1,
                    decal: hatch(p.secondary)
                  }
                }
              ]
            : [])
        ],
        ...inProgressBand(p, partial, windowMs(windows))
      }
    ]
  }
}

/**
 * Fraud alerts per history bucket (by order time) as bars over the range; a bucket without
 * alerts has no bar.
 */
export function alertsPerBucketOption(
  buckets: readonly { bucketStart: string; alerts: number }[],
  bucketMinutes: number,
  ctx: BuildContext,
  extent: TimeExtent
): ChartOption {
  const p = ctx.palette
  return {
    ...base(p),
    tooltip: {
      ...base(p).tooltip,
      formatter: (params: unknown) => {
        const t = pointTime(asParams(params)[0])
        if (t === null) return ''
        const b = buckets.find((x) => ts(x.bucketStart) === t)
        const end = t + bucketMinutes * 60_000
        return `${formatDayClock(t, ctx.locale)}–${formatClock(end, ctx.locale)}<br/>Alerts <b>${formatNumber(b?.alerts ?? 0, 0, ctx.locale)}</b>`
      }
    },
    xAxis: timeAxis(p, ctx.locale, extent),
    // counts: no tick between two whole numbers
    yAxis: { ...valueAxis(p, (v) => formatNumber(v, 0, ctx.locale)), minInterval: 1 },
    series: [
      {
        id: 'alerts',
        name: 'Alerts',
        type: 'bar',
        barMaxWidth: 14,
        itemStyle: { color: p.scoreScale[2], borderRadius: [2, 2, 0, 0] },
        data: buckets.map((b) => [ts(b.bucketStart), b.alerts])
      }
    ]
  }
}

/** Scores from the threshold up are the alerts. */
const scoreColor = (p: ChartPalette, key: string, threshold: number): string => {
  const score = Number.parseFloat(key)
  return score >= threshold ? p.scoreScale[2] : score > 0 ? p.scoreScale[0] : p.axisLine
}

/**
 * Orders per fraud score on a log axis, each bar labelled with its count: score 0 holds almost
 * every order, and on a linear axis it flattens the scores that matter to nothing.
 */
export function fraudHistogramOption(rows: readonly CountRow[], ctx: BuildContext, threshold = 3): ChartOption {
  const p = ctx.palette
  const max = rows.reduce((m, r) => Math.max(m, r.count), 1)
  return {
    ...base(p),
    tooltip: {
      ...base(p).tooltip,
      axisPointer: { type: 'shadow' },
      formatter: (params: unknown) => {
        const x = asParams(params)[0] as AxisParam & { name?: string; value?: unknown }
        return `Score <b>${escapeHtml(String(x?.name ?? ''))}</b><br/>${formatNumber(Number(x?.value), 0, ctx.locale)} orders`
      }
    },
    xAxis: {
      type: 'category',
      name: 'Score',
      nameLocation: 'middle',
      nameGap: 24,
      nameTextStyle: { color: p.textMuted },
      data: rows.map((r) => r.key),
      axisLine: { lineStyle: { color: p.axisLine } },
      axisTick: { show: false },
      axisLabel: { color: p.textMuted }
    },
    grid: { left: 8, right: 16, top: 28, bottom: 24 },
    yAxis: {
      ...valueAxis(p, (v) => (v >= 1 && Math.log10(v) % 1 === 0 ? formatNumber(v, 0, ctx.locale) : '')),
      type: 'log',
      logBase: 10,
      // bars rise from 0.5, not from 1 (a log axis's default), so a bar of one order has a height
      min: 0.5,
      startValue: 0.5,
      // room above the tallest bar for its label
      max: 10 ** Math.ceil(Math.log10(max * 2))
    },
    series: [
      {
        id: 'scores',
        name: 'Orders',
        type: 'bar',
        barMaxWidth: 36,
        label: {
          show: true,
          position: 'top',
          color: p.textMuted,
          fontSize: 11,
          formatter: (x: { value?: unknown }) => formatCompact(Number(x.value), ctx.locale)
        },
        data: rows.map((r) => ({
          value: r.count,
          itemStyle: { color: scoreColor(p, r.key, threshold), borderRadius: [3, 3, 0, 0] }
        }))
      }
    ]
  }
}

/** Alerts over time: x = order time, y = amount, colour = fraud score. */
export function alertsTimelineOption(alerts: readonly AlertRow[], ctx: BuildContext): ChartOption {
  const p = ctx.palette
  const currency = ctx.currency ?? 'USD'
  const scores = alerts.map((a) => a.fraudScore)
  const minScore = scores.length ? Math.min(...scores) : 0
  const maxScore = scores.length ? Math.max(...scores) : 10
  return {
    ...base(p),
    grid: { left: 8, right: 72, top: 28, bottom: X_LABEL_ROOM },
    tooltip: {
      ...base(p).tooltip,
      trigger: 'item',
      formatter: (param: unknown) => {
        const v = (param as { value?: unknown[] }).value ?? []
        const [time, amount, score, orderId] = v as [number, number, number, string]
        return (
          `<b>${escapeHtml(String(orderId))}</b><br/>` +
          `${formatTime(new Date(time).toISOString(), ctx.locale)}<br/>` +
          `Amount <b>${formatCurrency(amount, currency, ctx.locale)}</b><br/>` +
          `Score <b>${formatNumber(score, 1, ctx.locale)}</b>`
        )
      }
    },
    xAxis: timeAxis(
      p,
      ctx.locale,
      timeExtent(
        alerts.map((a) => ts(a.orderTs)),
        5 * 60_000,
        10_000
      )
    ),
    yAxis: valueAxis(p, (v) => formatCurrencyShort(v, currency, ctx.locale)),
    visualMap: {
      type: 'continuous',
      dimension: 2,
      min: minScore,
      max: Math.max(maxScore, minScore + 1),
      orient: 'vertical',
      right: 0,
      top: 'middle',
      itemWidth: 10,
      itemHeight: 100,
      text: ['high', 'low'],
      textStyle: { color: p.textMuted },
      inRange: { color: p.scoreScale },
      calculable: false
    },
    series: [
      {
        id: 'alerts',
        name: 'Alerts',
        type: 'scatter',
        symbolSize: (v: unknown) => {
          const score = Array.isArray(v) ? Number(v[2]) : 0
          return 7 + Math.min(9, Math.max(0, score - minScore) * 1.5)
        },
        itemStyle: { opacity: 0.85, borderColor: p.tooltipBg, borderWidth: 1 },
        // in the reporting currency, as the axis and the amount rules are
        data: alerts.map((a) => [ts(a.orderTs), a.reportingAmount ?? a.amount, a.fraudScore, a.orderId])
      }
    ]
  }
}

/** Order status distribution as a donut. */
export function statusPieOption(rows: readonly CountRow[], ctx: BuildContext): ChartOption {
  const p = ctx.palette
  return {
    ...base(p),
    tooltip: {
      ...base(p).tooltip,
      trigger: 'item',
      formatter: (param: unknown) => {
        const x = param as { name: string; value: number; percent: number; marker?: string }
        return `${x.marker ?? ''}${escapeHtml(x.name)} <b>${formatNumber(x.value, 0, ctx.locale)}</b> (${formatNumber(x.percent, 1, ctx.locale)}%)`
      }
    },
    legend: {
      orient: 'vertical',
      right: 8,
      top: 'middle',
      icon: 'circle',
      itemWidth: 8,
      itemHeight: 8,
      textStyle: { color: p.text }
    },
    series: [
      {
        id: 'status',
        name: 'Status',
        type: 'pie',
        radius: ['52%', '78%'],
        center: ['36%', '50%'],
        avoidLabelOverlap: true,
        label: { show: false },
        itemStyle: { borderColor: p.tooltipBg, borderWidth: 2 },
        data: rows.map((r, i) => ({
          name: r.key,
          value: r.count,
          itemStyle: { color: p.status[r.key] ?? p.series[i % p.series.length] }
        }))
      }
    ]
  }
}

/**
 * Per-batch points, broken where the pipeline was stopped or idle (no batch, nothing measured).
 * `spansPause`: the value of the first batch after a break covers the break itself (the input
 * rate counts from the previous batch's start), so it is left out rather than drawn as a dip.
 */
function batchPoints(batches: readonly BatchRow[], value: (b: BatchRow) => number, spansPause = false): Point[] {
  const times = batches.map((b) => ts(b.committedAt))
  const points = withGaps(
    batches.map((b, i) => [times[i], value(b)]),
    batchGapMs(times)
  )
  if (!spansPause) return points
  return points.map((pt, i) => (i > 0 && points[i - 1][1] === null ? [pt[0], null] : pt))
}

/** Input rate vs processing rate per batch. */
export function ratesOption(batches: readonly BatchRow[], ctx: BuildContext): ChartOption {
  const p = ctx.palette
  const fmt = (v: number) => formatNumber(v, v < 10 ? 1 : 0, ctx.locale)
  return {
    ...base(p),
    legend: { top: 0, right: 8, icon: 'roundRect', itemWidth: 12, itemHeight: 4, textStyle: { color: p.textMuted } },
    tooltip: {
      ...base(p).tooltip,
      formatter: timeTooltip(
        (t) => formatTime(new Date(t).toISOString(), ctx.locale),
        (x) => `${escapeHtml(x.seriesName ?? '')} <b>${fmt(pointValue(x))}</b> rows/s`
      )
    },
    xAxis: timeAxis(p, ctx.locale, batchExtent(batches)),
    yAxis: valueAxis(p, (v) => formatNumber(v, 0, ctx.locale), 'rows/s'),
    series: [
      {
        id: 'input',
        name: 'Input rate',
        type: 'line',
        showSymbol: false,
        lineStyle: { width: 2, color: p.accent },
        itemStyle: { color: p.accent },
        connectNulls: false,
        data: batchPoints(batches, (b) => b.inputRate, true)
      },
      {
        id: 'processing',
        name: 'Processing rate',
        type: 'line',
        showSymbol: false,
        lineStyle: { width: 2, color: p.success },
        itemStyle: { color: p.success },
        connectNulls: false,
        data: batchPoints(batches, (b) => b.processingRate)
      }
    ]
  }
}

/** Batch duration over time. */
export function batchDurationOption(batches: readonly BatchRow[], ctx: BuildContext, triggerMs?: number): ChartOption {
  const p = ctx.palette
  return {
    ...base(p),
    tooltip: {
      ...base(p).tooltip,
      formatter: timeTooltip(
        (t) => formatTime(new Date(t).toISOString(), ctx.locale),
        (x) => `Duration <b>${formatDuration(pointValue(x), ctx.locale)}</b>`
      )
    },
    xAxis: timeAxis(p, ctx.locale, batchExtent(batches)),
    yAxis: valueAxis(p, (v) => formatDuration(v, ctx.locale)),
    series: [
      {
        id: 'duration',
        name: 'Duration',
        type: 'line',
        showSymbol: false,
        lineStyle: { width: 1.5, color: p.series[2] },
        itemStyle: { color: p.series[2] },
        areaStyle: { color: p.series[2], opacity: 0.12 },
        connectNulls: false,
        data: batchPoints(batches, (b) => b.durationMs),
        ...(triggerMs
          ? {
              markLine: {
                silent: true,
                symbol: 'none',
                lineStyle: { color: p.warning, type: 'dashed' },
                label: { color: p.textMuted, formatter: 'trigger', position: 'insideEndTop' },
                data: [{ yAxis: triggerMs }]
              }
            }
          : {})
      }
    ]
  }
}
