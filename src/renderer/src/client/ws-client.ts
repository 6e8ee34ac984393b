import {
  ApiError,
  EVENT_NAMES,
  type EngineClient,
  type EventName,
  type HandlerArgs,
  type HandlerName,
  type HandlerResults,
  type RequestMessage,
  type ServerEvents
} from '../../../shared/api'
import type { Connection, ConnectionInfo } from './bridge'
import { toApiError } from './errors'

// EngineClient over the `streamdesk serve` WebSocket (/ws). Requests carry increasing ids and
// are matched to responses; pushes fan out to local listeners. When the socket drops, calls in
// flight are rejected (their effect is unknown), calls made while disconnected wait for the
// next connection (up to queueTimeoutMs), and the client reconnects with capped exponential
// backoff. The server pushes every event to every connection, so listeners need no
// re-registration; Connection.onChange tells the stores to refetch state after a reconnect.

/** The part of the browser WebSocket this client uses (a fake socket in tests). */
export interface SocketLike {
  readonly readyState: number
  onopen: ((ev: unknown) => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export type SocketFactory = (url: string) => SocketLike

export interface WsClientOptions {
  url: string
  createSocket?: SocketFactory
  /** First reconnect delay; doubles per failed attempt up to maxBackoffMs. */
  initialBackoffMs?: number
  maxBackoffMs?: number
  /** How long a call made while disconnected waits for a connection before failing. */
  queueTimeoutMs?: number
  /** 0..1; jitter source (tests pass a constant). */
  random?: () => number
  now?: () => number
}

const OPEN = 1

interface Pending {
  name: string
  resolve: (value: unknown) => void
  reject: (err: ApiError) => void
}

interface Queued extends Pending {
  id: number
  args: unknown
  timer: ReturnType<typeof setTimeout>
}

type Listener = (payload: unknown) => void

const defaultSocketFactory: SocketFactory = (url) => {
  const Ctor = (globalThis as unknown as { WebSocket?: new (url: string) => SocketLike }).WebSocket
  if (!Ctor) throw new Error('WebSocket is not available in this environment')
  return new Ctor(url)
}

export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt))
  // "Equal jitter": half fixed, half random, so many tabs do not reconnect in lockstep.
  return Math.round(base / 2 + (base / 2) * random)
}

export class WsEngineClient implements EngineClient, Connection {
  readonly kind = 'ws' as const
  private socket: SocketLike | null = null
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private queue: Queued[] = []
  private readonly listeners = new Map<EventName, Set<Listener>>()
  private readonly stateListeners = new Set<(info: ConnectionInfo) => void>()
  private info: ConnectionInfo = { state: 'connecting', error: null, retryAt: null, reconnects: 0 }
  private attempt = 0
  private everOpened = false
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private readonly createSocket: SocketFactory
  private readonly initialBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly queueTimeoutMs: number
  private readonly random: () => number
  private readonly now: () => number

  constructor(private readonly options: WsClientOptions) {
    this.createSocket = options.createSocket ?? defaultSocketFactory
    this.initialBackoffMs = options.initialBackoffMs ?? 500
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000
    this.queueTimeoutMs = options.queueTimeoutMs ?? 15_000
    this.random = options.random ?? Math.random
    this.now = options.now ?? Date.now
    this.open()
  }

  // ---- Connection ----------------------------------------------------------------------------

  get(): ConnectionInfo {
    return this.info
  }

  onChange(listener: (info: ConnectionInfo) => void): () => void {
    this.stateListeners.add(listener)
    return () => this.stateListeners.delete(listener)
  }

  get state(): ConnectionInfo['state'] {
    return this.info.state
  }

  /** Closes for good: rejects everything outstanding and stops reconnecting. */
  close(): void {
    if (this.info.state === 'closed') return
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
    const socket = this.socket
    this.socket = null
    if (socket) {
      socket.onopen = socket.onclose = socket.onmessage = socket.onerror = null
      try {
        socket.close(1000, 'client closed')
      } catch {
        // already closed
      }
    }
    this.failAll('the connection to the engine was closed')
    this.setInfo({ state: 'closed', error: null, retryAt: null })
  }

  // ---- EngineClient --------------------------------------------------------------------------

  invoke<N extends HandlerName>(name: N, args?: HandlerArgs<N>): Promise<HandlerResults[N]> {
    return new Promise<unknown>((resolve, reject) => {
      if (this.info.state === 'closed') {
        reject(new ApiError('engine', `cannot call ${name}: the connection to the engine is closed`))
        return
      }
      const id = this.nextId++
      const entry: Pending = { name, resolve, reject }
      if (this.socket && this.socket.readyState === OPEN && this.info.state === 'open') {
        this.send(id, name, args, entry)
        return
      }
      const timer = setTimeout(() => {
        this.queue = this.queue.filter((q) => q.id !== id)
        reject(
          new ApiError(
            'engine',
            `cannot call ${name}: no connection to the engine at ${this.options.url} after ` +
              `${Math.round(this.queueTimeoutMs / 1000)} s${this.info.error ? ` (${this.info.error})` : ''}`
          )
        )
      }, this.queueTimeoutMs)
      this.queue.push({ ...entry, id, args, timer })
    }) as Promise<HandlerResults[N]>
  }

  subscribe<E extends EventName>(event: E, listener: (payload: ServerEvents[E]) => void): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as Listener)
    return () => set.delete(listener as Listener)
  }

  // ---- internals -----------------------------------------------------------------------------

  private setInfo(patch: Partial<ConnectionInfo>): void {
    this.info = { ...this.info, ...patch }
    for (const l of this.stateListeners) {
      try {
        l(this.info)
      } catch (err) {
        console.error('connection listener failed:', err)
      }
    }
  }

  private open(): void {
    this.reconnectTimer = null
    let socket: SocketLike
    try {
      socket = this.createSocket(this.options.url)
    } catch (err) {
      this.scheduleReconnect(err instanceof Error ? err.message : String(err))
      return
    }
    this.socket = socket
    socket.onopen = () => {
      if (this.socket !== socket) return
      const reconnected = this.everOpened
      this.everOpened = true
      this.attempt = 0
      this.setInfo({
        state: 'open',
        error: null,
        retryAt: null,
        reconnects: this.info.reconnects + (reconnected ? 1 : 0)
      })
      const queued = this.queue
      this.queue = []
      for (const q of queued) {
        clearTimeout(q.timer)
        this.send(q.id, q.name, q.args, q)
      }
    }
    socket.onmessage = (ev) => {
      if (this.socket === socket) this.handleMessage(ev.data)
    }
    socket.onerror = () => {
      // The close event follows with the details; nothing to do here.
    }
    socket.onclose = (ev) => {
      if (this.socket !== socket) return
      this.socket = null
      const why =
        ev.code === 1006 || !ev.code
          ? `cannot reach the engine at ${this.options.url}`
          : `connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`
      this.failPending(`the connection to the engine was lost before it answered (${why})`)
      this.scheduleReconnect(why)
    }
  }

  private scheduleReconnect(error: string): void {
    if (this.info.state === 'closed') return
    const delay = backoffDelay(this.attempt, this.initialBackoffMs, this.maxBackoffMs, this.random())
    this.attempt++
    this.setInfo({ state: this.everOpened ? 'reconnecting' : 'connecting', error, retryAt: this.now() + delay })
    this.reconnectTimer = setTimeout(() => this.open(), delay)
  }

  private send(id: number, name: string, args: unknown, entry: Pending): void {
    const message: RequestMessage = args === undefined ? { id, name } : { id, name, args }
    let text: string
    try {
      text = JSON.stringify(message)
    } catch (err) {
      entry.reject(new ApiError('validation', `cannot send ${name}: arguments are not JSON (${String(err)})`))
      return
    }
    this.pending.set(id, entry)
    try {
      this.socket!.send(text)
    } catch (err) {
      this.pending.delete(id)
      entry.reject(toApiError(err))
    }
  }

  private handleMessage(data: unknown): void {
    if (typeof data !== 'string') return
    let msg: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(data)
      if (typeof parsed !== 'object' || parsed === null) return
      msg = parsed as Record<string, unknown>
    } catch {
      console.warn('ignoring a malformed message from the engine')
      return
    }
    if (typeof msg.event === 'string') {
      if (!(EVENT_NAMES as readonly string[]).includes(msg.event)) return
      for (const l of this.listeners.get(msg.event as EventName) ?? []) {
        try {
          l(msg.payload)
        } catch (err) {
          console.error(`listener for ${msg.event} failed:`, err)
        }
      }
      return
    }
    if (typeof msg.id !== 'number') return
    const entry = this.pending.get(msg.id)
    if (!entry) {
      if (msg.ok === false) console.warn('engine error without a matching request:', msg.error)
      return
    }
    this.pending.delete(msg.id)
    if (msg.ok === true) entry.resolve(msg.result)
    else entry.reject(toApiError(msg.error ?? new Error(`${entry.name} failed`)))
  }

  private failPending(message: string): void {
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const p of pending) p.reject(new ApiError('engine', `${p.name}: ${message}`))
  }

  private failAll(message: string): void {
    this.failPending(message)
    const queued = this.queue
    this.queue = []
    for (const q of queued) {
      clearTimeout(q.timer)
      q.reject(new ApiError('engine', `${q.name}: ${message}`))
    }
  }
}
