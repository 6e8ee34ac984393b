import { existsSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, safeStorage, session, shell } from 'electron'
import { createWorkerEngineHost, type EngineHost } from '../api/host'
import { APP_VERSION } from '../version'
import { PICK_FOLDER_CHANNEL, SHOW_IN_FOLDER_CHANNEL } from '../../preload/channels'
import { appPathsFrom } from './app-paths'
import { createAppUrlCheck } from './app-url'
import { pickFolder } from './dialogs'
import { bindIpc, createSenderCheck, parseExistingPath, parsePickFolderArgs } from './ipc-binding'
import { installMenu } from './menu'
import { startAlertNotifications } from './notifications'
import { installContentsHardening, installSessionSecurity } from './security'
import { safeStorageCodec } from './safe-storage-codec'
import { createMainWindow, focusWindow } from './window'

// Electron lifecycle: one instance, one engine host, one window. The engine host lives in this
// (main) process; the renderer reaches it only through the preload's IPC bridge.

/** How long quitting waits for the engine to finish its current batch and close the lake. */
const DISPOSE_TIMEOUT_MS = 30_000

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export interface StartOptions {
  /** Folder of the main bundle (out/main); the preload, renderer and icon are found from it. */
  mainDir: string
}

export function start(options: StartOptions): void {
  // Same userData folder in development and in the packaged app (whose productName is
  // StreamDesk); STREAMDESK_USER_DATA_DIR isolates test runs. Must precede the instance lock,
  // which is keyed by this folder.
  const userDataOverride = process.env.STREAMDESK_USER_DATA_DIR
  app.setName('StreamDesk')
  app.setPath(
    'userData',
    userDataOverride && isAbsolute(userDataOverride) ? userDataOverride : join(app.getPath('appData'), 'StreamDesk')
  )

  if (!app.requestSingleInstanceLock()) {
    console.log('StreamDesk is already running; focusing its window.')
    app.quit()
    return
  }

  app.enableSandbox()
  if (process.platform === 'win32') app.setAppUserModelId('com.streamdesk.app')

  const paths = appPathsFrom(options.mainDir)
  const userData = app.getPath('userData')
  const devServerUrl = !app.isPackaged && process.env.ELECTRON_RENDERER_URL ? process.env.ELECTRON_RENDERER_URL : null
  const isAppUrl = createAppUrlCheck({ rendererDir: paths.rendererDir, devServerUrl })

  let host: EngineHost | null = null
  let mainWindow: BrowserWindow | null = null
  const cleanups: (() => void)[] = []
  let quitState: 'running' | 'disposing' | 'done' = 'running'

  const openWindow = (): void => {
    const win = createMainWindow({ paths, devServerUrl, stateFile: join(userData, 'window-state.json') })
    mainWindow = win
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null
    })
  }

  app.on('second-instance', () => focusWindow(mainWindow))
  installContentsHardening(app, isAppUrl)

  // Quit = stop taking IPC, let the engine finish the current batch and close the lake, then exit.
  app.on('before-quit', (event) => {
    if (quitState === 'done') return
    event.preventDefault()
    if (quitState === 'disposing') return
    quitState = 'disposing'
    for (const w of BrowserWindow.getAllWindows()) w.hide()
    void shutdown().finally(() => {
      quitState = 'done'
      app.quit()
    })
  })

  async function shutdown(): Promise<void> {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        cleanup()
      } catch (err) {
        console.error('streamdesk: cleanup failed:', err)
      }
    }
    if (!host) return
    const current = host
    host = null
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), DISPOSE_TIMEOUT_MS)))
    try {
      const outcome = await Promise.race([current.dispose().then(() => 'done' as const), timeout])
      if (outcome === 'timeout') {
        console.error(`streamdesk: the engine did not stop within ${DISPOSE_TIMEOUT_MS / 1000}s; quitting anyway`)
      }
    } catch (err) {
      console.error('streamdesk: stopping the engine failed:', err)
    } finally {
      clearTimeout(timer)
    }
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit())

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })

  app
    .whenReady()
    .then(async () => {
      installSessionSecurity(session.defaultSession, isAppUrl, devServerUrl)
      app.setAboutPanelOptions({
        applicationName: 'StreamDesk',
        applicationVersion: APP_VERSION,
        version: `Electron ${process.versions.electron}`,
        credits: 'Real-time e-commerce analytics: generator, exactly-once pipeline, DuckDB lake, live dashboard.',
        ...(existsSync(paths.icon) ? { iconPath: paths.icon } : {})
      })

      let engine: EngineHost
      try {
        engine = await createWorkerEngineHost({ settingsFile: join(userData, 'settings.json'), baseDir: userData }, safeStorageCodec(safeStorage))
      } catch (err) {
        dialog.showErrorBox(
          'StreamDesk could not start its engine',
          `${describe(err)}\n\nSettings and data live in ${userData}.\n` +
            'The browser mode may still work: npx streamdesk serve (then open http://127.0.0.1:8502)'
        )
        quitState = 'done'
        app.exit(1)
        return
      }
      host = engine
      if (quitState !== 'running') {
        // Quit was requested while the engine was starting: shutdown() has already run.
        host = null
        await engine.dispose().catch((err: unknown) => console.error('streamdesk: stopping the engine failed:', err))
        return
      }

      cleanups.push(
        bindIpc({
          ipcMain,
          handlers: engine.handlers,
          events: engine.events,
          checkSender: createSenderCheck(
            () => (mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents.mainFrame : null),
            isAppUrl
          ),
          getEventTarget: () => (mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents : null),
          shellChannels: {
            [PICK_FOLDER_CHANNEL]: (arg) => pickFolder(mainWindow, parsePickFolderArgs(arg, isAbsolute)),
            [SHOW_IN_FOLDER_CHANNEL]: async (arg) => {
              shell.showItemInFolder(parseExistingPath(arg, existsSync, isAbsolute))
              return null
            }
          }
        })
      )
      cleanups.push(startAlertNotifications(engine, () => focusWindow(mainWindow)))
      installMenu({ getWindow: () => mainWindow, handlers: engine.handlers, baseDir: userData, paths })

      openWindow()
      app.on('activate', () => {
        if (quitState === 'running' && BrowserWindow.getAllWindows().length === 0) openWindow()
      })
    })
    .catch((err: unknown) => {
      console.error('streamdesk: startup failed:', err)
      dialog.showErrorBox('StreamDesk could not start', describe(err))
      quitState = 'done'
      app.exit(1)
    })
}
