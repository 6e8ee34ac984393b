// Writes a large NDJSON input quickly (one writeFileSync per file) and remembers what a correct
// lake must contain: valid order ids, bad lines, duplicate lines, customers.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { REPO_ROOT } from './lake-fixtures'

export interface BulkExpectation {
  validOrderIds: Set<string>
  badOrderLines: number
  duplicateLines: number
  customerIds: Set<string>
  badCustomerLines: number
  files: string[]
  /** Next unused order number (ids are ord-<n>). */
  nextOrder: number
}

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const STATUSES = ['placed', 'paid', 'shipped', 'completed', 'cancelled', 'refunded']
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'NL']
const BAD_LINES = [
  '{"order_id": "broken',
  '[1,2,3]',
  '{"order_id":"x","customer_id":"y"}',
  'not json at all'
]

export interface BulkOptions {
  files: number
  ordersPerFile: number
  customers: number
  seed: number
  /** First order number (ids are ord-<n>); defaults to the expectation's nextOrder. */
  firstOrder?: number
  baseMs?: number
  prefix?: string
}

export function orderLine(n: number, r: () => number, baseMs: number, customers: number): string {
  const qty = 1 + Math.floor(r() * 3)
  const cents = 100 + Math.floor(r() * (r() < 0.02 ? 700_000 : 20_000))
  const unit = cents / 100
  const billing = COUNTRIES[Math.floor(r() * COUNTRIES.length)]
  return JSON.stringify({
    order_id: `ord-${n}`,
    customer_id: `cust-${Math.floor(r() * customers)}`,
    order_ts: new Date(baseMs + n * 300 - (r() < 0.01 ? 20 * 60_000 : 0)).toISOString(),
    status: STATUSES[Math.floor(r() * STATUSES.length)],
    currency: 'EUR',
    total_amount: Math.round(qty * cents) / 100,
    items: [{ product_id: `p-${n % 97}`, product_name: 'Thing', category: 'misc', quantity: qty, unit_price: unit }],
    payment_method: 'card',
    shipping_country: r() < 0.9 ? billing : COUNTRIES[Math.floor(r() * COUNTRIES.length)],
    billing_country: billing,
    channel: r() < 0.5 ? 'web' : 'mobile'
  })
}

/**
 * Writes `files` order files and two customer files under input/. About 1 in 400 order lines is
 * bad, 1 in 300 repeats an earlier order id, and a few lines are blank.
 */
export function writeBulkInput(input: string, opts: BulkOptions, exp?: BulkExpectation): BulkExpectation {
  const r = rng(opts.seed)
  const baseMs = opts.baseMs ?? Date.parse('2024-03-01T00:00:00Z')
  const e: BulkExpectation = exp ?? {
    validOrderIds: new Set(),
    badOrderLines: 0,
    duplicateLines: 0,
    customerIds: new Set(),
    badCustomerLines: 0,
    files: [],
    nextOrder: 0
  }
  const prefix = opts.prefix ?? 'bulk'
  if (opts.customers > 0) {
    for (let f = 0; f < 2; f++) {
      const lines: string[] = []
      for (let i = f; i < opts.customers; i += 2) {
        lines.push(
          JSON.stringify({
            customer_id: `cust-${i}`,
            name: `Customer ${i}`,
            email: `c${i}@example.com`,
            signup_ts: new Date(baseMs - Math.floor(r() * 48) * 3_600_000).toISOString(),
            country: COUNTRIES[i % COUNTRIES.length],
            segment: ['new', 'regular', 'vip'][i % 3]
          })
        )
        e.customerIds.add(`cust-${i}`)
      }
      lines.push('{"customer_id": "cust-bad", "segment": "gold"}')
      e.badCustomerLines++
      const path = join(input, 'customers', `${prefix}-customers-${f}.jsonl`)
      writeFileSync(path, lines.join('\n') + '\n')
      e.files.push(path)
    }
  }
  let n = opts.firstOrder ?? e.nextOrder
  for (let f = 0; f < opts.files; f++) {
    const lines: string[] = []
    for (let i = 0; i < opts.ordersPerFile; i++) {
      const x = r()
      if (x < 0.0025) {
        lines.push(BAD_LINES[Math.floor(r() * BAD_LINES.length)])
        e.badOrderLines++
      } else if (x < 0.006 && n > 10) {
        lines.push(orderLine(n - 1 - Math.floor(r() * Math.min(n - 1, 5000)), r, baseMs, opts.customers || 1000))
        e.duplicateLines++
      } else if (x < 0.007) {
        lines.push('')
      } else {
        lines.push(orderLine(n, r, baseMs, opts.customers || 1000))
        e.validOrderIds.add(`ord-${n}`)
        n++
      }
    }
    const path = join(input, 'orders', `${prefix}-${String(f).padStart(3, '0')}.jsonl`)
    writeFileSync(path, lines.join('\n') + '\n')
    e.files.push(path)
  }
  e.nextOrder = n
  return e
}

export interface Child {
  proc: ChildProcess
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves when the child printed `text` on stderr (rejects if it exits first). */
  waitFor(text: string, timeoutMs?: number): Promise<void>
}

/** SIGKILLs the children still running and empties the list: after each test, so that a failed one leaves no process behind. */
export function killLeftovers(children: Child[]): void {
  for (const c of children.splice(0)) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL')
}

/** Spawns tests/support/pipeline-child.ts with tsx. */
export function spawnPipeline(input: string, lake: string, extra: string[] = []): Child {
  return spawnTsx('tests/support/pipeline-child.ts', [input, lake, ...extra])
}

/** Runs a TypeScript file of this repository in a child process (tsx), stderr captured. */
export function spawnTsx(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' }
  })
  let err = ''
  const waiters: { text: string; resolve: () => void }[] = []
  proc.stderr!.setEncoding('utf8')
  proc.stderr!.on('data', (d: string) => {
    err += d
    for (const w of waiters.splice(0)) {
      if (err.includes(w.text)) w.resolve()
      else waiters.push(w)
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal }))
  )
  return {
    proc,
    stderr: () => err,
    exited,
    waitFor(text, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        if (err.includes(text)) return resolve()
        const timer = setTimeout(() => reject(new Error(`child did not print "${text}" in ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs)
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          }
        })
        void exited.then(({ code, signal }) => {
          clearTimeout(timer)
          if (!err.includes(text)) reject(new Error(`child exited (${code ?? signal}) before printing "${text}"; stderr:\n${err}`))
        })
      })
    }
  }
}
