// Electron entry (electron-vite: out/main/index.js). Everything Electron-specific lives in ./shell.
import { start } from './shell/app'

start()
