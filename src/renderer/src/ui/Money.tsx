import { orderMoney, type OrderAmounts } from '../lib/format'

/** An order's amount in the reporting currency, with the amount as sent beneath it when that differs. */
export function Money({ order }: { order: OrderAmounts }) {
  const m = orderMoney(order)
  return (
    <span className="money" title={m.title}>
      {m.shown}
      {m.sent && <span className="money-sent">{m.sent}</span>}
    </span>
  )
}
