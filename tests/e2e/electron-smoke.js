#!/usr/bin/env node
// Electron smoke test: launches the built desktop app (out/main/index.js) with Playwright's
// Electron driver and checks that the window opens with the app's page, the header and the
// Start button render, the preload bridge reaches the engine, and the renderer is sandboxed.
//
// Electron's binary is downloaded on first use; where it is not there (e.g. a machine with no
// route to the release host) this does NOT pretend to pass: it says plainly that it did not run
// and reports status 'skipped'.
//
//   import { runElectronSmoke } from './electron-smoke.js'   → { status: 'passed' | 'skipped', reason? }
//   node tests/e2e/electron-smoke.js                          → exit 0 (passed/skipped) or 1 (failed)
//
// Requires `npm run build` first. Uses a throw-away userData folder (STREAMDESK_USER_DATA_DIR).

import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { locateElectron } from '../../scripts/start-desktop.js'

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const MAIN = join(ROOT, 'out', 'main', 'index.js')
const TIMEOUT_MS = 60_000

function skipped(reason) {
  console.log(`electron smoke test did NOT run: ${reason}`)
  return { status: 'skipped', reason }
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

/** On Linux without a display, start Xvfb if it is installed. Returns a stop function, or a reason. */
async function ensureDisplay() {
  if (process.platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY) return { env: {}, stop: () => {} }
  if (!onPath('Xvfb')) return { reason: 'no display (DISPLAY is not set and Xvfb is not installed)' }
  // -displayfd: Xvfb picks a free display itself and writes its number to fd 3 once it accepts
  // clients. Waiting for that line, not for a fixed second, is what makes a busy machine safe.
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1600x1000x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  xvfb.stderr.on('data', (d) => (stderr += d))
  const display = await new Promise((done) => {
    let out = ''
    const timer = setTimeout(() => done(null), TIMEOUT_MS)
    xvfb.stdio[3].on('data', (d) => {
      out += d
      const m = /^(\d+)\n/.exec(out)
      if (m) {
        clearTimeout(timer)
        done(`:${m[1]}`)
      }
    })
    xvfb.once('exit', () => {
      clearTimeout(timer)
      done(null)
    })
  })
  if (!display) {
    xvfb.kill()
    return { reason: `Xvfb did not start: ${stderr.trim().split('\n').pop() || 'no display number within the timeout'}` }
  }
  return { env: { DISPLAY: display }, stop: () => xvfb.kill() }
}

function check(condition, message) {
  if (!condition) throw new Error(`electron smoke test failed: ${message}`)
}

/** @returns {Promise<{ status: 'passed' | 'skipped', reason?: string }>} */
export async function runElectronSmoke() {
  const electron = locateElectron()
  if (!electron.present) {
    const where = electron.binary ?? 'node_modules/electron'
    return skipped(`no Electron binary at ${where} (this machine cannot download Electron)`)
  }
  check(existsSync(MAIN), `${MAIN} is missing; run \`npm run build\` first`)

  const display = await ensureDisplay()
  if (display.reason) return skipped(display.reason)

  const { _electron } = await import('playwright-core')
  const userData = mkdtempSync(join(tmpdir(), 'streamdesk-smoke-'))
  const env = { ...process.env, ...display.env, STREAMDESK_USER_DATA_DIR: userData }
  delete env.ELECTRON_RUN_AS_NODE
  delete env.ELECTRON_RENDERER_URL

  let app
  try {
    app = await _electron.launch({
      executablePath: electron.binary,
      args: [MAIN],
      cwd: ROOT,
      env,
      timeout: TIMEOUT_MS
    })
    const page = await app.firstWindow({ timeout: TIMEOUT_MS })
    await page.waitForLoadState('domcontentloaded')

    const url = page.url()
    check(url.startsWith('file:') && url.endsWith('/out/renderer/index.html'), `unexpected page URL ${url}`)
    const title = await page.title()
    check(/StreamDesk/.test(title), `window title is ${JSON.stringify(title)}, expected StreamDesk`)

    await page.locator('header').first().waitFor({ state: 'visible', timeout: TIMEOUT_MS })
    const start = page.getByRole('button', { name: /^\s*start\s*$/i })
    await start.first().waitFor({ state: 'visible', timeout: TIMEOUT_MS })

    // The preload bridge reaches the engine, and nothing of Node leaks into the page.
    const probe = await page.evaluate(async () => {
      const bridge = window.streamdesk
      const status = bridge ? await bridge.invoke('pipeline.status', {}) : null
      let unknownError = null
      try {
        await bridge?.invoke('no.such.method', {})
      } catch (err) {
        unknownError = err && typeof err === 'object' ? err.type ?? null : null
      }
      return {
        bridgeKeys: bridge ? Object.keys(bridge).sort() : null,
        state: status && typeof status === 'object' ? (status.state ?? status.result?.state ?? null) : null,
        unknownError,
        hasRequire: typeof globalThis.require !== 'undefined',
        hasProcess: typeof globalThis.process !== 'undefined'
      }
    })
    check(probe.bridgeKeys !== null, 'window.streamdesk is missing (preload did not run)')
    check(
      JSON.stringify(probe.bridgeKeys) === JSON.stringify(['invoke', 'pickFolder', 'showInFolder', 'subscribe']),
      `window.streamdesk exposes ${JSON.stringify(probe.bridgeKeys)}`
    )
    check(typeof probe.state === 'string', 'pipeline.status did not answer over IPC')
    check(probe.unknownError === 'unknown-method', `an unknown method was answered with ${probe.unknownError}`)
    check(!probe.hasRequire && !probe.hasProcess, 'Node globals are visible in the renderer')

    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const win = BrowserWindow.getAllWindows()[0]
      const p = win.webContents.getLastWebPreferences() ?? {}
      const [minW, minH] = win.getMinimumSize()
      return { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration, webSecurity: p.webSecurity, minW, minH }
    })
    check(prefs.contextIsolation === true && prefs.sandbox === true, `webPreferences ${JSON.stringify(prefs)}`)
    check(prefs.nodeIntegration === false && prefs.webSecurity !== false, `webPreferences ${JSON.stringify(prefs)}`)
    check(prefs.minW === 1024 && prefs.minH === 700, `minimum size ${prefs.minW}×${prefs.minH}`)

    console.log(`electron smoke test passed: "${title}", header and Start button visible, pipeline state "${probe.state}"`)
    return { status: 'passed' }
  } finally {
    if (app) await app.close().catch(() => undefined)
    display.stop()
    rmSync(userData, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runElectronSmoke().then(
    (result) => {
      if (result.status === 'skipped') console.log(`status: skipped (${result.reason})`)
      process.exit(0)
    },
    (err) => {
      console.error(err instanceof Error ? err.message : err)
      process.exit(1)
    }
  )
}
