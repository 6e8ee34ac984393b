// Shared pieces of the dashboard end-to-end tests (and scripts/screenshots.js): a real
// `streamdesk serve` process in a temp folder, Debian's Chromium driven by playwright-core, and
// bounded polling instead of fixed sleeps.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before } from 'node:test'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
export const BIN = join(ROOT, 'bin', 'streamdesk.js')
export const CHROMIUM = process.env.STREAMDESK_E2E_CHROMIUM || '/usr/bin/chromium'
export const VIEWPORT = { width: 1280, height: 800 }
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
]

const READY_LINE = /serving the dashboard at (http:\/\/\S+)/
// Every timeout here only turns a hang into a failure with a message. They are generous on
// purpose: a loaded machine may be many times slower, and its speed must never decide a test.
/** Longest wait for anything the page or the engine should do (also Playwright's default). */
export const UI_TIMEOUT_MS = 60_000
const START_TIMEOUT_MS = 90_000
/** A clean stop (SIGINT) of serve: the pipeline and generator finish their batch, the lake closes. */
const STOP_GRACE_MS = 60_000

/** Every child we spawn, so a crashing test run still kills them on exit. */
const children = new Set()
process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL')
    } catch {
      /* already gone */
    }
  }
})

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Polls `fn` until it returns a truthy value (which is returned) or `timeout` ms pass; then throws
 * with `message`, the last value or error seen, and what `detail()` (optional) returns. Exceptions
 * inside `fn` count as "not yet".
 */
export async function eventually(fn, { timeout = UI_TIMEOUT_MS, interval = 250, message = 'condition', detail } = {}) {
  const deadline = Date.now() + timeout
  let last
  let lastError
  for (;;) {
    try {
      last = await fn()
      lastError = undefined
      if (last) return last
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const seen = lastError ? `last error: ${lastError.message}` : `last value: ${JSON.stringify(last)}`
      const extra = detail ? `\n${await Promise.resolve().then(detail).catch((e) => `(no detail: ${e.message})`)}` : ''
      throw new Error(`timed out after ${timeout} ms waiting for ${message} (${seen})${extra}`)
    }
    await sleep(interval)
  }
}

/** A port nobody listens on right now (the server is started on it just after). */
export function freePort() {
  return new Promise((done, fail) => {
    const srv = createServer()
    srv.once('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => done(port))
    })
  })
}

/** "12,345.6", "$1,234.56", "€0.00" → number (NaN when there is no number in it). */
export function parseShownNumber(text) {
  const m = String(text ?? '').replace(/[,\s\u00a0\u202f]/g, '').match(/-?\d+(\.\d+)?/)
  return m ? Number(m[0]) : NaN
}

/** Writes `content` into `dir/name` the way docs/EVENTS.md recommends: hidden temp file + rename. */
export function writeAtomically(dir, name, content) {
  mkdirSync(dir, { recursive: true })
  const tmp = join(dir, `.${name}.tmp`)
  writeFileSync(tmp, content)
  renameSync(tmp, join(dir, name))
  return join(dir, name)
}

/** One valid order line (docs/EVENTS.md) whose total is the exact sum of its items. */
export function craftedOrder({ orderId, customerId = 'cus_e2e_big_spender', items, status = 'paid', ts = new Date() }) {
  const lines = items ?? [
    { product_id: 'P900001', product_name: 'E2E Diamond Watch', category: 'Jewelry & Watches', quantity: 1, unit_price: 4999.5 },
    { product_id: 'P900002', product_name: 'E2E Laptop Pro', category: 'Computers', quantity: 2, unit_price: 1250.25 }
  ]
  const cents = lines.reduce((sum, i) => sum + i.quantity * Math.round(i.unit_price * 100), 0)
  return {
    order_id: orderId,
    customer_id: customerId,
    order_ts: ts.toISOString(),
    status,
    currency: 'USD',
    total_amount: cents / 100,
    items: lines,
    payment_method: 'credit_card',
    shipping_country: 'US',
    billing_country: 'US',
    channel: 'web'
  }
}

/**
 * Starts `node bin/streamdesk.js serve` in a fresh temp folder.
 *   settings: object written to <dir>/settings.json first (paths inside may use <dir>)
 *   args:     extra CLI flags
 *   relativePaths: keep the default relative input folder and lake (data/streaming, lake), which
 *             resolve against the temp folder (the server's cwd); default: absolute paths
 * Resolves once the "serving the dashboard at" line appears on stderr.
 */
export async function startServe({ settings, args = [], name = 'e2e', relativePaths = false } = {}) {
  if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) {
    throw new Error('out/main/cli.js is missing: run `npm run build` first')
  }
  const dir = mkdtempSync(join(tmpdir(), `streamdesk-${name}-`))
  const settingsFile = join(dir, 'settings.json')
  const input = join(dir, relativePaths ? 'data/streaming' : 'input')
  const lake = join(dir, 'lake')
  const base = relativePaths
    ? { source: { kind: 'generator', inputPath: 'data/streaming' }, lakePath: 'lake' }
    : { source: { kind: 'generator', inputPath: input }, lakePath: lake }
  const merged = merge(base, typeof settings === 'function' ? settings({ dir, input, lake }) : (settings ?? {}))
  writeFileSync(settingsFile, JSON.stringify(merged, null, 2) + '\n')

  let lastError
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    try {
      const server = await spawnServe({ dir, port, settingsFile, args })
      return { ...server, dir, input, lake, settingsFile, port }
    } catch (err) {
      lastError = err
      // Exit code 4: the port was taken between freePort() and listen(); try another one.
      if (err.exitCode !== 4) break
    }
  }
  rmSync(dir, { recursive: true, force: true })
  throw lastError
}

function merge(a, b) {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return b
  const out = { ...a }
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v
  return out
}

function spawnServe({ dir, port, settingsFile, args }) {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--settings', settingsFile, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.add(child)
  let stderr = ''
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })))
  exited.then(() => children.delete(child))

  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(new Error(`streamdesk serve did not announce itself within ${START_TIMEOUT_MS} ms; stderr:\n${stderr}`))
    }, START_TIMEOUT_MS)
    child.stderr.on('data', (d) => {
      stderr += d
      const m = stderr.match(READY_LINE)
      if (m && timer) {
        clearTimeout(timer)
        done({
          url: m[1],
          child,
          output: () => ({ stdout, stderr }),
          stop: () => stopChild(child, exited)
        })
      }
    })
    exited.then(({ code, signal }) => {
      clearTimeout(timer)
      const err = new Error(`streamdesk serve exited early (code ${code}, signal ${signal}); stderr:\n${stderr}`)
      err.exitCode = code
      fail(err) // no-op if it had already announced itself
    })
  })
}

/** SIGINT, then SIGKILL after a grace period. Resolves with how it ended. */
async function stopChild(child, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return exited
  child.kill('SIGINT')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  const result = await exited
  clearTimeout(timer)
  return result
}

/** Chromium (Debian's, never a downloaded one) with a fresh profile; returns { context, page, close }. */
export async function launchBrowser({ colorScheme } = {}) {
  const { chromium } = await import('playwright-core')
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`)
  const profile = mkdtempSync(join(tmpdir(), 'streamdesk-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: VIEWPORT,
    colorScheme,
    timeout: UI_TIMEOUT_MS
  })
  context.setDefaultTimeout(UI_TIMEOUT_MS)
  const page = context.pages()[0] ?? (await context.newPage())
  const problems = []
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`)
  })
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => undefined)
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/**
 * One `streamdesk serve` and one Chromium page on it, shared by every test of the file that calls
 * this (at its top level). Registers the file's first before hook: startServe({ name, settings,
 * args, relativePaths }), then `afterStart(server)` for input that must be there before the page
 * opens, then Chromium (prefers-reduced-motion when `reducedMotion` is set) on the server's url.
 * And its first after hook: Chromium closed, serve stopped and its temp folder deleted, and a
 * failure if serve did not end by itself on SIGINT (it had to be killed). Hooks the file registers after this call run
 * after these ones (node:test runs hooks in the order they were registered).
 * The returned getters give the server, browser and page from the before hook on.
 */
export function servedSession({ afterStart, reducedMotion, ...serve } = {}) {
  let server
  let browser
  before(async () => {
    server = await startServe(serve)
    await afterStart?.(server)
    browser = await launchBrowser()
    if (reducedMotion) await browser.page.emulateMedia({ reducedMotion })
    await browser.page.goto(server.url)
  })
  after(async () => {
    await browser?.close()
    if (!server) return
    const ended = await server.stop()
    rmSync(server.dir, { recursive: true, force: true })
    assert.ok(ended.signal === null || ended.signal === 'SIGINT', `serve had to be killed (${JSON.stringify(ended)})`)
  })
  return {
    get server() {
      return server
    },
    get browser() {
      return browser
    },
    get page() {
      return browser?.page
    }
  }
}

/** The orders/ and customers/ folders of a folder source: Start refuses an input folder that is not there. */
export function makeInputFolders(server) {
  for (const sub of ['orders', 'customers']) mkdirSync(join(server.input, sub), { recursive: true })
}

/**
 * Text of a locator, trimmed (empty string when it is not there). Meant for polls and for elements
 * known to be on the page; the short wait keeps a poll of an absent element from stalling.
 */
export async function textOf(locator) {
  try {
    return ((await locator.first().textContent({ timeout: 1000 })) ?? '').trim()
  } catch {
    return ''
  }
}

/** Clicks a tab (metrics, fraud, orders, pipeline) and waits for its panel. */
export async function openTab(page, id) {
  await page.getByTestId(`tab-${id}`).click()
  await page.getByTestId(`panel-${id}`).waitFor({ state: 'visible' })
}

/** Calls the engine API the way a script would (POST /api/<name>) from Node. */
export async function api(url, name, args = {}) {
  const res = await fetch(`${url}/api/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(args)
  })
  const body = await res.json()
  if (!res.ok) throw Object.assign(new Error(`${name}: ${res.status} ${body.message}`), { status: res.status, body })
  return body
}
