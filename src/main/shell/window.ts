import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { BrowserWindow, screen, type Rectangle } from 'electron'
import type { AppPaths } from './app-paths'

// The one application window. Sandboxed renderer with context isolation; the preload is the only
// bridge to the engine. Bounds are remembered in <userData>/window-state.json.

export interface MainWindowOptions {
  /** The app's files: out/preload/index.cjs, out/renderer/index.html, resources/icon.png. */
  paths: AppPaths
  /** ELECTRON_RENDERER_URL while running `electron-vite dev`. */
  devServerUrl?: string | null
  /** Where the window bounds are kept between runs. */
  stateFile: string
}

const DEFAULT_SIZE = { width: 1280, height: 800 }
const MIN_SIZE = { width: 1024, height: 700 }

interface WindowState {
  bounds: Rectangle
  maximized: boolean
}

function readState(file: string): WindowState | null {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<WindowState>
    const b = raw.bounds
    if (!b || ![b.x, b.y, b.width, b.height].every((n) => Number.isFinite(n))) return null
    const bounds = {
      x: Math.round(b.x),
      y: Math.round(b.y),
      width: Math.max(MIN_SIZE.width, Math.round(b.width)),
      height: Math.max(MIN_SIZE.height, Math.round(b.height))
    }
    // Only restore a position that is still (mostly) on a connected display.
    const visible = screen.getAllDisplays().some(({ workArea: w }) => {
      const overlapW = Math.min(bounds.x + bounds.width, w.x + w.width) - Math.max(bounds.x, w.x)
      const overlapH = Math.min(bounds.y + bounds.height, w.y + w.height) - Math.max(bounds.y, w.y)
      return overlapW >= 200 && overlapH >= 100
    })
    if (!visible) return null
    return { bounds, maximized: raw.maximized === true }
  } catch {
    return null
  }
}

function writeState(file: string, win: BrowserWindow): void {
  try {
    const state: WindowState = { bounds: win.getNormalBounds(), maximized: win.isMaximized() }
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify(state))
  } catch {
    // Remembering bounds is a convenience; never fail a close over it.
  }
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const state = readState(options.stateFile)
  const { icon, preload, rendererHtml } = options.paths
  const win = new BrowserWindow({
    ...(state ? state.bounds : DEFAULT_SIZE),
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'StreamDesk',
    show: false,
    backgroundColor: '#0f172a',
    autoHideMenuBar: false,
    ...(process.platform === 'linux' && existsSync(icon) ? { icon } : {}),
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false
    }
  })

  if (state?.maximized) win.maximize()

  let shown = false
  const show = (): void => {
    if (shown || win.isDestroyed()) return
    shown = true
    win.show()
  }
  win.once('ready-to-show', show)
  // If the page cannot load, show the window anyway instead of leaving an invisible process.
  win.webContents.on('did-fail-load', (_e, code, description, url, isMainFrame) => {
    if (!isMainFrame) return
    console.error(`streamdesk: the window could not load ${url}: ${description} (${code})`)
    show()
  })
  win.webContents.on('render-process-gone', (_e, details) => {
    console.error(`streamdesk: the renderer process ended (${details.reason}, exit code ${details.exitCode})`)
  })

  win.on('close', () => writeState(options.stateFile, win))

  // Load failures are reported by 'did-fail-load' above; the promise only repeats them.
  const loading = options.devServerUrl
    ? win.loadURL(options.devServerUrl)
    : win.loadFile(rendererHtml)
  loading.catch(() => undefined)
  return win
}

/** Brings the window to the front (second instance launched, notification clicked). */
export function focusWindow(win: BrowserWindow | null): void {
  if (!win || win.isDestroyed()) return
  if (win.isMinimized()) win.restore()
  if (!win.isVisible()) win.show()
  win.focus()
}
