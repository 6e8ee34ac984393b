import type { GeneratorSettings } from '../../shared/settings'
import type { RunSummary } from './runner'
import type { SinkSpec } from './sink'

// Messages between worker-client.ts (main thread) and worker.ts (the generator thread).

export interface StartMessage {
  type: 'start'
  settings: GeneratorSettings
  sink: SinkSpec
  batchSize?: number
  lateRate?: number
  count?: number
}

export type ToWorker = StartMessage | { type: 'stop' }

export type FromWorker =
  | { type: 'progress'; produced: number; customers: number }
  | { type: 'done'; summary: RunSummary }
  | { type: 'error'; message: string }
