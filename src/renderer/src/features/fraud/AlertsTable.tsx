import { useEffect, useState } from 'react'
import { formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { Card, EmptyState, ScoreBadge } from '../../ui/Card'
import { Money } from '../../ui/Money'
import { DataTable, IdCell, num } from '../../ui/DataTable'
import { SlicePageControls } from '../../ui/PageControls'
import { SearchInput } from '../../ui/SearchInput'

const SEARCH_DELAY_MS = 250

/** An analyst's verdict on an order: pressing the current one again withdraws it. */
function LabelButtons({ orderId, current, onLabel }: { orderId: string; current?: 'fraud' | 'legit'; onLabel(orderId: string, label: 'fraud' | 'legit' | 'cleared'): Promise<void> }) {
  const button = (label: 'fraud' | 'legit', text: string) => (
    <button
      type="button"
      className={`btn small${current === label ? ' primary' : ' ghost'}`}
      aria-pressed={current === label}
      onClick={() => void onLabel(orderId, current === label ? 'cleared' : label)}
      data-testid={`label-${label}`}
    >
      {text}
    </button>
  )
  return (
    <div className="segmented" role="group" aria-label={`Label order ${orderId}`}>
      {button('fraud', 'Fraud')}
      {button('legit', 'Legit')}
    </div>
  )
}

/** Every fraud alert, newest first, a page at a time, with a search by order or customer id. */
export function AlertsTable({ threshold }: { threshold: number }) {
  const { alertBrowser, pipeline, liveUpdates } = useStores()
  const a = useSlice(alertBrowser, (s) => s)
  const alertsCommitted = useSlice(pipeline, (s) => s.status?.totals.alerts ?? 0)
  const paused = useSlice(liveUpdates, (s) => s.paused)
  const [text, setText] = useState(a.search)

  // The first page follows new alerts as they are committed, unless paused; a later page stays put while read.
  useEffect(() => {
    const s = alertBrowser.getState()
    if (!s.loaded || (s.offset === 0 && !paused)) void s.load(0)
  }, [alertBrowser, alertsCommitted, paused])

  useEffect(() => {
    if (text.trim() === alertBrowser.getState().search.trim()) return
    const t = setTimeout(() => void alertBrowser.getState().setSearch(text.trim()), SEARCH_DELAY_MS)
    return () => clearTimeout(t)
  }, [text, alertBrowser])

  const searching = a.search !== ''
  const hint = searching
    ? `${formatNumber(a.total)} of ${formatNumber(a.all)} alerts match`
    : `newest first · ${formatNumber(a.all)} alert${a.all === 1 ? '' : 's'}`

  return (
    <Card
      title="Fraud alerts"
      hint={hint}
      flush
      testId="alerts-card"
      right={
        <SlicePageControls
          page={a}
          testId="alerts"
          before={<SearchInput value={text} onChange={setText} placeholder="Search order or customer id" label="Search alerts by order or customer id" testId="alerts-search" />}
        />
      }
    >
      {a.labelError && (
        <p className="form-error" role="alert" data-testid="label-error">
          {a.labelError}
        </p>
      )}
      {a.error ? (
        <EmptyState title="Could not load the alerts">
          <p>{a.error}</p>
        </EmptyState>
      ) : a.rows.length === 0 ? (
        <EmptyState title={!a.loaded ? 'Loading…' : searching ? 'No alert matches' : 'No fraud alerts'} testId="alerts-empty">
          {a.loaded &&
            (searching ? (
              <p>No alert has an order or customer id containing “{a.search}”.</p>
            ) : (
              <p>Nothing suspicious so far. Alerts are raised when an order's score reaches {formatNumber(threshold, 1)}.</p>
            ))}
        </EmptyState>
      ) : (
        <DataTable className="alerts" testId="alerts-table" columns={['Time', 'Order', 'Customer', num('Amount'), num('Score'), 'Reasons', 'Label']}>
          {a.rows.map((r) => (
            <tr key={r.orderId} data-testid="alert-row" data-order-id={r.orderId}>
              <td className="tnum" title={r.orderTs}>
                {formatTime(r.orderTs)}
              </td>
              <IdCell id={r.orderId} />
              <IdCell id={r.customerId} />
              <td className="num">
                <Money order={r} />
              </td>
              <td className="num" title={r.rulesetVersion === null ? 'scored before ruleset versions' : `scored by ruleset version ${r.rulesetVersion}`}>
                <ScoreBadge score={r.fraudScore} threshold={threshold} />
              </td>
              <td className="reasons">
                {r.fraudReasons.map((reason) => (
                  <span className="chip" key={reason}>
                    {reason}
                  </span>
                ))}
              </td>
              <td>
                <LabelButtons orderId={r.orderId} current={a.labels[r.orderId]} onLabel={a.label} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </Card>
  )
}
