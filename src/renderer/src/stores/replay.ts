import { createStore, type StoreApi } from 'zustand/vanilla'
import type { EngineClient } from '../../../shared/api'
import type { ReplayChunkDone } from '../../../shared/dto'
import { toApiError } from '../client/errors'

// The Pipeline tab's Replay: the lake's silver, alerts and windows derived again from bronze
// with the current settings (docs/LAKE.md, Replay), a chunk at a time, its progress pushed by
// the engine while the call runs.

export interface ReplayState {
  running: boolean
  /** The last chunk committed by the running (or last) replay. */
  progress: ReplayChunkDone | null
  /** What the last replay did, or why it could not run. */
  outcome: { message: string; ok: boolean } | null
  run(): Promise<void>
}

export function createReplay(client: EngineClient, afterRun: () => Promise<void>): StoreApi<ReplayState> {
  return createStore<ReplayState>((set, get) => ({
    running: false,
    progress: null,
    outcome: null,
    async run() {
      if (get().running) return
      set({ running: true, progress: null, outcome: null })
      const off = client.subscribe('replay.progress', (progress) => set({ progress }))
      try {
        const r = await client.invoke('lake.replay', {})
        set({
          outcome: {
            ok: true,
            message:
              r.chunks === 0
                ? 'No batch with orders to replay'
                : `Replayed ${r.batches} batches in ${r.chunks} chunks: ${r.lines} orders read, ${r.valid} valid`
          }
        })
        await afterRun()
      } catch (err) {
        set({ outcome: { ok: false, message: toApiError(err).message } })
      } finally {
        off()
        set({ running: false })
      }
    }
  }))
}
