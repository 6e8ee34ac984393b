import { useMemo } from 'react'
import { Chart } from '../../charts/Chart'
import { orderVolumeOption, revenueTrendOption } from '../../charts/options'
import { countGaps, windowPoints } from '../../charts/gaps'
import { DASH, formatCurrency, formatNumber } from '../../lib/format'
import { useSlice, useStores, useThemeName } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import { useChartContext, useCurrency } from '../hooks'
import { COUNTED, hasFigures, KPI_DEFINITIONS, kpiPeriod } from './kpi-text'
import { waitingHint } from './waiting-hint'
import { RangePicker } from '../history/RangePicker'
import { bucketLabel, rangeKpiPeriod } from '../history/range-text'
import type { WindowRow } from '../../../../shared/dto'

function Kpi({ id, label, value, definition, period }: { id: string; label: string; value: string; definition: string; period: string }) {
  return (
    <div className="card kpi" data-testid={`kpi-${id}`}>
      <div className="label">{label}</div>
      <div className="value" data-testid={`kpi-${id}-value`}>
        {value}
      </div>
      <div className="definition" data-testid={`kpi-${id}-definition`}>
        {definition}
      </div>
      <div className="sub" data-testid={`kpi-${id}-period`}>
        {period}
      </div>
    </div>
  )
}

export function WaitingForData() {
  const { pipeline, settings } = useStores()
  const status = useSlice(pipeline, (s) => s.status)
  const s = useSlice(settings, (x) => x.settings)
  const hint = waitingHint(status, s)
  return (
    <EmptyState title={hint.title} busy={hint.busy} big testId="empty-state">
      <p>{hint.body}</p>
    </EmptyState>
  )
}

export function MetricsTab() {
  const { dashboard, history, historyRange } = useStores()
  const liveKpis = useSlice(dashboard, (s) => s.snapshot?.kpis)
  const liveWindows = useSlice(history, (s) => s.windows)
  const range = useSlice(historyRange, (s) => s.range)
  const view = useSlice(historyRange, (s) => s.view)
  // a history range shows its own buckets and cards, nothing of the live view
  const live = range === 'live'
  const kpis = live ? liveKpis : view?.kpis
  const windows = live ? liveWindows : (view?.buckets ?? NO_WINDOWS)
  const extent = useMemo(() => (!live && view?.from && view.to ? { min: Date.parse(view.from), max: Date.parse(view.to) } : undefined), [live, view])
  const currency = useCurrency()
  const ctx = useChartContext()
  const theme = useThemeName()
  const revenue = useMemo(() => revenueTrendOption(windows, ctx, extent), [windows, ctx, extent])
  const volume = useMemo(() => orderVolumeOption(windows, ctx, extent), [windows, ctx, extent])

  const hasData = (liveKpis && liveKpis.asOf !== null) || liveWindows.length > 0
  if (!hasData) {
    return (
      <div className="card">
        <WaitingForData />
      </div>
    )
  }
  const figures = hasFigures(kpis)
  const period = live ? kpiPeriod(kpis) : rangeKpiPeriod(kpis)
  const per = live ? 'per window' : `per ${view ? bucketLabel(view.bucketMinutes) : ''} bucket`
  const show = (text: string) => (figures ? text : DASH)
  const revenueGaps = countGaps(windowPoints(windows, (w) => w.revenue).complete)

  return (
    <>
      <RangePicker />
      <div className="grid cols-4">
        <Kpi
          id="orders-per-minute"
          label="Orders / min"
          value={show(formatNumber(kpis?.ordersPerMinute, 1))}
          definition={KPI_DEFINITIONS.ordersPerMinute}
          period={period}
        />
        <Kpi
          id="revenue"
          label="Revenue"
          value={show(formatCurrency(kpis?.revenue, currency))}
          definition={figures && kpis ? `${formatNumber(kpis.orders)} orders · ${KPI_DEFINITIONS.revenue}` : KPI_DEFINITIONS.revenue}
          period={period}
        />
        <Kpi id="avg-order-value" label="Average order value" value={show(formatCurrency(kpis?.avgOrderValue, currency))} definition={KPI_DEFINITIONS.avgOrderValue} period={period} />
        <Kpi id="unique-customers" label="Unique customers" value={show(formatNumber(kpis?.uniqueCustomers))} definition={KPI_DEFINITIONS.uniqueCustomers} period={period} />
      </div>
      <div className="grid cols-2">
        <Card title="Revenue" hint={`${per} · ${COUNTED}`} testId="chart-revenue">
          <Chart option={revenue} theme={theme} height={340} ariaLabel={`Revenue per window${gapLabel(revenueGaps)}`} />
        </Card>
        <Card title="Orders" hint={`${per} · ${COUNTED}`} testId="chart-orders">
          <Chart option={volume} theme={theme} height={340} ariaLabel={`Orders per window${gapLabel(revenueGaps)}`} />
        </Card>
      </div>
    </>
  )
}

const NO_WINDOWS: WindowRow[] = []

/** For the accessible label: the holes a chart leaves where there were no orders. */
const gapLabel = (gaps: number) => (gaps ? `, ${gaps} gap${gaps === 1 ? '' : 's'} without orders` : '')
