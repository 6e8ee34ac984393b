// Electron entry (electron-vite: out/main/index.js). Everything Electron-specific lives in ./shell;
// this file only tells it where the bundle is, so it can find out/preload and out/renderer.
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { start } from './shell/app'

start({ mainDir: dirname(fileURLToPath(import.meta.url)) })
