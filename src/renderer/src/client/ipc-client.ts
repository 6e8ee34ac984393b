import type { EngineClient, EventName, HandlerArgs, HandlerName, HandlerResults, ServerEvents } from '../../../shared/api'
import type { Connection, ConnectionInfo, StreamdeskBridge } from './bridge'
import { toApiError, unwrapEnvelope } from './errors'

/** EngineClient over Electron IPC, through the preload's window.streamdesk. */
export class IpcEngineClient implements EngineClient {
  constructor(private readonly bridge: StreamdeskBridge) {}

  async invoke<N extends HandlerName>(name: N, args?: HandlerArgs<N>): Promise<HandlerResults[N]> {
    let value: unknown
    try {
      value = await this.bridge.invoke(name, args ?? {})
    } catch (err) {
      throw toApiError(err)
    }
    try {
      return unwrapEnvelope(value) as HandlerResults[N]
    } catch (err) {
      throw toApiError(err)
    }
  }

  subscribe<E extends EventName>(event: E, listener: (payload: ServerEvents[E]) => void): () => void {
    return this.bridge.subscribe(event, listener)
  }
}

/** IPC is up as long as the window exists. */
export const ipcConnection: Connection = {
  kind: 'ipc',
  get: (): ConnectionInfo => ({ state: 'open', error: null, retryAt: null, reconnects: 0 }),
  onChange: () => () => {}
}
