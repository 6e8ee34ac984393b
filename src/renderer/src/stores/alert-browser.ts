import { createStore, type StoreApi } from 'zustand/vanilla'
import type { EngineClient } from '../../../shared/api'
import type { AlertRow } from '../../../shared/dto'
import { toApiError } from '../client/errors'

// The Fraud tab's alerts table: every alert in the lake, a page at a time, narrowed by a search
// on order or customer id. The engine does the paging and searching (query.alertPage); each
// row shows the analyst's label of the order, which can be set from the table.

export const ALERT_PAGE_SIZE = 50

export interface AlertBrowserState {
  rows: AlertRow[]
  /** Alerts matching the search (all of them without one). */
  total: number
  /** Every alert in the lake. */
  all: number
  offset: number
  limit: number
  search: string
  loading: boolean
  loaded: boolean
  error: string | null
  /** Loads the page at `offset` (default: the current one) for the current search. */
  load(offset?: number): Promise<void>
  /** A new search starts at the first page. */
  setSearch(search: string): Promise<void>
  /** Current analyst labels of the rows shown: order id → fraud or legit. */
  labels: Record<string, 'fraud' | 'legit'>
  /** Why the last label could not be saved. */
  labelError: string | null
  /** Labels an order fraud or legit; 'cleared' withdraws its label. */
  label(orderId: string, label: 'fraud' | 'legit' | 'cleared'): Promise<void>
}

export function createAlertBrowser(client: EngineClient): StoreApi<AlertBrowserState> {
  // Answers can come back out of order while someone types; only the latest request counts.
  let latest = 0
  return createStore<AlertBrowserState>((set, get) => ({
    rows: [],
    total: 0,
    all: 0,
    offset: 0,
    limit: ALERT_PAGE_SIZE,
    search: '',
    loading: false,
    loaded: false,
    error: null,
    async load(offset = get().offset) {
      const request = ++latest
      const { limit, search } = get()
      const at = Math.max(0, offset)
      set({ loading: true })
      try {
        const page = await client.invoke('query.alertPage', { limit, offset: at, search })
        if (request !== latest) return
        set({ rows: page.rows, total: page.total, all: page.all, offset: at, loading: false, loaded: true, error: null })
        // the labels of the rows shown; without them the alerts still show
        const orderIds = page.rows.map((r) => r.orderId)
        if (orderIds.length === 0) return set({ labels: {} })
        try {
          const labels = await client.invoke('labels.list', { limit: orderIds.length, orderIds })
          if (request === latest) set({ labels: Object.fromEntries(labels.map((l) => [l.orderId, l.label])), labelError: null })
        } catch (err) {
          if (request === latest) set({ labels: {}, labelError: `labels could not be read: ${toApiError(err).message}` })
        }
      } catch (err) {
        if (request !== latest) return
        set({ loading: false, loaded: true, error: toApiError(err).message })
      }
    },
    async setSearch(search) {
      set({ search })
      await get().load(0)
    },
    labels: {},
    labelError: null,
    async label(orderId, label) {
      try {
        const saved = await client.invoke('labels.set', { orderId, label })
        const labels = { ...get().labels }
        if (saved) labels[orderId] = saved.label
        else delete labels[orderId]
        set({ labels, labelError: null })
      } catch (err) {
        set({ labelError: toApiError(err).message })
      }
    }
  }))
}
