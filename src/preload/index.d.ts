import type {
  ApiErrorShape,
  EventName,
  HandlerArgs,
  HandlerName,
  HandlerResults,
  ServerEvents
} from '../shared/api'

// Type of window.streamdesk, the API the preload exposes in the desktop app. It is absent in
// browser mode (`streamdesk serve`), hence optional.

/** What a failed invoke/pickFolder/showInFolder rejects with (a plain object, see bridge.ts). */
export interface StreamdeskInvokeError extends ApiErrorShape {
  name: 'ApiError'
}

export interface StreamdeskBridge {
  /** Calls an engine handler; rejects with StreamdeskInvokeError ({ name, type, message, fields? }). */
  invoke<N extends HandlerName>(name: N, args?: HandlerArgs<N>): Promise<HandlerResults[N]>
  /** Listens to an engine event; returns the unsubscribe function. */
  subscribe<E extends EventName>(event: E, listener: (payload: ServerEvents[E]) => void): () => void
  /** Native folder picker; null when cancelled. */
  pickFolder?(): Promise<string | null>
  /** Reveals an existing file or folder in the OS file manager. */
  showInFolder?(path: string): Promise<void>
}

declare global {
  interface Window {
    streamdesk?: StreamdeskBridge
  }
}
