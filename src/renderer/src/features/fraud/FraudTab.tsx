import { useMemo } from 'react'
import { Chart } from '../../charts/Chart'
import { alertsTimelineOption, fraudHistogramOption } from '../../charts/options'
import { formatCurrency, formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores, useThemeName } from '../../stores/context'
import { Card, EmptyState, ScoreBadge } from '../../ui/Card'
import { useChartContext } from '../hooks'

const TABLE_ROWS = 100

export function FraudTab() {
  const { dashboard, history, settings } = useStores()
  const alerts = useSlice(history, (s) => s.alerts)
  const histogram = useSlice(dashboard, (s) => s.snapshot?.fraudHistogram)
  const threshold = useSlice(settings, (s) => s.settings?.fraud.threshold ?? 3)
  const ctx = useChartContext()
  const theme = useThemeName()
  const histOption = useMemo(() => fraudHistogramOption(histogram ?? [], ctx), [histogram, ctx])
  const timelineOption = useMemo(() => alertsTimelineOption(alerts, ctx), [alerts, ctx])
  const rows = alerts.slice(0, TABLE_ROWS)

  return (
    <>
      <div className="grid cols-2">
        <Card title="Fraud score distribution" hint="all scored orders" testId="chart-fraud-histogram">
          {histogram && histogram.length > 0 ? (
            <Chart option={histOption} theme={theme} height={260} ariaLabel="Fraud score histogram" />
          ) : (
            <EmptyState title="No scores yet">
              <p>Scores appear after the first batch.</p>
            </EmptyState>
          )}
        </Card>
        <Card title="Alerts over time" hint="amount by order time, coloured by score" testId="chart-alerts-timeline">
          {alerts.length > 0 ? (
            <Chart option={timelineOption} theme={theme} height={260} ariaLabel="Alerts timeline" />
          ) : (
            <EmptyState title="No alerts yet">
              <p>Orders scoring {formatNumber(threshold, 1)} or more raise an alert.</p>
            </EmptyState>
          )}
        </Card>
      </div>
      <Card
        title="Fraud alerts"
        hint={`newest first · showing ${formatNumber(rows.length)} of ${formatNumber(alerts.length)}`}
        flush
        testId="alerts-card"
      >
        {rows.length === 0 ? (
          <EmptyState title="No fraud alerts" testId="alerts-empty">
            <p>Nothing suspicious so far. Alerts are raised when an order's score reaches {formatNumber(threshold, 1)}.</p>
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="data" data-testid="alerts-table">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Order</th>
                  <th>Customer</th>
                  <th className="num">Amount</th>
                  <th className="num">Score</th>
                  <th>Reasons</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.orderId} data-testid="alert-row" data-order-id={a.orderId}>
                    <td className="tnum" title={a.orderTs}>
                      {formatTime(a.orderTs)}
                    </td>
                    <td className="mono ellipsis" title={a.orderId}>
                      {a.orderId}
                    </td>
                    <td className="mono ellipsis" title={a.customerId}>
                      {a.customerId}
                    </td>
                    <td className="num">{formatCurrency(a.amount, a.currency)}</td>
                    <td className="num">
                      <ScoreBadge score={a.fraudScore} threshold={threshold} />
                    </td>
                    <td>
                      {a.fraudReasons.map((r) => (
                        <span className="chip" key={r}>
                          {r}
                        </span>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  )
}
