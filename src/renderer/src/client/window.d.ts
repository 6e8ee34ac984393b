import type { StreamdeskBridge } from './bridge'

// The Electron preload (src/preload) exposes the engine API as window.streamdesk; in a plain
// browser (`streamdesk serve`) it is absent and the UI talks WebSocket instead.
declare global {
  interface Window {
    streamdesk?: StreamdeskBridge
  }
}

export {}
