import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { GeneratorSettings } from '../../shared/settings'
import type { RunSummary } from './runner'
import type { SinkSpec } from './sink'
import type { FromWorker, ToWorker } from './worker-protocol'

// Runs the generator in a worker_threads Worker (the desktop app's main process stays free).
// The worker script is the 'generator-worker' build entry, emitted next to this bundle.

export interface GeneratorWorkerOptions {
  settings: GeneratorSettings
  sink: SinkSpec
  /** Max orders per file (default: 1 for interval pacing, 2500 for rate). */
  batchSize?: number
  lateRate?: number
  /** Stop after this many orders. */
  count?: number
  /** Progress, at most ~4 times a second and once at the end. */
  onProgress?: (p: { produced: number; customers: number }) => void
  /** Override the worker script (default: ./generator-worker.js next to this bundle). */
  workerUrl?: URL
  /** How long stop() waits for the current batch before terminating the worker. */
  stopTimeoutMs?: number
}

export interface GeneratorWorker {
  /** Orders produced so far (last progress report). */
  readonly produced: number
  readonly running: boolean
  /** Settles when the worker finishes (count/duration reached, stopped) or fails. */
  readonly done: Promise<RunSummary>
  /** Asks the worker to stop after its current batch; resolves with the run's summary. */
  stop(): Promise<RunSummary>
}

/**
 * out/main/generator-worker.js. This module is bundled either into an entry next to it
 * (out/main/index.js, cli.js) or into a shared chunk (out/main/chunks/*.js), so look in both.
 * STREAMDESK_GENERATOR_WORKER (a file path) overrides it.
 */
export function defaultWorkerUrl(): URL {
  // Tests run the engine from source, where no built worker sits next to this module.
  const override = process.env.STREAMDESK_GENERATOR_WORKER
  if (override) return pathToFileURL(resolve(override))
  const candidates = [new URL('./generator-worker.js', import.meta.url), new URL('../generator-worker.js', import.meta.url)]
  for (const url of candidates) {
    if (url.protocol === 'file:' && existsSync(fileURLToPath(url))) return url
  }
  throw new Error(`generator worker script not found (looked for ${candidates.map((u) => u.pathname).join(', ')}); run the build first`)
}

export function startGeneratorWorker(options: GeneratorWorkerOptions): GeneratorWorker {
  const worker = new Worker(options.workerUrl ?? defaultWorkerUrl())
  let produced = 0
  let running = true
  let settled = false
  let summary: RunSummary | null = null
  let failure: Error | null = null

  const done = new Promise<RunSummary>((resolve, reject) => {
    const finish = (): void => {
      if (settled) return
      settled = true
      running = false
      if (summary) resolve(summary)
      else reject(failure ?? new Error('generator worker exited without a summary'))
    }
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'progress') {
        produced = msg.produced
        options.onProgress?.({ produced: msg.produced, customers: msg.customers })
      } else if (msg.type === 'done') {
        summary = msg.summary
      } else if (msg.type === 'error') {
        failure = new Error(`generator: ${msg.message}`)
      }
    })
    worker.on('error', (err) => {
      failure ??= err
    })
    worker.on('exit', finish)
  })
  // A caller that only uses stop() should not see an unhandled rejection.
  done.catch(() => undefined)

  const start: ToWorker = {
    type: 'start',
    settings: options.settings,
    sink: options.sink,
    batchSize: options.batchSize,
    lateRate: options.lateRate,
    count: options.count
  }
  worker.postMessage(start)

  return {
    get produced() {
      return produced
    },
    get running() {
      return running
    },
    done,
    async stop() {
      if (running) {
        worker.postMessage({ type: 'stop' } satisfies ToWorker)
        const timeout = setTimeout(() => {
          failure ??= new Error('generator worker did not stop in time and was terminated')
          void worker.terminate()
        }, options.stopTimeoutMs ?? 15_000)
        try {
          return await done
        } finally {
          clearTimeout(timeout)
        }
      }
      return done
    }
  }
}
