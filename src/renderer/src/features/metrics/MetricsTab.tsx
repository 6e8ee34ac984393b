import { useMemo } from 'react'
import { Chart } from '../../charts/Chart'
import { orderVolumeOption, revenueTrendOption } from '../../charts/options'
import { formatCurrency, formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores, useThemeName } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import { useChartContext, useCurrency } from '../hooks'
import { waitingHint } from './waiting-hint'

function Kpi({ id, label, value, sub }: { id: string; label: string; value: string; sub?: string }) {
  return (
    <div className="card kpi" data-testid={`kpi-${id}`}>
      <div className="label">{label}</div>
      <div className="value" data-testid={`kpi-${id}-value`}>
        {value}
      </div>
      {sub && <div className="sub">{sub}</div>}
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
  const { dashboard, history } = useStores()
  const kpis = useSlice(dashboard, (s) => s.snapshot?.kpis)
  const windows = useSlice(history, (s) => s.windows)
  const currency = useCurrency()
  const ctx = useChartContext()
  const theme = useThemeName()
  const revenue = useMemo(() => revenueTrendOption(windows, ctx), [windows, ctx])
  const volume = useMemo(() => orderVolumeOption(windows, ctx), [windows, ctx])

  const hasData = (kpis && kpis.asOf !== null) || windows.length > 0
  if (!hasData) {
    return (
      <div className="card">
        <WaitingForData />
      </div>
    )
  }
  const period = kpis && kpis.minutes !== 1 ? `last ${kpis.minutes} min` : 'last minute'
  const asOf = kpis?.asOf ? `as of ${formatTime(kpis.asOf)}` : undefined

  return (
    <>
      <div className="grid cols-4">
        <Kpi id="orders-per-minute" label="Orders / min" value={formatNumber(kpis?.ordersPerMinute, 1)} sub={asOf} />
        <Kpi id="revenue" label={`Revenue · ${period}`} value={formatCurrency(kpis?.revenue, currency)} sub={kpis ? `${formatNumber(kpis.orders)} orders` : undefined} />
        <Kpi id="avg-order-value" label="Average order value" value={formatCurrency(kpis?.avgOrderValue, currency)} sub={period} />
        <Kpi id="unique-customers" label="Unique customers" value={formatNumber(kpis?.uniqueCustomers)} sub={period} />
      </div>
      <div className="grid cols-2">
        <Card title="Revenue" hint={`per window · ${formatNumber(windows.length)} window${windows.length === 1 ? '' : 's'}`} testId="chart-revenue">
          <Chart option={revenue} theme={theme} height={340} ariaLabel="Revenue per window" />
        </Card>
        <Card title="Order volume" hint="orders per window" testId="chart-orders">
          <Chart option={volume} theme={theme} height={340} ariaLabel="Orders per window" />
        </Card>
      </div>
    </>
  )
}
