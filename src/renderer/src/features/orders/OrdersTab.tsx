import { useMemo } from 'react'
import type { CurrencyRow } from '../../../../shared/dto'
import { Chart } from '../../charts/Chart'
import { paletteFor } from '../../charts/palette'
import { statusPieOption } from '../../charts/options'
import { formatCurrency, formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores, useThemeName } from '../../stores/context'
import { Card, EmptyState, Stat } from '../../ui/Card'
import { DataTable, IdCell, num } from '../../ui/DataTable'
import { Money } from '../../ui/Money'
import { useChartContext, useCurrency } from '../hooks'
import { WaitingForData } from '../metrics/MetricsTab'
import { OrderFilters, OrderPager } from './OrderFilters'

export function OrdersTab() {
  const { dashboard, orderSearch } = useStores()
  const liveOrders = useSlice(dashboard, (s) => s.snapshot?.recentOrders)
  const search = useSlice(orderSearch, (s) => s)
  // filters, or a page past the first: the lake's orders as searched; else the live list
  const orders = search.active ? search.rows : liveOrders
  const distribution = useSlice(dashboard, (s) => s.snapshot?.statusDistribution)
  const summary = useSlice(dashboard, (s) => s.snapshot?.summary)
  const currencies = useSlice(dashboard, (s) => s.snapshot?.currencies)
  const currency = useCurrency()
  const ctx = useChartContext()
  const theme = useThemeName()
  const pie = useMemo(() => statusPieOption(distribution ?? [], ctx), [distribution, ctx])
  const statusColors = paletteFor(theme).status

  if (!liveOrders || (liveOrders.length === 0 && !summary?.orders)) {
    return (
      <div className="card">
        <WaitingForData />
      </div>
    )
  }

  return (
    <div className="grid with-sidebar">
      <Card
        title="Recent orders"
        hint={search.active ? `${formatNumber(search.total)} in the lake match · newest batch first` : `latest ${formatNumber(liveOrders.length)}`}
        right={<OrderPager liveCount={liveOrders.length} />}
        flush
        testId="orders-card"
      >
        <OrderFilters />
        {search.error && <div className="form-error" style={{ padding: '8px 12px' }}>{search.error}</div>}
        {search.active && search.loaded && orders?.length === 0 && (
          <EmptyState title="No order matches" testId="orders-empty">
            <p>No order in the lake matches these filters.</p>
          </EmptyState>
        )}
        <DataTable
          className="compact"
          wrapStyle={{ maxHeight: 'calc(100vh - 260px)' }}
          testId="orders-table"
          columns={['Time', 'Order', 'Customer', 'Status', 'Channel', num('Items'), num('Amount'), num('Score')]}
        >
          {(orders ?? []).map((o) => (
            <tr key={o.orderId} data-testid="order-row" data-order-id={o.orderId}>
              <td className="tnum" title={o.orderTs}>
                {formatTime(o.orderTs)}
                {o.isLate && (
                  <span className="chip" style={{ marginLeft: 6 }} title="Arrived after the watermark">
                    late
                  </span>
                )}
              </td>
              <IdCell id={o.orderId} />
              <IdCell id={o.customerId} />
              <td>
                <span className="status-dot" style={{ ['--dot' as string]: statusColors[o.status] }}>
                  {o.status}
                </span>
              </td>
              <td className="muted">{o.channel}</td>
              <td className="num">{formatNumber(o.itemCount)}</td>
              <td className="num">
                <Money order={o} />
              </td>
              <td className="num muted">{formatNumber(o.fraudScore, 1)}</td>
            </tr>
          ))}
        </DataTable>
      </Card>
      <div className="stack">
        {search.active && (
          <p className="muted" data-testid="summary-note">
            The figures below are of the latest {formatNumber(liveOrders.length)} orders, not of the search.
          </p>
        )}
        <div className="grid">
          <Stat label="Orders in the list" value={formatNumber(summary?.orders)} testId="summary-orders" />
          <Stat label="Revenue · excl. cancelled and refunded" value={formatCurrency(summary?.revenue, currency)} testId="summary-revenue" />
          <Stat label="Average order value" value={formatCurrency(summary?.avgOrderValue, currency)} testId="summary-aov" />
        </div>
        <CurrencyBreakdown rows={currencies ?? []} currency={currency} />
        <Card title="Status" hint="all orders" testId="chart-status">
          {distribution && distribution.length > 0 ? (
            <Chart option={pie} theme={theme} height={220} ariaLabel="Order status distribution" />
          ) : (
            <EmptyState title="No orders yet" />
          )}
        </Card>
      </div>
    </div>
  )
}

/** The list's revenue per currency the orders came in, and what each adds in the reporting currency. */
function CurrencyBreakdown({ rows, currency }: { rows: CurrencyRow[]; currency: string }) {
  return (
    <Card title="Revenue by currency" hint={`in ${currency}`} flush testId="currency-breakdown">
      {rows.length === 0 ? (
        <EmptyState title="No orders yet" />
      ) : (
        <table className="data compact" data-testid="currency-table">
          <thead>
            <tr>
              <th>Sent in</th>
              <th className="num">Amount</th>
              <th className="num">In {currency}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.currency} data-testid="currency-row" data-currency={r.currency}>
                <td title={`${formatNumber(r.orders)} orders in the list, ${formatNumber(r.revenueOrders)} counted in revenue`}>
                  <span className="mono">{r.currency}</span>
                  <span className="money-sent">{rateText(r, currency)}</span>
                </td>
                <td className="num">{formatCurrency(r.amount, r.currency)}</td>
                <td className="num">{formatCurrency(r.reportingAmount, currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  )
}

/** The rate the orders got ("× 1.27"); a range when the rates changed between their batches. */
function rateText(r: CurrencyRow, currency: string): string {
  if (r.minRate === null || r.maxRate === null) return 'no rate'
  if (r.currency === currency && r.minRate === 1 && r.maxRate === 1) return 'reporting'
  return r.minRate === r.maxRate ? `× ${formatNumber(r.minRate, 6)}` : `× ${formatNumber(r.minRate, 6)}–${formatNumber(r.maxRate, 6)}`
}
