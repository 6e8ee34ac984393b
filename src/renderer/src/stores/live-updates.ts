import { createStore, type StoreApi } from 'zustand/vanilla'

// Pause / resume of live updates: while paused, charts and tables hold still so they can be read;
// the engine keeps ingesting, pushes keep arriving and are kept (the newest snapshot, bounded
// batch and alert buffers), and resuming shows them at once.

export interface LiveUpdatesState {
  paused: boolean
  /** Epoch ms of the pause. */
  pausedAt: number | null
  /** The last committed batch when the pause began, to say how many came since. */
  batchAtPause: number | null
  /** Newer figures came and are held back until Resume. */
  heldBack: boolean
  pause(): void
  resume(): void
}

export function createLiveUpdates(opts: { lastBatchId(): number | null; onResume(): void; now?: () => number }): StoreApi<LiveUpdatesState> {
  const now = opts.now ?? Date.now
  return createStore<LiveUpdatesState>((set, get) => ({
    paused: false,
    pausedAt: null,
    batchAtPause: null,
    heldBack: false,
    pause() {
      if (get().paused) return
      set({ paused: true, pausedAt: now(), batchAtPause: opts.lastBatchId(), heldBack: false })
    },
    resume() {
      if (!get().paused) return
      set({ paused: false, pausedAt: null, batchAtPause: null, heldBack: false })
      opts.onResume()
    }
  }))
}
