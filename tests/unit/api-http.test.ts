import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { EngineClient, Handlers, PushMessage, ResponseMessage } from '../../src/shared/api'
import type { PipelineStatus } from '../../src/shared/dto'
import { defaultSettings, parseSettings } from '../../src/shared/settings'
import { EventBus } from '../../src/main/api/event-bus'
import { startHttpServer, type HttpServerHandle } from '../../src/main/api/http-server'

const status = (state: PipelineStatus['state']): PipelineStatus => ({
  state,
  message: null,
  source: { kind: 'generator', label: 'built-in generator' },
  startedAt: null,
  lastBatchId: null,
  lastBatchAt: null,
  totals: { orders: 0, alerts: 0, quarantined: 0, late: 0, duplicates: 0 },
  lagSeconds: null,
  generator: { running: false, produced: 0 }
})

const seen: { name: string; args: unknown }[] = []
const handlers = {
  'pipeline.status': async () => status('stopped'),
  'pipeline.start': async () => {
    throw new Error('input folder data/streaming is not writable')
  },
  'settings.update': async (args: { patch: Record<string, unknown> }) => ({
    settings: parseSettings(args.patch, defaultSettings()),
    restartRequired: []
  }),
  'query.alerts': async (args: { limit: number }) => {
    seen.push({ name: 'query.alerts', args })
    return []
  }
} as unknown as Handlers

let events: EventBus
let server: HttpServerHandle
let staticDir: string
const open: WebSocket[] = []

beforeAll(async () => {
  staticDir = mkdtempSync(join(tmpdir(), 'sd-static-'))
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>StreamDesk</title>')
  mkdirSync(join(staticDir, 'assets'))
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)')
  events = new EventBus()
  server = await startHttpServer({ handlers, events, staticDir, port: 0 })
})

afterEach(() => {
  for (const ws of open.splice(0)) ws.terminate()
})

afterAll(async () => {
  await server.close()
  rmSync(staticDir, { recursive: true, force: true })
})

function wsUrl(): string {
  return server.url.replace(/^http/, 'ws') + '/ws'
}

function connect(headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(), { headers })
    open.push(ws)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
}

function nextMessage<T>(ws: WebSocket): Promise<T> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)) as T)))
}

async function call(ws: WebSocket, message: unknown): Promise<ResponseMessage> {
  const reply = nextMessage<ResponseMessage>(ws)
  ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  return reply
}

describe('http server: WebSocket API', () => {
  it('answers a request with the handler result under the same id', async () => {
    const ws = await connect()
    const res = await call(ws, { id: 7, name: 'pipeline.status', args: {} })
    expect(res).toMatchObject({ id: 7, ok: true, result: { state: 'stopped' } })
  })

  it('validates arguments and applies defaults before the handler runs', async () => {
    const ws = await connect()
    seen.length = 0
    const ok = await call(ws, { id: 1, name: 'query.alerts' })
    expect(ok.ok).toBe(true)
    expect(seen).toEqual([{ name: 'query.alerts', args: { limit: 100 } }])

    const bad = await call(ws, { id: 2, name: 'query.alerts', args: { limit: 'lots' } })
    expect(bad.ok).toBe(false)
    if (bad.ok) return
    expect(bad.id).toBe(2)
    expect(bad.error.type).toBe('validation')
    expect(bad.error.fields?.[0]?.field).toBe('limit')
  })

  it('returns settings field errors in the validation shape', async () => {
    const ws = await connect()
    const res = await call(ws, { id: 3, name: 'settings.update', args: { patch: { pipeline: { triggerMs: 1 } } } })
    expect(res.ok).toBe(false)
    if (res.ok) return
    expect(res.error.type).toBe('validation')
    expect(res.error.fields).toEqual([expect.objectContaining({ field: 'pipeline.triggerMs' })])
  })

  it('reports unknown methods and engine errors', async () => {
    const ws = await connect()
    const unknown = await call(ws, { id: 4, name: 'pipeline.explode' })
    expect(unknown).toMatchObject({ id: 4, ok: false, error: { type: 'unknown-method' } })
    const engine = await call(ws, { id: 5, name: 'pipeline.start' })
    expect(engine).toMatchObject({
      id: 5,
      ok: false,
      error: { type: 'engine', message: 'input folder data/streaming is not writable' }
    })
  })

  it('answers malformed messages with an error instead of crashing', async () => {
    const ws = await connect()
    const bad = await call(ws, '{not json')
    expect(bad).toMatchObject({ id: 0, ok: false, error: { type: 'validation' } })
    if (!bad.ok) expect(bad.error.message).toMatch(/malformed JSON/)
    const noName = await call(ws, { id: 9 })
    expect(noName).toMatchObject({ id: 9, ok: false, error: { type: 'validation' } })
    const array = await call(ws, '[1,2]')
    expect(array).toMatchObject({ id: 0, ok: false })
    // still alive
    const res = await call(ws, { id: 10, name: 'pipeline.status' })
    expect(res.ok).toBe(true)
  })

  it('pushes every bus event to every connected client', async () => {
    const a = await connect()
    const b = await connect()
    const pa = nextMessage<PushMessage>(a)
    const pb = nextMessage<PushMessage>(b)
    events.emit('pipeline.state', status('running'))
    expect(await pa).toEqual({ event: 'pipeline.state', payload: status('running') })
    expect(await pb).toEqual({ event: 'pipeline.state', payload: status('running') })
    const pe = nextMessage<PushMessage>(a)
    events.emit('export.progress', { table: 'silver_orders', done: 1, total: 3 })
    expect(await pe).toEqual({ event: 'export.progress', payload: { table: 'silver_orders', done: 1, total: 3 } })
  })

  it('accepts its own origin and refuses a foreign one', async () => {
    await expect(connect({ Origin: server.url })).resolves.toBeInstanceOf(WebSocket)
    await expect(connect({ Origin: 'http://evil.example' })).rejects.toThrow(/403/)
    await expect(connect({ Origin: 'http://127.0.0.1:1' })).rejects.toThrow(/403/)
  })

  it('closes connections sending oversized messages', async () => {
    const ws = await connect()
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    ws.send(JSON.stringify({ id: 1, name: 'pipeline.status', args: { pad: 'x'.repeat(1024 * 1024 + 10) } }))
    expect(await closed).toBe(1009)
  })
})

describe('http server: with the renderer WebSocket client', () => {
  it('round-trips calls, errors and pushes', async () => {
    // Loaded by a computed path: the renderer sources belong to the web TypeScript project, and
    // importing them statically from this (node) project is an error (TS6307).
    const modulePath = '../../src/renderer/src/client/ws-client'
    const { WsEngineClient } = (await import(/* @vite-ignore */ modulePath)) as {
      WsEngineClient: new (o: { url: string; createSocket: (url: string) => unknown }) => EngineClient & { close(): void }
    }
    const client = new WsEngineClient({ url: wsUrl(), createSocket: (url) => new WebSocket(url) })
    try {
      await expect(client.invoke('pipeline.status')).resolves.toMatchObject({ state: 'stopped' })
      await expect(client.invoke('query.alerts', { limit: 0 })).rejects.toMatchObject({ type: 'validation' })
      const pushed = new Promise((resolve) => client.subscribe('alerts.new', resolve))
      events.emit('alerts.new', [])
      await expect(pushed).resolves.toEqual([])
    } finally {
      client.close()
    }
  })
})

describe('http server: POST /api and static files', () => {
  const post = (name: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body
    })

  it('runs a method and returns JSON', async () => {
    const res = await post('pipeline.status', '{}')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ state: 'stopped' })
    const empty = await post('pipeline.status')
    expect(empty.status).toBe(200)
  })

  it('maps error types to status codes', async () => {
    const bad = await post('query.alerts', JSON.stringify({ limit: 0 }))
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ type: 'validation', fields: [{ field: 'limit' }] })

    const unknown = await post('nope', '{}')
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ type: 'unknown-method' })

    const malformed = await post('pipeline.status', '{"a":')
    expect(malformed.status).toBe(400)
    expect(((await malformed.json()) as { message: string }).message).toMatch(/malformed JSON/)

    const engine = await post('pipeline.start', '{}')
    expect(engine.status).toBe(500)
    expect(await engine.json()).toMatchObject({ type: 'engine' })
  })

  it('refuses GET, foreign origins and oversized bodies', async () => {
    expect((await fetch(`${server.url}/api/pipeline.status`)).status).toBe(405)
    expect((await post('pipeline.status', '{}', { origin: 'http://evil.example' })).status).toBe(403)
    const big = await post('pipeline.status', JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }))
    expect(big.status).toBe(413)
  })

  it('serves the renderer with an SPA fallback', async () => {
    const index = await fetch(`${server.url}/`)
    expect(index.status).toBe(200)
    expect(await index.text()).toContain('StreamDesk')
    const asset = await fetch(`${server.url}/assets/app.js`)
    expect(asset.status).toBe(200)
    const deep = await fetch(`${server.url}/some/client/route`)
    expect(deep.status).toBe(200)
    expect(await deep.text()).toContain('StreamDesk')
  })
})

describe('http server: startup', () => {
  it('names the port when it is already in use', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      await expect(startHttpServer({ handlers, events: new EventBus(), port })).rejects.toThrow(
        new RegExp(`port ${port}.*already in use`)
      )
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  it('refuses to bind a non-loopback address', async () => {
    await expect(startHttpServer({ handlers, events: new EventBus(), host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /loopback/
    )
  })
})
