import { createStore, type StoreApi } from 'zustand/vanilla'
import type { EngineClient, HandlerArgs } from '../../../shared/api'
import type { OrderRow } from '../../../shared/dto'
import { toApiError } from '../client/errors'

// Recent orders' search and filters over the whole lake, a page at a time (query.orderSearch: the
// engine filters, with every value bound). Without filters, the first page is the live list.

/** As many as the live list holds, so its unfiltered first page is that list. */
export const ORDER_PAGE_SIZE = 100

export type OrderFilters = Required<Pick<NonNullable<HandlerArgs<'query.orderSearch'>>, 'orderId' | 'customer' | 'status' | 'currency' | 'minScore' | 'late'>>

export const NO_FILTERS: OrderFilters = { orderId: '', customer: '', status: '', currency: '', minScore: null, late: 'any' }

export const hasFilters = (f: OrderFilters): boolean =>
  f.orderId.trim() !== '' ||
  f.customer.trim() !== '' || f.status !== '' || f.currency.trim() !== '' || f.minScore !== null || f.late !== 'any'

export interface OrderSearchState {
  filters: OrderFilters
  rows: OrderRow[]
  total: number
  offset: number
  limit: number
  loading: boolean
  loaded: boolean
  error: string | null
  /** The table shows this search, not the live list: filters are set, or a later page is open. */
  active: boolean
  setFilters(patch: Partial<OrderFilters>): Promise<void>
  /** Just this order (a backtest sample opens it), whatever the filters were. */
  showOrder(orderId: string): Promise<void>
  clear(): void
  load(offset?: number): Promise<void>
  /** New orders were committed: a filtered first page follows them; a later page stays put while read. */
  follow(): Promise<void>
}

export function createOrderSearch(client: EngineClient): StoreApi<OrderSearchState> {
  let latest = 0
  return createStore<OrderSearchState>((set, get) => ({
    filters: NO_FILTERS,
    rows: [],
    total: 0,
    offset: 0,
    limit: ORDER_PAGE_SIZE,
    loading: false,
    loaded: false,
    error: null,
    active: false,
    async setFilters(patch) {
      const filters = { ...get().filters, ...patch }
      set({ filters })
      if (!hasFilters(filters)) {
        get().clear()
        return
      }
      await get().load(0)
    },
    showOrder(orderId) {
      return get().setFilters({ ...NO_FILTERS, orderId })
    },
    clear() {
      latest++
      set({ filters: NO_FILTERS, rows: [], total: 0, offset: 0, loading: false, loaded: false, error: null, active: false })
    },
    async load(offset = get().offset) {
      const request = ++latest
      const { limit, filters } = get()
      const at = Math.max(0, offset)
      if (at === 0 && !hasFilters(filters)) {
        get().clear()
        return
      }
      set({ loading: true, active: true })
      try {
        const page = await client.invoke('query.orderSearch', {
          limit,
          offset: at,
          ...filters,
          orderId: filters.orderId.trim(),
          customer: filters.customer.trim(),
          currency: filters.currency.trim()
        })
        if (request !== latest) return
        set({ rows: page.rows, total: page.total, offset: at, loading: false, loaded: true, error: null })
      } catch (err) {
        if (request !== latest) return
        set({ loading: false, loaded: true, error: toApiError(err).message })
      }
    },
    async follow() {
      const s = get()
      if (s.active && s.offset === 0 && !s.loading) await s.load(0)
    }
  }))
}
