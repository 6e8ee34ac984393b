import type { SqlColumn, SqlRows, SqlValue } from '../../../shared/sql'
import { formatCompact } from '../lib/format'
import type { ChartOption } from './options'
import type { ChartPalette } from './palette'

// The SQL console's one-click chart: a query result as a line, bar or scatter chart. The x axis
// is the first column (time, number or category, as its DuckDB type says), every numeric
// column after it a series. Pure, so it is unit-tested without a canvas.

export type ResultChartKind = 'line' | 'bar' | 'scatter'

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL)/
const TEMPORAL = /^(DATE|TIMESTAMP|TIME)/

const isNumeric = (c: SqlColumn): boolean => NUMERIC.test(c.type)
const isTemporal = (c: SqlColumn): boolean => TEMPORAL.test(c.type) && !c.type.startsWith('TIME ') && c.type !== 'TIME'

export interface ResultChartPlan {
  x: number
  series: number[]
}

/** Which columns a chart of `result` uses, or why it cannot draw one. */
export function planResultChart(result: Pick<SqlRows, 'columns'>): ResultChartPlan | { reason: string } {
  if (result.columns.length < 2) return { reason: 'a chart needs two columns: x first, then one or more numbers' }
  const series = result.columns.map((c, i) => (i > 0 && isNumeric(c) ? i : -1)).filter((i) => i > 0)
  if (series.length === 0) return { reason: 'a chart needs a numeric column after the first one' }
  return { x: 0, series }
}

const toNumber = (v: SqlValue): number | null => (v === null || typeof v === 'object' ? null : Number(v))
/** DuckDB's JSON form of a timestamp ("2026-12-02 01:01:35.023+00") as ISO 8601, which Date.parse reads. */
const toTime = (v: SqlValue): number | null => (typeof v === 'string' ? Date.parse(v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')) : null)

export function resultChartOption(result: SqlRows, kind: ResultChartKind, palette: ChartPalette): ChartOption {
  const plan = planResultChart(result)
  if ('reason' in plan) return {}
  const xCol = result.columns[plan.x]
  const xType = isTemporal(xCol) ? 'time' : isNumeric(xCol) || kind === 'scatter' ? 'value' : 'category'
  const xOf = (v: SqlValue): number | string | null => (xType === 'time' ? toTime(v) : xType === 'value' ? toNumber(v) : v === null ? 'NULL' : String(v))
  const axis = { axisLine: { lineStyle: { color: palette.axisLine } }, axisLabel: { color: palette.textMuted, hideOverlap: true } }
  return {
    backgroundColor: 'transparent',
    animation: false,
    textStyle: { color: palette.text, fontFamily: 'inherit', fontSize: 12 },
    color: palette.series,
    grid: { left: 8, right: 16, top: 36, bottom: 24, containLabel: true },
    legend: { top: 0, textStyle: { color: palette.textMuted } },
    tooltip: {
      trigger: kind === 'scatter' ? 'item' : 'axis',
      backgroundColor: palette.tooltipBg,
      borderColor: palette.tooltipBorder,
      textStyle: { color: palette.text, fontSize: 12 },
      confine: true
    },
    xAxis: { type: xType, name: xCol.name, nameLocation: 'middle', nameGap: 28, scale: xType === 'value', ...axis },
    yAxis: {
      type: 'value',
      scale: kind !== 'bar',
      axisLabel: { color: palette.textMuted, formatter: (v: number) => formatCompact(v) },
      splitLine: { lineStyle: { color: palette.splitLine } }
    },
    series: plan.series.map((i) => ({
      id: result.columns[i].name,
      name: result.columns[i].name,
      type: kind,
      showSymbol: kind !== 'line' || result.rows.length <= 60,
      symbolSize: kind === 'scatter' ? 7 : 4,
      data: result.rows.map((r) => [xOf(r[plan.x]), toNumber(r[i])])
    }))
  } as ChartOption
}
