import type {
  ApiErrorShape,
  EventName,
  HandlerArgs,
  HandlerName,
  HandlerResults,
  ServerEvents
} from '../shared/api'
import { EVENT_CHANNEL, INVOKE_CHANNEL, PICK_FOLDER_CHANNEL, SHOW_IN_FOLDER_CHANNEL } from './channels'

// The object exposed as window.streamdesk. Built from an ipcRenderer-like object so it can be
// tested without Electron; index.ts passes the real ipcRenderer. Only named wrappers cross the
// context bridge, never ipcRenderer itself.

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
}

/**
 * What a failed call rejects with. A plain object rather than an Error instance on purpose:
 * Electron's context bridge copies a rejected Error as a bare Error with only its message, so
 * `type` and `fields` would be lost on the way to the page. A plain object crosses intact.
 */
export interface StreamdeskInvokeError extends ApiErrorShape {
  name: 'ApiError'
}

export interface StreamdeskBridgeApi {
  invoke<N extends HandlerName>(name: N, args?: HandlerArgs<N>): Promise<HandlerResults[N]>
  subscribe<E extends EventName>(event: E, listener: (payload: ServerEvents[E]) => void): () => void
  pickFolder(defaultPath?: string): Promise<string | null>
  showInFolder(path: string): Promise<void>
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function toInvokeError(error: unknown): StreamdeskInvokeError {
  const e = isRecord(error) ? error : {}
  const type = e.type === 'validation' || e.type === 'unknown-method' || e.type === 'engine' ? e.type : 'engine'
  const message = typeof e.message === 'string' ? e.message : 'the call failed'
  const fields = Array.isArray(e.fields)
    ? e.fields
        .filter(isRecord)
        .map((f) => ({ field: String(f.field ?? ''), message: String(f.message ?? '') }))
    : undefined
  return { name: 'ApiError', type, message, ...(fields ? { fields } : {}) }
}

/** Unwraps the main process's { ok, result } | { ok: false, error } envelope. */
async function call(ipc: IpcRendererLike, channel: string, ...args: unknown[]): Promise<unknown> {
  let reply: unknown
  try {
    reply = await ipc.invoke(channel, ...args)
  } catch (err) {
    // Only happens when no handler is registered (engine still starting or shutting down).
    throw toInvokeError({ type: 'engine', message: err instanceof Error ? err.message : String(err) })
  }
  if (isRecord(reply) && reply.ok === true) return reply.result
  if (isRecord(reply) && reply.ok === false) throw toInvokeError(reply.error)
  throw toInvokeError({ type: 'engine', message: 'malformed reply from the main process' })
}

export function createBridge(ipc: IpcRendererLike): StreamdeskBridgeApi {
  const listeners = new Map<string, Set<(payload: unknown) => void>>()

  ipc.on(EVENT_CHANNEL, (_event, message) => {
    if (!isRecord(message) || typeof message.event !== 'string') return
    const set = listeners.get(message.event)
    if (!set) return
    for (const listener of [...set]) {
      try {
        listener(message.payload)
      } catch (err) {
        console.error(`streamdesk: listener for ${message.event} failed:`, err)
      }
    }
  })

  return {
    invoke(name, args) {
      return call(ipc, INVOKE_CHANNEL, { name, args }) as Promise<never>
    },
    subscribe(event, listener) {
      if (typeof event !== 'string' || typeof listener !== 'function') {
        throw new TypeError('subscribe(event: string, listener: function)')
      }
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      // Each subscription gets its own wrapper so subscribing the same function twice and
      // unsubscribing once behaves like two independent subscriptions.
      const entry = (payload: unknown): void => (listener as (p: unknown) => void)(payload)
      set.add(entry)
      let active = true
      return () => {
        if (!active) return
        active = false
        set.delete(entry)
      }
    },
    async pickFolder(defaultPath) {
      const result = await call(ipc, PICK_FOLDER_CHANNEL, typeof defaultPath === 'string' && defaultPath ? { defaultPath } : {})
      return typeof result === 'string' ? result : null
    },
    async showInFolder(path) {
      await call(ipc, SHOW_IN_FOLDER_CHANNEL, path)
    }
  }
}
