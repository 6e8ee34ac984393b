import type { EngineClient } from '../../../shared/api'
import type { Connection } from './bridge'
import { IpcEngineClient, ipcConnection } from './ipc-client'
import { WsEngineClient } from './ws-client'

export interface ClientBundle {
  client: EngineClient
  connection: Connection
}

/** ws(s)://<host>/ws for the page's own origin. */
export function engineSocketUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`
}

/**
 * The desktop app's preload exposes window.streamdesk: talk IPC. Anywhere else (a browser on
 * `streamdesk serve`) talk WebSocket to the server that served the page.
 */
export function createClient(): ClientBundle {
  const bridge = window.streamdesk
  if (bridge && typeof bridge.invoke === 'function' && typeof bridge.subscribe === 'function') {
    return { client: new IpcEngineClient(bridge), connection: ipcConnection }
  }
  const ws = new WsEngineClient({ url: engineSocketUrl(window.location) })
  return { client: ws, connection: ws }
}

/** Desktop-only helpers of the preload, when present. */
export function desktopBridge() {
  const b = typeof window === 'undefined' ? undefined : window.streamdesk
  return {
    pickFolder: typeof b?.pickFolder === 'function' ? b.pickFolder.bind(b) : undefined,
    showInFolder: typeof b?.showInFolder === 'function' ? b.showInFolder.bind(b) : undefined
  }
}
