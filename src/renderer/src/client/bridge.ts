import type { EventName, HandlerName, ServerEvents } from '../../../shared/api'

/**
 * What the Electron preload exposes as `window.streamdesk` (contextBridge). invoke resolves with
 * the handler result, or with the IPC envelope `{ ok, result | error }`; both are accepted.
 * pickFolder/showInFolder exist only in the desktop app.
 */
export interface StreamdeskBridge {
  invoke(name: HandlerName, args: unknown): Promise<unknown>
  subscribe<E extends EventName>(event: E, cb: (payload: ServerEvents[E]) => void): () => void
  pickFolder?: (defaultPath?: string) => Promise<string | null | undefined>
  showInFolder?: (path: string) => Promise<void> | void
}

/** How the UI is connected to the engine; the header shows it when it is not "open". */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface ConnectionInfo {
  state: ConnectionState
  /** Why the last connection attempt failed or closed, when it did. */
  error: string | null
  /** Epoch ms of the next reconnect attempt while reconnecting. */
  retryAt: number | null
  /** How many times the connection was re-established since startup. */
  reconnects: number
}

export interface Connection {
  readonly kind: 'ipc' | 'ws'
  get(): ConnectionInfo
  /** Called on every change; a change to open with reconnects > 0 means "resync now". */
  onChange(listener: (info: ConnectionInfo) => void): () => void
}
