import { parentPort } from 'node:worker_threads'
import { openSink } from './open-sink'
import { runGenerator } from './runner'
import { runOptionsFromSettings } from './settings'
import type { EventSink } from './sink'
import type { FromWorker, StartMessage, ToWorker } from './worker-protocol'

// Build entry 'generator-worker' (out/main/generator-worker.js): runs the generator off the
// main thread for the desktop app. Protocol: worker-protocol.ts; client: worker-client.ts.

const PROGRESS_EVERY_MS = 250

function requirePort(): NonNullable<typeof parentPort> {
  if (!parentPort) throw new Error('generator-worker must run in a worker thread')
  return parentPort
}
const port = requirePort()

const controller = new AbortController()
let started = false

const post = (msg: FromWorker): void => port.postMessage(msg)

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'stop') controller.abort()
  else if (msg.type === 'start' && !started) {
    started = true
    void run(msg)
  }
})

async function run(msg: StartMessage): Promise<void> {
  let sink: EventSink | null = null
  try {
    sink = await openSink(msg.sink)
    let lastPost = 0
    const summary = await runGenerator({
      ...runOptionsFromSettings(msg.settings),
      lateRate: msg.lateRate,
      batchSize: msg.batchSize,
      count: msg.count,
      sink,
      signal: controller.signal,
      onProgress: (p) => {
        const now = performance.now()
        if (now - lastPost < PROGRESS_EVERY_MS) return
        lastPost = now
        post({ type: 'progress', produced: p.orders, customers: p.customers })
      }
    })
    post({ type: 'progress', produced: summary.orders, customers: summary.customers })
    post({ type: 'done', summary })
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) })
  } finally {
    await sink?.close().catch(() => undefined)
    port.close()
  }
}
