import { createStore, type StoreApi } from 'zustand/vanilla'
import type { EngineClient } from '../../../shared/api'
import type { HistoryView } from '../../../shared/dto'
import type { RelativeRange } from '../../../shared/history'
import { toApiError } from '../client/errors'

// The range the Metrics and Fraud tabs show: live (the pushed snapshot) or a range of the lake's
// history, fetched from the engine (query.history). A relative range ends at the newest order, so
// it is fetched again whenever the dashboard commits a snapshot (never while paused); a custom
// range is fixed.

export type RangeChoice = 'live' | RelativeRange | 'custom'

export interface HistoryRangeState {
  range: RangeChoice
  /** ISO times of the custom range, once chosen. */
  custom: { from: string; to: string } | null
  view: HistoryView | null
  loading: boolean
  error: string | null
  select(range: 'live' | RelativeRange): Promise<void>
  selectCustom(from: string, to: string): Promise<void>
  /** New data was committed: a relative range follows it. */
  follow(): Promise<void>
}

export function createHistoryRange(client: EngineClient): StoreApi<HistoryRangeState> {
  // Answers can come back out of order while someone clicks through ranges; only the latest counts.
  let latest = 0
  return createStore<HistoryRangeState>((set, get) => {
    async function load(): Promise<void> {
      const { range, custom } = get()
      const request = ++latest
      if (range === 'live') {
        set({ view: null, loading: false, error: null })
        return
      }
      set({ loading: true })
      try {
        const view = await client.invoke('query.history', range === 'custom' ? { range, ...custom! } : { range })
        if (request === latest) set({ view, loading: false, error: null })
      } catch (err) {
        if (request === latest) set({ loading: false, error: toApiError(err).message })
      }
    }
    return {
      range: 'live',
      custom: null,
      view: null,
      loading: false,
      error: null,
      async select(range) {
        set({ range, view: null, error: null })
        await load()
      },
      async selectCustom(from, to) {
        set({ range: 'custom', custom: { from, to }, view: null, error: null })
        await load()
      },
      async follow() {
        const { range, loading } = get()
        if (range !== 'live' && range !== 'custom' && !loading) await load()
      }
    }
  })
}
