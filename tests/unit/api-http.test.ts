import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
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

describe('http server: bad requests and failing handlers never leak internals', () => {
  // Handlers that fail in the ways real code can: non-Error throws, a result JSON cannot encode,
  // and a method the schema knows but this host does not implement ('settings.get' is missing).
  const failing = {
    'pipeline.status': async () => status('stopped'),
    'query.kpis': async () => {
      throw 'disk full'
    },
    'query.windows': async () => {
      throw { code: 'EIO', detail: 'read failed' }
    },
    'query.alerts': async () => {
      throw Object.create(null)
    },
    'query.quarantine': async () => {
      throw undefined
    },
    'query.recentOrders': async () => [{ order_id: 'o-1', amount: 10n }],
    'query.batches': async () => {
      throw new TypeError('cannot read batches')
    }
  } as unknown as Handlers

  let srv: HttpServerHandle
  let port: number
  const logged: string[] = []
  let restore: (() => void) | null = null

  beforeAll(async () => {
    srv = await startHttpServer({ handlers: failing, events: new EventBus(), staticDir, port: 0 })
    port = srv.port
    // Whatever the server logs is collected, so a test can show a bad request logs no stack trace.
    const spies = (['error', 'warn', 'log'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (a instanceof Error ? String(a.stack) : String(a))).join(' '))
      })
    )
    restore = () => spies.forEach((s) => s.mockRestore())
  })

  afterEach(() => {
    logged.length = 0
  })

  afterAll(async () => {
    restore?.()
    await srv.close()
  })

  /** One request with the path sent exactly as given (fetch would normalise it). */
  function raw(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {}
  ): Promise<{ status: number; type: string; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', ...headers } },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => (text += d))
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text })
            req.destroy()
          })
        }
      )
      req.on('error', reject)
      if (headers['content-length'] !== undefined && body === undefined) req.flushHeaders()
      else req.end(body)
    })
  }

  const STACK = /\n\s+at \S|\.ts:\d+|node:internal/

  function expectNoStack(text: string): void {
    expect(text).not.toMatch(STACK)
  }

  async function api(name: string, body = '{}'): Promise<{ status: number; json: { type: string; message: string } }> {
    const res = await raw('POST', `/api/${name}`, body)
    expectNoStack(res.text)
    expect(res.type).toMatch(/^application\/json/)
    return { status: res.status, json: JSON.parse(res.text) as { type: string; message: string } }
  }

  it('answers a malformed method path with a 400 naming the problem, and logs nothing', async () => {
    for (const path of ['/api/%', '/api/query.%zz', '/api/%E0%A4%A']) {
      const res = await raw('POST', path, '{}')
      expect(res.status).toBe(400)
      expect(res.type).toMatch(/^application\/json/)
      expectNoStack(res.text)
      const body = JSON.parse(res.text) as { type: string; message: string }
      expect(body.type).toBe('validation')
      expect(body.message).toContain('malformed percent-encoding')
      expect(body.message).toContain(path)
    }
    const get = await raw('GET', '/api/%')
    expect(get.status).toBe(400)
    expect(logged).toEqual([])
  })

  it('answers a malformed static file path with a 400, and logs nothing', async () => {
    for (const path of ['/%', '/assets/%zz.js', '/a%E0%A4%A']) {
      const res = await raw('GET', path)
      expect(res.status).toBe(400)
      expect(res.text).toContain('malformed percent-encoding')
      expectNoStack(res.text)
    }
    expect(logged).toEqual([])
  })

  it('turns whatever a handler throws into a message, never a stack trace', async () => {
    expect(await api('query.kpis')).toEqual({ status: 500, json: { type: 'engine', message: 'disk full' } })
    const obj = await api('query.windows')
    expect(obj.status).toBe(500)
    expect(obj.json.message).toContain('EIO')
    const bare = await api('query.alerts')
    expect(bare.status).toBe(500)
    expect(bare.json).toMatchObject({ type: 'engine', message: expect.stringContaining('query.alerts') })
    const nothing = await api('query.quarantine')
    expect(nothing.status).toBe(500)
    expect(nothing.json).toMatchObject({ type: 'engine', message: expect.stringContaining('query.quarantine') })
    const typeError = await api('query.batches')
    expect(typeError).toEqual({ status: 500, json: { type: 'engine', message: 'cannot read batches' } })
  })

  it('reports a result that cannot be sent as JSON', async () => {
    const res = await api('query.recentOrders')
    expect(res.status).toBe(500)
    expect(res.json.type).toBe('engine')
    expect(res.json.message).toMatch(/query\.recentOrders.*JSON/)
  })

  it('names a method this server does not implement and an unknown one', async () => {
    const missing = await api('settings.get')
    expect(missing.status).toBe(404)
    expect(missing.json).toMatchObject({ type: 'unknown-method', message: expect.stringContaining('settings.get') })
    const unknown = await api('__proto__')
    expect(unknown.status).toBe(404)
    expect(unknown.json).toMatchObject({ type: 'unknown-method', message: expect.stringContaining('__proto__') })
  })

  it('answers bad bodies with a reason and no stack trace', async () => {
    const malformed = await api('pipeline.status', '{"a": tru')
    expect(malformed.status).toBe(400)
    expect(malformed.json.message).toMatch(/^malformed JSON body: /)
    const args = await api('query.kpis', '[1,2]')
    expect(args.status).toBe(400)
    expect(args.json.message).toMatch(/^invalid arguments for query\.kpis: /)
    // Only the headers go out: the server must answer from the declared length alone, and no
    // unsent body can race the server's close of the connection.
    const big = await raw('POST', '/api/pipeline.status', undefined, { 'content-length': String(1024 * 1024 + 1) })
    expect(big.status).toBe(413)
    expectNoStack(big.text)
    expect((JSON.parse(big.text) as { message: string }).message).toBe('request body larger than 1048576 bytes')
    expect(logged).toEqual([])
  })

  it('answers bad WebSocket messages and failing handlers on the same connection, which stays open', async () => {
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const s = new WebSocket(`ws://127.0.0.1:${port}/ws`)
      open.push(s)
      s.once('open', () => resolve(s))
      s.once('error', reject)
    })
    const replies: ResponseMessage[] = []
    for (const message of [
      '{"id": 1, "name": ',
      '"just a string"',
      { id: 2.5, name: 'pipeline.status' },
      { id: 3, name: 42 },
      { id: 4, name: 'query.kpis' },
      { id: 5, name: 'query.alerts' },
      { id: 6, name: 'query.quarantine' },
      { id: 7, name: 'query.recentOrders' },
      { id: 8, name: 'settings.get' },
      { id: 9, name: 'query.kpis', args: { minutes: 'x' } }
    ]) {
      const reply = await call(ws, message)
      expectNoStack(JSON.stringify(reply))
      replies.push(reply)
    }
    const binary = nextMessage<ResponseMessage>(ws)
    ws.send(Buffer.from([1, 2, 3]), { binary: true })
    replies.push(await binary)
    expect(replies.map((r) => [r.id, r.ok ? 'ok' : r.error.type])).toEqual([
      [0, 'validation'],
      [0, 'validation'],
      [0, 'validation'],
      [3, 'validation'],
      [4, 'engine'],
      [5, 'engine'],
      [6, 'engine'],
      [7, 'engine'],
      [8, 'unknown-method'],
      [9, 'validation'],
      [0, 'validation']
    ])
    for (const r of replies) if (!r.ok) expect(r.error.message.length).toBeGreaterThan(5)
    const alive = await call(ws, { id: 10, name: 'pipeline.status' })
    expect(alive).toMatchObject({ id: 10, ok: true })
  })
})
