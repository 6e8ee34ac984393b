import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { ApiError, handlerArgs, type HandlerName, type Handlers } from '../../shared/api'
import { LakeError } from '../lake/lake'
import { EventBus } from './event-bus'
import type { EngineHost, EngineHostOptions } from './host'
import type { MetricsText } from './metrics'
import type { FromEngineWorker, ToEngineWorker } from './engine-worker-protocol'
import type { SecretCodec } from '../engine/secret-store'

// The EngineHost the desktop shell and `streamdesk serve` use: the same handler map and events,
// answered by the engine running in a worker thread (engine-worker.ts).

/** out/main/engine-worker.js; this module may be bundled into out/main or out/main/chunks. */
function workerUrl(): URL {
  const candidates = [new URL('./engine-worker.js', import.meta.url), new URL('../engine-worker.js', import.meta.url)]
  const found = candidates.find((u) => u.protocol === 'file:' && existsSync(fileURLToPath(u)))
  if (!found) throw new Error(`engine worker script not found (${candidates.map((u) => u.pathname).join(', ')}); run the build first`)
  return found
}

/** `codec`: kept on this thread and asked by the worker (the desktop app's safeStorage). */
export async function createWorkerEngineHost(options: EngineHostOptions, codec?: SecretCodec): Promise<EngineHost> {
  const worker = new Worker(workerUrl())
  const events = new EventBus()
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 1
  let exited = false
  const send = (m: ToEngineWorker) => worker.postMessage(m)

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (msg: FromEngineWorker) => {
      if (msg.type === 'ready') resolve()
      else if (msg.type === 'init-failed') reject(msg.name === 'LakeError' ? new LakeError(msg.message) : new Error(msg.message))
      else if (msg.type === 'event') events.emit(msg.event, msg.payload as never)
      else if (msg.type === 'secret') void answerSecret(msg.id, msg.op, msg.value)
      else if (msg.type === 'result') {
        const p = pending.get(msg.id)
        pending.delete(msg.id)
        if (!p) return
        if (msg.ok) p.resolve(msg.result)
        else p.reject(ApiError.from(msg.error))
      }
    })
    worker.on('error', (err) => reject(err))
    worker.on('exit', (code) => {
      exited = true
      reject(new Error(`engine worker exited (code ${code})`))
      for (const p of pending.values()) p.reject(new ApiError('engine', 'the engine stopped'))
      pending.clear()
    })
  })
  const answerSecret = async (id: number, op: 'encode' | 'decode', value: string) => {
    try {
      if (!codec) throw new Error('no secret codec on this side')
      send({ type: 'secret-result', id, ok: true, value: await codec[op](value) })
    } catch (err) {
      send({ type: 'secret-result', id, ok: false, message: (err as Error).message })
    }
  }
  send({ type: 'init', options, codec: codec && { name: codec.name, protection: codec.protection } })
  try {
    await ready
  } catch (err) {
    await worker.terminate()
    throw err
  }

  const request = (message: (id: number) => ToEngineWorker) =>
    new Promise<unknown>((resolve, reject) => {
      if (exited) return reject(new ApiError('engine', 'the engine stopped'))
      const id = nextId++
      pending.set(id, { resolve, reject })
      send(message(id))
    })
  const call = (name: HandlerName, args: unknown) => request((id) => ({ type: 'call', id, name, args }))
  const handlers = Object.fromEntries(
    (Object.keys(handlerArgs) as HandlerName[]).map((name) => [name, (args: unknown) => call(name, args)])
  ) as unknown as Handlers

  return {
    handlers,
    events,
    metrics: () => request((id) => ({ type: 'metrics', id })) as Promise<MetricsText>,
    async dispose() {
      if (exited) return
      const done = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      send({ type: 'dispose' })
      const timeout = setTimeout(() => void worker.terminate(), 60_000)
      await done
      clearTimeout(timeout)
    }
  }
}
