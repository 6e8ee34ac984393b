import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import sirv from 'sirv'
import { WebSocketServer, WebSocket, type RawData } from 'ws'
import type { ApiErrorShape, Handlers, PushMessage, RequestMessage, ResponseMessage } from '../../shared/api'
import { dispatch, toErrorShape } from './dispatch'
import type { EventBus } from './event-bus'
import type { MetricsText } from './metrics'
import { answerMetrics } from './metrics-server'
import { DEFAULT_HTTP_PORT } from './http-port'

// `streamdesk serve`: the built renderer plus the API over HTTP on the loopback interface.
//   GET  /*            static files from staticDir (SPA fallback to index.html)
//   WS   /ws           RequestMessage -> ResponseMessage, every EventBus event as PushMessage
//   POST /api/<name>   JSON args -> JSON result, for curl users
//   GET  /metrics      Prometheus text (when the host gives `metrics`)
// There is no authentication, so the server only ever binds a loopback address, refuses
// WebSocket upgrades and API posts from foreign origins, and checks the Host header so a
// DNS-rebinding page cannot reach it under another name.

export interface HttpServerOptions {
  handlers: Handlers
  events: EventBus
  /** Folder with the built renderer (out/renderer). Missing folder: API only, a hint page on GET. */
  staticDir?: string
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** Largest accepted WebSocket message or POST body, in bytes. */
  maxMessageBytes?: number
  /** The engine's Prometheus metrics, served at GET /metrics. */
  metrics?: () => Promise<MetricsText>
}

export interface HttpServerHandle {
  /** http://HOST:PORT with the port actually bound. */
  url: string
  port: number
  close(): Promise<void>
}

export { DEFAULT_HTTP_PORT }
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
/** A client this far behind on pushes is skipped until it catches up (slow tab, suspended laptop). */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024
const HEARTBEAT_MS = 30_000

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host)
}

/** Every origin a browser may legitimately use for this server. */
function ownOrigins(host: string, port: number): Set<string> {
  const names = new Set<string>(['127.0.0.1', 'localhost', '[::1]'])
  if (host.includes(':')) names.add(`[${host.replace(/^\[|\]$/g, '')}]`)
  else names.add(host)
  return new Set([...names].map((n) => `http://${n}:${port}`))
}

function ownHostHeaders(host: string, port: number): Set<string> {
  return new Set([...ownOrigins(host, port)].map((o) => o.slice('http://'.length)))
}

export function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const {
    handlers,
    events,
    staticDir,
    host = '127.0.0.1',
    port = DEFAULT_HTTP_PORT,
    maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
    metrics
  } = options

  if (!isLoopbackHost(host)) {
    return Promise.reject(
      new Error(
        `refusing to bind ${host}: the StreamDesk server has no authentication and only listens on ` +
          `a loopback address (127.0.0.1, localhost or ::1)`
      )
    )
  }

  let boundPort = port
  const hostAllowed = (req: IncomingMessage): boolean => {
    const h = req.headers.host
    return h !== undefined && ownHostHeaders(host, boundPort).has(h.toLowerCase())
  }
  const originAllowed = (req: IncomingMessage): boolean => {
    const o = req.headers.origin
    return o === undefined || ownOrigins(host, boundPort).has(o.toLowerCase())
  }

  const serveStatic =
    staticDir && existsSync(staticDir)
      ? sirv(staticDir, {
          single: true,
          dev: false,
          etag: true,
          setHeaders: (res, pathname) => {
            res.setHeader('X-Content-Type-Options', 'nosniff')
            res.setHeader('X-Frame-Options', 'DENY')
            res.setHeader('Referrer-Policy', 'no-referrer')
            if (pathname.startsWith('/assets/')) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable')
            else res.setHeader('Cache-Control', 'no-cache')
          }
        })
      : null

  const server = createServer((req, res) => {
    handleHttp(req, res).catch((err) => {
      console.error('streamdesk http: request failed:', err)
      if (!res.headersSent) sendJson(res, 500, { type: 'engine', message: 'internal server error' })
      else res.destroy()
    })
  })

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req)) {
      sendText(res, 421, 'unexpected Host header: StreamDesk only answers on its loopback address\n')
      return
    }
    const path = (req.url ?? '/').split('?')[0]
    const isApi = path === '/api' || path.startsWith('/api/')
    // A path that cannot be decoded is the client's mistake; checked here once so neither the API
    // nor sirv (which would fall back to index.html) has to guess what it meant.
    if (!isWellEncoded(path)) {
      const message = `malformed percent-encoding in the request path ${quotePath(path)}: each % must start a %XX escape of UTF-8 bytes`
      if (isApi) sendJson(res, 400, error('validation', message))
      else sendText(res, 400, `${message}\n`)
      return
    }
    if (isApi) {
      await handleApi(req, res, decodeURIComponent(path.slice('/api/'.length)))
      return
    }
    if (path === '/metrics' && metrics) {
      await answerMetrics(req, res, metrics)
      return
    }
    if (path === '/ws') {
      sendText(res, 426, 'this endpoint speaks WebSocket\n', { Upgrade: 'websocket' })
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' })
      return
    }
    if (!serveStatic) {
      sendText(
        res,
        503,
        `The StreamDesk UI is not built${staticDir ? ` (no ${staticDir})` : ''}. Run \`npm run build\`; ` +
          `the API is available at /ws and POST /api/<method>.\n`
      )
      return
    }
    serveStatic(req, res, () => sendText(res, 404, 'not found\n'))
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (req.method !== 'POST') {
      sendJson(res, 405, error('validation', `use POST /api/${name || '<method>'} with a JSON body`), { Allow: 'POST' })
      return
    }
    if (!originAllowed(req)) {
      sendJson(res, 403, error('validation', 'cross-origin requests are not allowed'))
      return
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    if (type !== '' && type !== 'application/json') {
      sendJson(res, 415, error('validation', 'send the arguments as application/json'))
      return
    }
    let body: string
    try {
      body = await readBody(req, maxMessageBytes)
    } catch (err) {
      if (err instanceof BodyTooLargeError) sendJson(res, 413, error('validation', err.message), { Connection: 'close' })
      else sendJson(res, 400, error('validation', `request body could not be read: ${(err as Error).message}`), { Connection: 'close' })
      return
    }
    let args: unknown
    if (body.trim() !== '') {
      try {
        args = JSON.parse(body)
      } catch (err) {
        sendJson(res, 400, error('validation', `malformed JSON body: ${(err as Error).message}`))
        return
      }
    }
    let result: unknown
    try {
      result = await dispatch(handlers, name, args)
    } catch (err) {
      const shape = toErrorShape(err, name)
      sendJson(res, statusFor(shape), shape)
      return
    }
    const encoded = encodeResult(name, result)
    if (typeof encoded === 'string') sendJsonText(res, 200, encoded)
    else sendJson(res, statusFor(encoded), encoded)
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, clientTracking: true })
  const alive = new WeakMap<WebSocket, boolean>()

  server.on('upgrade', (req, socket: Socket, head) => {
    const path = (req.url ?? '/').split('?')[0]
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (path !== '/ws') return refuse(404, 'Not Found')
    if (!hostAllowed(req)) return refuse(421, 'Misdirected Request')
    if (!originAllowed(req)) return refuse(403, 'Forbidden')
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  wss.on('connection', (ws: WebSocket) => {
    alive.set(ws, true)
    ws.on('pong', () => alive.set(ws, true))
    ws.on('error', (err) => {
      // ws closes the connection itself (1009 for oversized messages); just say why.
      console.warn(`streamdesk ws: closing client connection: ${err.message}`)
    })
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // A rejection here would be unhandled and end the whole server process.
      handleWsMessage(ws, data, isBinary).catch((err) => {
        console.error('streamdesk ws: message failed:', err)
      })
    })
  })

  async function handleWsMessage(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    if (isBinary) {
      send(ws, { id: 0, ok: false, error: error('validation', 'binary messages are not supported; send JSON text') })
      return
    }
    const parsed = parseRequest(rawToString(data))
    if ('error' in parsed) {
      send(ws, { id: parsed.id, ok: false, error: parsed.error })
      return
    }
    const { id, name, args } = parsed.request
    let result: unknown
    try {
      result = await dispatch(handlers, name, args)
    } catch (err) {
      send(ws, { id, ok: false, error: toErrorShape(err, name) })
      return
    }
    const encoded = encodeResult(name, result)
    if (typeof encoded !== 'string') return send(ws, { id, ok: false, error: encoded })
    if (ws.readyState !== WebSocket.OPEN) return
    // The result is spliced in as already-encoded JSON so it is serialized (and checked) once.
    ws.send(`{"id":${id},"ok":true,"result":${encoded}}`)
  }

  const unsubscribe = events.subscribeAll((event, payload) => {
    if (wss.clients.size === 0) return
    const message: PushMessage = { event, payload }
    let text: string
    try {
      text = JSON.stringify(message)
    } catch (err) {
      console.error(`streamdesk ws: cannot serialize ${event}:`, err)
      return
    }
    for (const ws of wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue
      // Pushes are snapshots: a client that cannot keep up misses some rather than buffering forever.
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) continue
      ws.send(text)
    }
  })

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate()
        continue
      }
      alive.set(ws, false)
      ws.ping()
    }
  }, HEARTBEAT_MS)
  heartbeat.unref()

  let closing: Promise<void> | null = null
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      unsubscribe()
      clearInterval(heartbeat)
      for (const ws of wss.clients) ws.close(1001, 'server shutting down')
      wss.close()
      server.close(() => resolve())
      // Give clients a moment for the close handshake, then drop whatever is left.
      setTimeout(() => {
        for (const ws of wss.clients) ws.terminate()
        server.closeAllConnections()
      }, 200).unref()
    })
    return closing
  }

  return new Promise<HttpServerHandle>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      unsubscribe()
      clearInterval(heartbeat)
      wss.close()
      if (err.code === 'EADDRINUSE') {
        reject(
          new Error(
            `port ${port} on ${host} is already in use: stop the other process or choose another port (--port)`
          )
        )
      } else if (err.code === 'EACCES') {
        reject(new Error(`not allowed to listen on port ${port} on ${host}: choose a port above 1023 (--port)`))
      } else {
        reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`))
      }
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      server.on('error', (err) => console.error('streamdesk http: server error:', err))
      boundPort = (server.address() as AddressInfo).port
      const urlHost = host.includes(':') ? `[${host.replace(/^\[|\]$/g, '')}]` : host
      resolve({ url: `http://${urlHost}:${boundPort}`, port: boundPort, close })
    })
  })
}

// ---------------------------------------------------------------------------------------------

function error(type: ApiErrorShape['type'], message: string): ApiErrorShape {
  return { type, message }
}

/** The result as JSON text, or the error to send instead when JSON cannot express it (BigInt, cycles). */
function encodeResult(name: string, result: unknown): string | ApiErrorShape {
  try {
    // Functions and symbols have no JSON form; stringify returns undefined for them, not text.
    return JSON.stringify(result ?? null) ?? 'null'
  } catch (err) {
    return error('engine', `the result of ${name} could not be sent as JSON: ${(err as Error).message}`)
  }
}

function isWellEncoded(path: string): boolean {
  try {
    decodeURIComponent(path)
    return true
  } catch {
    return false
  }
}

/** The path for an error message: quoted, and short enough that a huge URL does not echo back whole. */
function quotePath(path: string): string {
  return JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path)
}

function statusFor(shape: ApiErrorShape): number {
  if (shape.type === 'validation') return 400
  if (shape.type === 'unknown-method') return 404
  return 500
}

function send(ws: WebSocket, message: ResponseMessage): void {
  if (ws.readyState !== WebSocket.OPEN) return
  ws.send(JSON.stringify(message))
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers)
}

function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers
  })
  res.end(text)
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
    ...headers
  })
  res.end(text)
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8')
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return Buffer.from(data).toString('utf8')
}

class BodyTooLargeError extends Error {
  constructor(max: number) {
    super(`request body larger than ${max} bytes`)
  }
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > max) {
      req.resume()
      reject(new BodyTooLargeError(max))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    req.on('data', (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > max) {
        failed = true
        reject(new BodyTooLargeError(max))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'))
    })
    req.on('error', (err) => {
      if (!failed) {
        failed = true
        reject(err)
      }
    })
  })
}

type ParsedRequest = { request: RequestMessage } | { id: number; error: ApiErrorShape }

/**
 * Checks one WebSocket text frame. Anything unusable is answered with an error carrying the
 * request's id when one can be read, else id 0 (clients number requests from 1).
 */
export function parseRequest(text: string): ParsedRequest {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { id: 0, error: error('validation', `malformed JSON message: ${(err as Error).message}`) }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { id: 0, error: error('validation', 'expected a JSON object {"id": number, "name": string, "args"?: ...}') }
  }
  const msg = value as Record<string, unknown>
  const id = msg.id
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    return { id: 0, error: error('validation', 'request "id" must be an integer') }
  }
  if (typeof msg.name !== 'string') {
    return { id, error: error('validation', 'request "name" must be a string naming an API method') }
  }
  return { request: { id, name: msg.name, args: msg.args } }
}
