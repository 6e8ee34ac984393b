import { useEffect, useState } from 'react'
import { useSlice, useStores } from '../../stores/context'
import { hasFilters, type OrderFilters as Filters } from '../../stores/order-search'
import { PageControls } from '../../ui/PageControls'
import { SearchInput } from '../../ui/SearchInput'

const TYPE_DELAY_MS = 250
const STATUSES = ['placed', 'paid', 'shipped', 'completed', 'cancelled', 'refunded'] as const

/** Search and filters over every order in the lake; typed fields wait for a pause in typing. */
export function OrderFilters() {
  const { orderSearch } = useStores()
  const filters = useSlice(orderSearch, (s) => s.filters)
  const [orderId, setOrderId] = useState(filters.orderId)
  const [customer, setCustomer] = useState(filters.customer)
  const [currency, setCurrency] = useState(filters.currency)
  const [score, setScore] = useState(filters.minScore === null ? '' : String(filters.minScore))
  const set = (patch: Partial<Filters>) => void orderSearch.getState().setFilters(patch)

  // The store is the truth: Clear empties the fields too.
  useEffect(() => {
    setOrderId(filters.orderId)
    setCustomer(filters.customer)
    setCurrency(filters.currency)
    setScore(filters.minScore === null ? '' : String(filters.minScore))
  }, [filters])

  useEffect(() => {
    const minScore = score.trim() === '' ? null : Number(score)
    // half a currency code or score is still being typed, not a filter yet
    if ((minScore !== null && !Number.isFinite(minScore)) || ![0, 3].includes(currency.trim().length)) return
    const current = orderSearch.getState().filters
    if (orderId === current.orderId && customer === current.customer && currency.trim().toUpperCase() === current.currency && minScore === current.minScore) return
    const t = setTimeout(() => set({ orderId, customer, currency: currency.trim().toUpperCase(), minScore }), TYPE_DELAY_MS)
    return () => clearTimeout(t)
  }, [orderId, customer, currency, score])

  return (
    <div className="filters" role="search" aria-label="Filter orders" data-testid="order-filters">
      <SearchInput value={orderId} onChange={setOrderId} placeholder="Order id (exact)" label="Order id" testId="filter-order" />
      <SearchInput value={customer} onChange={setCustomer} placeholder="Customer id contains…" label="Customer id contains" testId="filter-customer" />
      <select className="input" aria-label="Status" value={filters.status} onChange={(e) => set({ status: e.target.value as Filters['status'] })} data-testid="filter-status">
        <option value="">any status</option>
        {STATUSES.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
      <input
        className="input narrow"
        placeholder="Currency"
        aria-label="Currency"
        maxLength={3}
        value={currency}
        onChange={(e) => setCurrency(e.target.value)}
        data-testid="filter-currency"
      />
      <label className="muted">
        score ≥{' '}
        <input
          type="number"
          min={0}
          step={1}
          className="input narrow"
          aria-label="Score at least"
          value={score}
          onChange={(e) => setScore(e.target.value)}
          data-testid="filter-score"
        />
      </label>
      <select className="input" aria-label="Late" value={filters.late} onChange={(e) => set({ late: e.target.value as Filters['late'] })} data-testid="filter-late">
        <option value="any">late or on time</option>
        <option value="late">late only</option>
        <option value="on-time">on time only</option>
      </select>
      {hasFilters(filters) && (
        <button type="button" className="btn small ghost" onClick={() => orderSearch.getState().clear()} data-testid="filter-clear">
          Clear
        </button>
      )}
    </div>
  )
}

/** Where the list is, and the way to the previous and next page of the whole lake. */
export function OrderPager({ liveCount }: { liveCount: number }) {
  const { orderSearch, pipeline } = useStores()
  const s = useSlice(orderSearch, (x) => x)
  const inLake = useSlice(pipeline, (x) => x.status?.totals.orders ?? 0)
  const total = s.active ? s.total : Math.max(inLake, liveCount)
  const from = total === 0 ? 0 : s.offset + 1
  const to = s.active ? Math.min(s.offset + s.rows.length, total) : liveCount
  return (
    <PageControls
      from={from}
      to={to}
      total={total}
      loading={s.loading}
      hasPrevious={s.offset > 0}
      hasNext={to < total}
      onPrevious={() => void s.load(Math.max(0, s.offset - s.limit))}
      onNext={() => void s.load(s.offset + s.limit)}
      testId="orders"
    />
  )
}
