import type { ApiErrorShape, EventName } from '../../shared/api'
import type { EngineHostOptions } from './host'

// Messages between the main thread and the engine worker (engine-worker.ts).

export type ToEngineWorker =
  /** `codec`: the main thread keeps the secret codec (Electron's safeStorage lives there). */
  | { type: 'init'; options: EngineHostOptions; codec?: { name: string; protection: string } }
  | { type: 'secret-result'; id: number; ok: true; value: string }
  | { type: 'secret-result'; id: number; ok: false; message: string }
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
  | { type: 'secret'; id: number; op: 'encode' | 'decode'; value: string }
