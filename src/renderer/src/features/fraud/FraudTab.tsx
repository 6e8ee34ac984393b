import { useEffect, useMemo } from 'react'
import { Chart } from '../../charts/Chart'
import { alertsTimelineOption, fraudHistogramOption } from '../../charts/options'
import { formatNumber } from '../../lib/format'
import { useSlice, useStores, useThemeName } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import { useChartContext } from '../hooks'
import { AlertsTable } from './AlertsTable'
import { RangePicker } from '../history/RangePicker'
import { AlertsPerBucket } from '../history/AlertsPerBucket'

export function FraudTab() {
  const { dashboard, history, settings, rulesLab, historyRange } = useStores()
  const alerts = useSlice(history, (s) => s.alerts)
  const view = useSlice(historyRange, (s) => (s.range === 'live' ? null : s.view))
  const live = useSlice(historyRange, (s) => s.range === 'live')
  const liveHistogram = useSlice(dashboard, (s) => s.snapshot?.fraudHistogram)
  const histogram = live ? liveHistogram : view?.fraudHistogram
  // alerts are raised at the active ruleset version's threshold; the settings' seeds version 1
  const seedThreshold = useSlice(settings, (s) => s.settings?.fraud.threshold ?? 3)
  const threshold = useSlice(rulesLab, (s) => s.active?.ruleset.threshold) ?? seedThreshold
  useEffect(() => {
    void rulesLab.getState().load()
  }, [rulesLab])
  const ctx = useChartContext()
  const theme = useThemeName()
  const histOption = useMemo(() => fraudHistogramOption(histogram ?? [], ctx, threshold), [histogram, ctx, threshold])
  const timelineOption = useMemo(() => alertsTimelineOption(alerts, ctx), [alerts, ctx])

  return (
    <>
      <RangePicker />
      <div className="grid cols-2">
        <Card title="Fraud score distribution" hint={`orders per score · log scale${live ? '' : ' · in the range'}`} testId="chart-fraud-histogram">
          {histogram && histogram.length > 0 ? (
            <Chart option={histOption} theme={theme} height={260} ariaLabel="Fraud score histogram" />
          ) : (
            <EmptyState title="No scores yet">
              <p>Scores appear after the first batch.</p>
            </EmptyState>
          )}
        </Card>
        {!live && <AlertsPerBucket view={view} />}
        {live && <Card title="Alerts over time" hint="amount by order time, coloured by score" testId="chart-alerts-timeline">
          {alerts.length > 0 ? (
            <Chart option={timelineOption} theme={theme} height={260} ariaLabel="Alerts timeline" />
          ) : (
            <EmptyState title="No alerts yet">
              <p>Orders scoring {formatNumber(threshold, 1)} or more raise an alert.</p>
            </EmptyState>
          )}
        </Card>}
      </div>
      <AlertsTable threshold={threshold} />
    </>
  )
}
