import { contextBridge, ipcRenderer } from 'electron'
import { createBridge } from './bridge'

// Sandboxed preload (contextIsolation + sandbox): may only require 'electron' at run time.
// bridge.ts and channels.ts are bundled into out/preload/index.cjs; everything from src/shared
// is imported as types only.

contextBridge.exposeInMainWorld('streamdesk', createBridge(ipcRenderer))
