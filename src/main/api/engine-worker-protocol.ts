import type { ApiErrorShape, EventName } from '../../shared/api'
import type { EngineHostOptions } from './host'

// Messages between the main thread and the engine worker (engine-worker.ts).

export type ToEngineWorker =
  | { type: 'init'; options: EngineHostOptions }
  | { type: 'call'; id: number; name: string; args: unknown }
  | { type: 'metrics'; id: number }
  | { type: 'dispose' }

export type FromEngineWorker =
  | { type: 'ready' }
  | { type: 'init-failed'; message: string; name: string }
  | { type: 'result'; id: number; ok: true; result: unknown }
  | { type: 'result'; id: number; ok: false; error: ApiErrorShape }
  | { type: 'event'; event: EventName; payload: unknown }
  | { type: 'disposed' }
