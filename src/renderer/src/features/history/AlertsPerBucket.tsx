import { useMemo } from 'react'
import type { HistoryView } from '../../../../shared/dto'
import { Chart } from '../../charts/Chart'
import { alertsPerBucketOption } from '../../charts/options'
import { formatNumber } from '../../lib/format'
import { useThemeName } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import { useChartContext } from '../hooks'
import { bucketLabel } from './range-text'

/** The Fraud tab's alerts over a history range: how many per bucket of their order time. */
export function AlertsPerBucket({ view }: { view: HistoryView | null }) {
  const ctx = useChartContext()
  const theme = useThemeName()
  const option = useMemo(
    () =>
      view?.from && view.to
        ? alertsPerBucketOption(view.alertBuckets, view.bucketMinutes, ctx, { min: Date.parse(view.from), max: Date.parse(view.to) })
        : null,
    [view, ctx]
  )
  const total = view?.alertBuckets.reduce((s, b) => s + b.alerts, 0) ?? 0
  return (
    <Card
      title="Alerts over time"
      hint={view ? `per ${bucketLabel(view.bucketMinutes)} bucket of order time · ${formatNumber(total)} in the range` : 'loading…'}
      testId="chart-alerts-per-bucket"
    >
      {option && total > 0 ? (
        <Chart option={option} theme={theme} height={260} ariaLabel={`Fraud alerts per bucket, ${total} in the range`} />
      ) : (
        <EmptyState title={view ? 'No alerts in this range' : 'Loading…'} />
      )}
    </Card>
  )
}
