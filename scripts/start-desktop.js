#!/usr/bin/env node
// `npm start`: opens the StreamDesk desktop app (the built app via `electron-vite preview`).
//
//  1. Makes sure Electron can start. The electron npm package (v45) does not ship its binary: it
//     downloads it on first use (node_modules/electron/install.js, via @electron/get, into
//     node_modules/electron/dist). We run that same download step here, visibly, and if it fails
//     (offline, no route to the release host, proxy, disk) we say so once and point at the
//     browser mode instead of printing a stack trace.
//  2. Builds with `electron-vite build` when out/ is missing or older than the sources.
//  3. Runs `electron-vite preview --skipBuild` and reports an Electron that dies during startup.
//
// Environment: ELECTRON_EXEC_PATH (use this Electron binary), ELECTRON_OVERRIDE_DIST_PATH and
// ELECTRON_MIRROR (honoured by electron's own installer), STREAMDESK_ELECTRON_DOWNLOAD_TIMEOUT
// (seconds, default 900), NO_SANDBOX=1 (pass --no-sandbox, e.g. when running as root).

import { spawn } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const BROWSER_HINT = 'Use the browser mode instead: npx streamdesk serve (then open http://127.0.0.1:8502)'

const require = createRequire(join(ROOT, 'package.json'))

/** The executable's path inside node_modules/electron/dist for this platform (as install.js names it). */
function platformExecutable() {
  switch (process.platform) {
    case 'darwin':
    case 'mas':
      return 'Electron.app/Contents/MacOS/Electron'
    case 'win32':
      return 'electron.exe'
    default:
      return 'electron'
  }
}

function isExecutable(file) {
  try {
    if (!statSync(file).isFile()) return false
    if (process.platform !== 'win32') accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Where Electron's binary is (or would be) without triggering a download, mirroring
 * node_modules/electron/index.js. Requiring 'electron' itself would start a synchronous download.
 * @returns {{ packageDir: string | null, version: string | null, binary: string | null, present: boolean, reason?: string }}
 */
export function locateElectron() {
  if (process.env.ELECTRON_EXEC_PATH) {
    const binary = resolve(process.env.ELECTRON_EXEC_PATH)
    return { packageDir: null, version: null, binary, present: isExecutable(binary) }
  }
  let packageDir
  try {
    packageDir = dirname(require.resolve('electron/package.json'))
  } catch {
    return { packageDir: null, version: null, binary: null, present: false, reason: 'the electron package is not installed (run npm install)' }
  }
  const version = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version
  const pathFile = join(packageDir, 'path.txt')
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : platformExecutable()
  const binary = process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron')
    : join(packageDir, 'dist', relative)
  return { packageDir, version, binary, present: existsSync(pathFile) && isExecutable(binary) }
}

/** Why a download failed, in one line: the installer's error plus the network cause if we can tell. */
async function downloadFailureReason(stderr, version) {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at '))
  let reason = lines.find((l) => /error|failed|denied|ENO|EACCES|ETIMEDOUT/i.test(l)) ?? lines[0] ?? 'unknown error'
  if (/fetch failed|ENOTFOUND|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|socket/i.test(reason)) {
    // @electron/get's message lacks the cause; ask the release host ourselves, briefly.
    const base = process.env.ELECTRON_MIRROR || 'https://github.com/electron/electron/releases/download/'
    const host = (() => {
      try {
        return new URL(base).host
      } catch {
        return base
      }
    })()
    try {
      await fetch(`${base.replace(/\/?$/, '/')}v${version}/SHASUMS256.txt`, { method: 'HEAD', signal: AbortSignal.timeout(5000) })
      reason += ` (but ${host} answered now; retrying may work)`
    } catch (err) {
      const cause = err?.cause?.code ?? err?.cause?.message ?? err?.name ?? String(err)
      reason = `${host} is not reachable from this machine (${cause})`
    }
  }
  return reason
}

/** Runs electron's own installer (node_modules/electron/install.js) with a time limit. */
async function downloadElectron(located) {
  const limitSeconds = Number(process.env.STREAMDESK_ELECTRON_DOWNLOAD_TIMEOUT) || 900
  console.log(`StreamDesk: the Electron ${located.version} binary is not installed yet; downloading it (first launch only)…`)
  const child = spawn(process.execPath, [join(located.packageDir, 'install.js')], {
    cwd: located.packageDir,
    stdio: ['ignore', 'inherit', 'pipe'],
    env: process.env
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill()
  }, limitSeconds * 1000)
  const code = await new Promise((res) => {
    child.on('error', (err) => {
      stderr += String(err)
      res(1)
    })
    child.on('close', (c) => res(c ?? 1))
  })
  clearTimeout(timer)
  if (timedOut) return { ok: false, reason: `downloading Electron took longer than ${limitSeconds}s` }
  if (code !== 0) return { ok: false, reason: `downloading Electron ${located.version} failed: ${await downloadFailureReason(stderr, located.version)}` }
  return { ok: true }
}

/**
 * Makes sure an Electron binary is present (downloading it like electron's launcher would).
 * @returns {Promise<{ ok: true, binary: string } | { ok: false, reason: string }>}
 */
export async function ensureElectron() {
  let located = locateElectron()
  if (!located.present && !located.binary) return { ok: false, reason: located.reason ?? 'Electron is not installed' }
  if (!located.present && process.env.ELECTRON_EXEC_PATH) {
    return { ok: false, reason: `ELECTRON_EXEC_PATH points at ${located.binary}, which is not an executable file` }
  }
  if (!located.present) {
    const download = await downloadElectron(located)
    if (!download.ok) return download
    located = locateElectron()
    if (!located.present) return { ok: false, reason: `the Electron installer finished but there is no executable at ${located.binary}` }
  }
  return { ok: true, binary: located.binary }
}

/** Reasons this machine cannot show an Electron window at all (checked before launching). */
function environmentProblem() {
  if (process.platform === 'linux') {
    if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
      return 'there is no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)'
    }
    if (process.getuid?.() === 0 && process.env.NO_SANDBOX !== '1') {
      return 'Chromium refuses to run as root with its sandbox on; run as a normal user (or set NO_SANDBOX=1 to run without the sandbox)'
    }
  }
  return null
}

function newestMtime(path) {
  let newest = 0
  const visit = (p) => {
    let st
    try {
      st = statSync(p)
    } catch {
      return
    }
    if (st.isDirectory()) {
      for (const entry of readdirSync(p)) if (entry !== 'node_modules') visit(join(p, entry))
    } else if (st.mtimeMs > newest) newest = st.mtimeMs
  }
  visit(path)
  return newest
}

/** True when out/ lacks an entry point or is older than anything it is built from. */
export function buildIsStale() {
  const outputs = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((p) => join(ROOT, p))
  if (!outputs.every((p) => existsSync(p))) return true
  const built = Math.min(...outputs.map((p) => statSync(p).mtimeMs))
  const inputs = ['src', 'electron.vite.config.ts', 'package.json', 'tsconfig.json', 'tsconfig.node.json', 'tsconfig.web.json']
  return inputs.some((p) => newestMtime(join(ROOT, p)) > built)
}

function electronViteBin() {
  const pkgDir = dirname(require.resolve('electron-vite/package.json'))
  return join(pkgDir, 'bin', 'electron-vite.js')
}

function run(args, env) {
  return new Promise((res) => {
    const child = spawn(process.execPath, [electronViteBin(), ...args], { cwd: ROOT, stdio: 'inherit', env })
    const forward = (signal) => () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    }
    const onInt = forward('SIGINT')
    const onTerm = forward('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    child.on('error', (err) => {
      console.error(err)
      res({ code: 1, signal: null })
    })
    child.on('close', (code, signal) => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      res({ code, signal })
    })
  })
}

function cannotStart(reason) {
  console.error(`\nElectron could not be started: ${reason}.\n${BROWSER_HINT}\n`)
  return 1
}

/** Startup failures within this window are reported as "could not be started". */
const STARTUP_WINDOW_MS = 20_000

export async function main() {
  const electron = await ensureElectron()
  if (!electron.ok) return cannotStart(electron.reason)
  const problem = environmentProblem()
  if (problem) return cannotStart(problem)

  const env = { ...process.env, ELECTRON_EXEC_PATH: electron.binary }
  // Set by some tools (and by Electron for its helpers); it would make Electron behave as Node.
  delete env.ELECTRON_RUN_AS_NODE

  if (buildIsStale()) {
    console.log('StreamDesk: building the app (electron-vite build)…')
    const build = await run(['build'], env)
    if (build.code !== 0) {
      console.error('\nThe build failed (see above); fix it or run `npm run build` to retry.')
      return build.code || 1
    }
  }

  const startedAt = Date.now()
  const preview = await run(['preview', '--skipBuild'], env)
  const code = preview.code ?? 1
  if (preview.signal === 'SIGINT' || preview.signal === 'SIGTERM') return 0
  if (code !== 0 && Date.now() - startedAt < STARTUP_WINDOW_MS) {
    return cannotStart(`it exited with ${preview.signal ? `signal ${preview.signal}` : `code ${code}`} during startup (its output is above)`)
  }
  if (code !== 0) console.error(`StreamDesk exited with code ${code}.`)
  return code
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err)
      process.exit(cannotStart(err instanceof Error ? err.message : String(err)))
    }
  )
}
