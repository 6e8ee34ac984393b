import type { StreamdeskBridge } from '../renderer/src/client/bridge'

// Type of window.streamdesk, the API the preload (index.ts → bridge.ts) exposes in the desktop
// app; absent in browser mode (`streamdesk serve`), hence optional.
//
// The renderer augments Window with the very same type in src/renderer/src/client/window.d.ts.
// Both declarations must name one identical type (TypeScript rejects differing redeclarations,
// and skipLibCheck would hide that for .d.ts files), so this file reuses the renderer's
// interface instead of restating it. tests/unit/ipc-binding.test.ts checks at compile time that
// the object the preload builds satisfies it.
//
// Behaviour of the preload's implementation:
//  * invoke(name, args) resolves with the handler's result; on failure it rejects with a plain
//    object { name: 'ApiError', type, message, fields? } (not an Error instance: Electron's
//    context bridge would strip type/fields from an Error).
//  * subscribe(event, cb) returns its unsubscribe function.
//  * pickFolder(defaultPath?) resolves with the chosen folder or null when cancelled.
//  * showInFolder(path) reveals an existing absolute path in the OS file manager.

declare global {
  interface Window {
    streamdesk?: StreamdeskBridge
  }
}

export type { StreamdeskBridge }
