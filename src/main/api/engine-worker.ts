import { parentPort } from 'node:worker_threads'
import { createEngineHost } from './engine-host'
import { dispatch, toErrorShape } from './dispatch'
import type { EngineHost } from './host'
import type { SecretCodec } from '../engine/secret-store'
import type { FromEngineWorker, ToEngineWorker } from './engine-worker-protocol'

// Worker-thread entry: the whole engine (sources, pipeline loop, DuckDB, generator control)
// runs here, so whatever JavaScript it does never delays the thread that serves windows or
// HTTP. The main thread keeps only a proxy (worker-engine-host.ts).

if (!parentPort) throw new Error('engine-worker must run in a worker thread')
const port = parentPort
const post = (m: FromEngineWorker) => port.postMessage(m)
let host: EngineHost | null = null

// The secret codec of the main thread, asked over the port (safeStorage cannot run in a worker).
const codecCalls = new Map<number, { resolve: (v: string) => void; reject: (e: Error) => void }>()
let nextCodecCall = 1
function hostCodec(about: { name: string; protection: string }): SecretCodec {
  const ask = (op: 'encode' | 'decode', value: string) =>
    new Promise<string>((resolve, reject) => {
      const id = nextCodecCall++
      codecCalls.set(id, { resolve, reject })
      post({ type: 'secret', id, op, value })
    })
  return { ...about, encode: (v) => ask('encode', v), decode: (v) => ask('decode', v) }
}

port.on('message', async (msg: ToEngineWorker) => {
  if (msg.type === 'init') {
    try {
      host = await createEngineHost(msg.options, msg.codec ? hostCodec(msg.codec) : undefined)
      host.events.subscribeAll((event, payload) => post({ type: 'event', event, payload }))
      post({ type: 'ready' })
    } catch (err) {
      post({ type: 'init-failed', message: (err as Error).message, name: (err as Error).name })
    }
  } else if (msg.type === 'secret-result') {
    const call = codecCalls.get(msg.id)
    codecCalls.delete(msg.id)
    if (msg.ok) call?.resolve(msg.value)
    else call?.reject(new Error(msg.message))
  } else if (msg.type === 'call') {
    if (!host) return post({ type: 'result', id: msg.id, ok: false, error: { type: 'engine', message: 'engine not ready' } })
    try {
      post({ type: 'result', id: msg.id, ok: true, result: await dispatch(host.handlers, msg.name, msg.args) })
    } catch (err) {
      post({ type: 'result', id: msg.id, ok: false, error: toErrorShape(err, msg.name) })
    }
  } else if (msg.type === 'metrics') {
    if (!host) return post({ type: 'result', id: msg.id, ok: false, error: { type: 'engine', message: 'engine not ready' } })
    try {
      post({ type: 'result', id: msg.id, ok: true, result: await host.metrics() })
    } catch (err) {
      post({ type: 'result', id: msg.id, ok: false, error: toErrorShape(err, 'metrics') })
    }
  } else if (msg.type === 'dispose') {
    await host?.dispose().catch(() => undefined)
    host = null
    post({ type: 'disposed' })
    port.close()
  }
})
