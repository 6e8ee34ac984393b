import { createStore, type StoreApi } from 'zustand/vanilla'
import type { EngineClient } from '../../../shared/api'
import { STOPPED_HEALTH, type HealthState } from '../../../shared/health'

// The pipeline's health for the banner: fetched on start and after a reconnect, then pushed by
// the engine whenever a condition fires or resolves or the pipeline turns idle, working or stuck.

export interface HealthStore {
  health: HealthState
  refresh(): Promise<void>
}

export function createHealth(client: EngineClient): { store: StoreApi<HealthStore>; off: () => void } {
  const store = createStore<HealthStore>((set) => ({
    health: STOPPED_HEALTH,
    async refresh() {
      try {
        set({ health: await client.invoke('query.health', {}) })
      } catch {
        // the next push brings it; the banner shows nothing it does not know
      }
    }
  }))
  const off = client.subscribe('health.state', (health) => store.setState({ health }))
  return { store, off }
}
