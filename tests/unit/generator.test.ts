import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CHANNELS, ORDER_STATUSES, SEGMENTS, type CustomerEvent, type OrderEvent } from '../../src/shared/events'
import { isCountryCode } from '../../src/shared/iso-codes'
import { DEFAULT_FX_RATES, defaultSettings } from '../../src/shared/settings'
import { CliError } from '../../src/main/cli/errors'
import { parseGenerateOptions, registerGenerate, runGenerate } from '../../src/main/cli/commands/generate'
import {
  EventFactory,
  FRAUD_SCENARIOS,
  FileSink,
  isoTimestamp,
  runGenerator,
  startGeneratorWorker,
  type EventBatch,
  type EventSink
} from '../../src/main/generator'
import { until } from '../support/wait'

const START = Date.parse('2026-11-24T10:00:00.000Z')
/** A fake clock: every reading is `stepMs` later (one reading per order). */
const fakeClock = (stepMs = 50, start = START) => {
  let t = start - stepMs
  return () => (t += stepMs)
}

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'streamdesk-gen-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})
let dirSeq = 0
const freshDir = () => join(root, `run-${++dirSeq}`)

const MIN = 60_000
const cents = (x: number) => Math.round(x * 100)

/** An order's total in USD as the engine converts it with the default rates, rounded to cents. */
const usd = (o: OrderEvent) => Math.round(cents(o.total_amount) * (o.currency === 'USD' ? 1 : DEFAULT_FX_RATES[o.currency])) / 100

/** The engine's default fraud rules, re-implemented over a stream of events. */
function scoreAll(orders: OrderEvent[], customers: CustomerEvent[]): Map<string, number> {
  const signup = new Map(customers.map((c) => [c.customer_id, Date.parse(c.signup_ts)]))
  const byCustomer = new Map<string, number[]>()
  for (const o of orders) {
    const list = byCustomer.get(o.customer_id) ?? []
    list.push(Date.parse(o.order_ts))
    byCustomer.set(o.customer_id, list)
  }
  for (const list of byCustomer.values()) list.sort((a, b) => a - b)
  const scores = new Map<string, number>()
  for (const o of orders) {
    const ts = Date.parse(o.order_ts)
    const amount = usd(o)
    let s = 0
    if (amount > 5000) s += 4
    else if (amount > 3000) s += 3
    else if (amount > 2000) s += 2
    if (o.status === 'cancelled' || o.status === 'refunded') s += 1
    const within = byCustomer.get(o.customer_id)!.filter((t) => t <= ts && t > ts - 10 * MIN).length
    if (within >= 3) s += 2
    const su = signup.get(o.customer_id)
    if (su !== undefined && ts - su < 24 * 60 * MIN && amount > 1000) s += 2
    if (o.billing_country !== o.shipping_country) s += 1
    scores.set(o.order_id, s)
  }
  return scores
}

async function readStream(dir: string, stream: 'orders' | 'customers'): Promise<{ names: string[]; text: string }> {
  const names = (await readdir(join(dir, stream))).sort((a, b) => seqOf(a) - seqOf(b))
  let text = ''
  for (const n of names) text += await readFile(join(dir, stream, n), 'utf8')
  return { names, text }
}
const seqOf = (name: string) => Number(/-(\d{6})-[0-9a-f]+\.jsonl$/.exec(name)?.[1] ?? Number.NaN)
const parseLines = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T)

describe('EventFactory', () => {
  it('is reproducible: same seed and clock → identical events, different seed → different', () => {
    const a = new EventFactory({ seed: 42, now: fakeClock() }).take(5000)
    const b = new EventFactory({ seed: 42, now: fakeClock() }).take(5000)
    const c = new EventFactory({ seed: 43, now: fakeClock() }).take(5000)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    expect(JSON.stringify(a.orders)).not.toBe(JSON.stringify(c.orders))
    expect(a.orders[0].order_ts).toBe('2026-11-24T10:00:00.000+00:00')
  })

  it('every order and customer satisfies the input contract', () => {
    const f = new EventFactory({ seed: 7, now: fakeClock(), fraudRate: 0.1, lateRate: 0.02 })
    const { orders, customers } = f.take(30_000)
    expect(orders).toHaveLength(30_000)
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/
    const orderKeys = JSON.stringify([
      'order_id',
      'customer_id',
      'order_ts',
      'status',
      'currency',
      'total_amount',
      'items',
      'payment_method',
      'shipping_country',
      'billing_country',
      'channel'
    ])
    const bad: string[] = []
    const check = (ok: boolean, what: string, x: unknown) => {
      if (!ok && bad.length < 10) bad.push(`${what}: ${JSON.stringify(x)}`)
    }
    const seenOrderIds = new Set<string>()
    for (const o of orders) {
      check(JSON.stringify(Object.keys(o)) === orderKeys, 'fields', o)
      check(!seenOrderIds.has(o.order_id) && /^ord_[0-9a-f]{16}$/.test(o.order_id), 'order_id', o)
      seenOrderIds.add(o.order_id)
      check(iso.test(o.order_ts), 'order_ts', o)
      check(ORDER_STATUSES.includes(o.status), 'status', o)
      check(CHANNELS.includes(o.channel), 'channel', o)
      // a currency the engine has a default rate for, so no order of the generator is quarantined
      check(o.currency === 'USD' || DEFAULT_FX_RATES[o.currency] !== undefined, 'currency', o)
      check(isCountryCode(o.shipping_country) && isCountryCode(o.billing_country), 'countries', o)
      check(/^[a-z_]+$/.test(o.payment_method), 'payment_method', o)
      check(o.items.length >= 1 && o.items.length <= 5, 'item count', o)
      let sum = 0
      for (const it of o.items) {
        check(Number.isInteger(it.quantity) && it.quantity >= 1, 'quantity', it)
        check(it.unit_price > 0 && Math.abs(cents(it.unit_price) - it.unit_price * 100) < 1e-6, 'unit_price', it)
        check(/^P\d{6}$/.test(it.product_id) && it.product_name.length > 3 && it.category.length > 2, 'product', it)
        sum += it.quantity * cents(it.unit_price)
      }
      // total_amount is the exact sum of quantity * unit_price, in cents.
      check(o.total_amount === sum / 100, 'total_amount', o)
    }
    const ids = new Set<string>()
    for (const c of customers) {
      check(!ids.has(c.customer_id) && /^cus_[0-9a-f]{12}$/.test(c.customer_id), 'customer_id', c)
      ids.add(c.customer_id)
      check(SEGMENTS.includes(c.segment), 'segment', c)
      check(isCountryCode(c.country), 'country', c)
      check(/^[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+$/.test(c.email), 'email', c)
      check(/^\S.* \S/.test(c.name), 'name', c)
      check(iso.test(c.signup_ts), 'signup_ts', c)
    }
    expect(bad).toEqual([])
    // Returning customers reuse ids; many orders but fewer customers.
    expect(customers.length).toBeLessThan(orders.length * 0.6)
    expect(new Set(orders.map((o) => o.customer_id)).size).toBe(customers.length)
    // Realistic status mix.
    const share = (s: string) => orders.filter((o) => o.status === s).length / orders.length
    expect(share('cancelled')).toBeGreaterThan(0.03)
    expect(share('cancelled')).toBeLessThan(0.08)
    expect(share('refunded')).toBeGreaterThan(0.015)
    expect(share('refunded')).toBeLessThan(0.05)
    expect(new Set(orders.map((o) => o.currency)).size).toBeGreaterThan(1)
    expect(new Set(orders.flatMap((o) => o.items.map((i) => i.category))).size).toBe(10)
  })

  it('emits a customer before (or in the same batch as) its first order, and signup precedes it', () => {
    const f = new EventFactory({ seed: 3, now: fakeClock() })
    const known = new Map<string, number>()
    for (let b = 0; b < 200; b++) {
      const batch = f.take(50)
      for (const c of batch.customers) known.set(c.customer_id, Date.parse(c.signup_ts))
      for (const o of batch.orders) {
        expect(known.has(o.customer_id)).toBe(true)
        expect(known.get(o.customer_id)!).toBeLessThan(Date.parse(o.order_ts))
      }
    }
  })

  for (const rate of [0.03, 0.1]) {
    it(`fraud share follows fraudRate=${rate} and every scenario occurs`, () => {
      const f = new EventFactory({ seed: 11, now: fakeClock(), fraudRate: rate })
      const { orders, customers } = f.take(100_000)
      const scores = scoreAll(orders, customers)
      const alerts = [...scores.values()].filter((s) => s >= 3).length
      const fraudOrders = FRAUD_SCENARIOS.reduce((s, k) => s + f.stats.fraud[k], 0)
      expect(fraudOrders / orders.length).toBeGreaterThan(rate * 0.85)
      expect(fraudOrders / orders.length).toBeLessThan(rate * 1.15)
      // Every scenario order scores >= 3 under the default rules; ordinary orders stay below.
      expect(alerts).toBe(fraudOrders)
      for (const k of FRAUD_SCENARIOS) expect(f.stats.fraud[k]).toBeGreaterThan(orders.length * rate * 0.05)

      // The scenarios are visible in the data itself.
      expect(orders.some((o) => o.total_amount > 5000)).toBe(true)
      expect(orders.some((o) => o.total_amount > 3000 && o.total_amount <= 5000)).toBe(true)
      expect(orders.filter((o) => o.billing_country !== o.shipping_country).length).toBeGreaterThan(orders.length * rate * 0.3)
      const signup = new Map(customers.map((c) => [c.customer_id, Date.parse(c.signup_ts)]))
      expect(
        orders.some((o) => o.total_amount > 1000 && Date.parse(o.order_ts) - signup.get(o.customer_id)! < 24 * 60 * MIN)
      ).toBe(true)
      // Bursts: 3+ orders of one customer within two minutes.
      const times = new Map<string, number[]>()
      for (const o of orders) {
        const list = times.get(o.customer_id) ?? []
        list.push(Date.parse(o.order_ts))
        times.set(o.customer_id, list)
      }
      const bursts = [...times.values()].filter((ts) => ts.some((t, i) => i >= 2 && t - ts[i - 2] <= 2 * MIN)).length
      expect(bursts).toBeGreaterThan(10)
    })
  }

  it('fraudRate 0 produces no order that would alert', () => {
    const f = new EventFactory({ seed: 5, now: fakeClock(), fraudRate: 0 })
    const { orders, customers } = f.take(50_000)
    const scores = scoreAll(orders, customers)
    expect(Math.max(...scores.values())).toBeLessThan(3)
  })

  it('makes ~lateRate of orders late by 11-30 minutes', () => {
    const clock = fakeClock()
    let last = 0
    const now = () => (last = clock())
    const f = new EventFactory({ seed: 9, now, lateRate: 0.01 })
    let late = 0
    for (let i = 0; i < 50_000; i++) {
      const batch: EventBatch = { orders: [], customers: [] }
      f.next(batch)
      const lag = last - Date.parse(batch.orders[0].order_ts)
      if (lag > 0) {
        expect(lag).toBeGreaterThanOrEqual(11 * MIN)
        expect(lag).toBeLessThanOrEqual(30 * MIN)
        late++
      }
    }
    expect(late).toBe(f.stats.late)
    expect(late / 50_000).toBeGreaterThan(0.007)
    expect(late / 50_000).toBeLessThan(0.013)
  })

  it('formats timestamps as ISO-8601 with an offset', () => {
    expect(isoTimestamp(Date.parse('2026-11-24T10:00:00.123Z'))).toBe('2026-11-24T10:00:00.123+00:00')
    expect(isoTimestamp(Date.parse('2026-11-24T10:00:01.007Z'))).toBe('2026-11-24T10:00:01.007+00:00')
  })

  it('rejects shares outside 0..1', () => {
    expect(() => new EventFactory({ fraudRate: 1.5 })).toThrow(/fraudRate/)
    expect(() => new EventFactory({ lateRate: -0.1 })).toThrow(/lateRate/)
  })
})

describe('FileSink + runner', () => {
  it('same seed → byte-identical file content, different seed → different', async () => {
    const run = async (seed: number) => {
      const dir = freshDir()
      const sink = new FileSink({ dir })
      await runGenerator({ sink, seed, now: fakeClock(), pace: { kind: 'max' }, count: 3000, batchSize: 400 })
      return { orders: await readStream(dir, 'orders'), customers: await readStream(dir, 'customers') }
    }
    const a = await run(1)
    const b = await run(1)
    const c = await run(2)
    expect(a.orders.text).toBe(b.orders.text)
    expect(a.customers.text).toBe(b.customers.text)
    expect(a.orders.text).not.toBe(c.orders.text)
    expect(parseLines(a.orders.text)).toHaveLength(3000)
    expect(a.orders.names.every((n) => /^orders-\d{8}T\d{9}Z-\d{6}-[0-9a-f]+\.jsonl$/.test(n))).toBe(true)
    expect(a.orders.names).toHaveLength(Math.ceil(3000 / 400))
  })

  it('files appear atomically, customers files before their orders files', async () => {
    const dir = freshDir()
    const sink = new FileSink({ dir })
    const checked = new Set<string>()
    /** Batch sequence numbers whose orders file was seen while its customers file was not. */
    const ordersBeforeCustomers = new Set<number>()
    let polls = 0
    let generating = true
    /** Writes waiting for a poll that starts after they finished (`after` = polls started then). */
    let pollWaiters: { after: number; resolve: () => void }[] = []
    const visibleNames = async (stream: string) =>
      (await readdir(join(dir, stream)).catch(() => [] as string[])).filter((n) => !n.startsWith('.'))
    const poll = async () => {
      while (generating) {
        const started = ++polls
        // Orders first: a customers file listed afterwards may be newer, never older.
        const orderNames = await visibleNames('orders')
        const customerSeqs = new Set((await visibleNames('customers')).map(seqOf))
        for (const n of orderNames) if (!customerSeqs.has(seqOf(n))) ordersBeforeCustomers.add(seqOf(n))
        for (const path of orderNames.map((n) => join(dir, 'orders', n))) {
          if (checked.has(path)) continue
          const text = await readFile(path, 'utf8')
          // Complete the moment it is visible: ends with a newline and every line parses.
          expect(text.endsWith('\n')).toBe(true)
          for (const line of text.slice(0, -1).split('\n')) JSON.parse(line)
          checked.add(path)
        }
        const waiting = pollWaiters
        pollWaiters = waiting.filter((w) => w.after >= started)
        for (const w of waiting) if (w.after < started) w.resolve()
        await new Promise((r) => setImmediate(r))
      }
    }
    // Every write waits until a whole poll has run after it, so the watcher inspects each file
    // while generation goes on, however the two happen to interleave on a given machine.
    const observed: EventSink = {
      write: async (batch) => {
        await sink.write(batch)
        const after = polls
        await new Promise<void>((resolve) => pollWaiters.push({ after, resolve }))
      },
      close: () => sink.close()
    }
    const watcher = poll()
    const summary = await runGenerator({ sink: observed, seed: 21, pace: { kind: 'max' }, count: 40_000, batchSize: 500 })
    generating = false
    await watcher
    expect(summary.orders).toBe(40_000)
    expect(polls).toBeGreaterThan(80)
    expect(checked.size).toBe(80)

    // Final state: no temp files left; orders files seen without their customers file belong to
    // batches that had no new customers; every order's customer is in a customers file of the
    // same or an earlier batch.
    const orderFiles = await readdir(join(dir, 'orders'))
    const customerFiles = await readdir(join(dir, 'customers'))
    expect(orderFiles).toHaveLength(80)
    expect([...orderFiles, ...customerFiles].some((n) => n.startsWith('.') || n.endsWith('.tmp'))).toBe(false)
    const customerSeqs = new Set(customerFiles.map(seqOf))
    for (const seq of ordersBeforeCustomers) expect(customerSeqs.has(seq)).toBe(false)
    const firstSeq = new Map<string, number>()
    for (const n of customerFiles) {
      for (const c of parseLines<CustomerEvent>(await readFile(join(dir, 'customers', n), 'utf8'))) {
        firstSeq.set(c.customer_id, Math.min(firstSeq.get(c.customer_id) ?? Infinity, seqOf(n)))
      }
    }
    for (const n of orderFiles) {
      for (const o of parseLines<OrderEvent>(await readFile(join(dir, 'orders', n), 'utf8'))) {
        expect(firstSeq.get(o.customer_id)).toBeLessThanOrEqual(seqOf(n))
      }
    }
  })

  it('stops after --count orders', async () => {
    const dir = freshDir()
    const summary = await runGenerator({ sink: new FileSink({ dir }), pace: { kind: 'rate', perSecond: 100_000 }, count: 1234 })
    expect(summary.stopReason).toBe('count')
    expect(summary.orders).toBe(1234)
    expect(parseLines((await readStream(dir, 'orders')).text)).toHaveLength(1234)
  })

  /**
   * Runs the generator on a fake clock (its timers and performance.now) into a sink that only
   * counts: pacing is then exact, where with real time a busy machine's late timers would decide
   * how many orders fit into the run.
   */
  async function pacedRun(options: Omit<Parameters<typeof runGenerator>[0], 'sink'>) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    try {
      const writes: number[] = []
      const sink: EventSink = {
        write: async (batch) => void writes.push(batch.orders.length),
        close: async () => undefined
      }
      const run = runGenerator({ ...options, sink })
      await vi.runAllTimersAsync()
      return { summary: await run, writes }
    } finally {
      vi.useRealTimers()
    }
  }

  it('paces by rate and stops after --duration', async () => {
    const { summary, writes } = await pacedRun({ pace: { kind: 'rate', perSecond: 200 }, durationSeconds: 1 })
    expect(summary.stopReason).toBe('duration')
    expect(summary.elapsedMs).toBe(1000)
    expect(summary.orders).toBe(200)
    // Flushed every 250 ms: several batches, not one. Order k is due at k × 5 ms, so the flush at
    // 250 ms already holds order 50.
    expect(writes).toEqual([51, 50, 50, 49])
    expect(summary.batches).toBe(4)
  })

  it('paces by interval: one order (one write) every S seconds', async () => {
    const { summary, writes } = await pacedRun({ pace: { kind: 'interval', seconds: 0.2 }, durationSeconds: 1 })
    expect(summary.orders).toBe(5)
    expect(writes).toEqual([1, 1, 1, 1, 1])
  })

  it('stops cleanly on abort, after the batch in hand', async () => {
    const dir = freshDir()
    const controller = new AbortController()
    // Aborts once a first batch is written, so there is one whatever the machine's speed.
    const summary = await runGenerator({ sink: new FileSink({ dir }), pace: { kind: 'max' }, signal: controller.signal, onProgress: () => controller.abort() })
    expect(summary.stopReason).toBe('aborted')
    expect(summary.orders).toBeGreaterThan(0)
    const all = await readdir(join(dir, 'orders'))
    expect(all.some((n) => n.endsWith('.tmp'))).toBe(false)
    expect(parseLines((await readStream(dir, 'orders')).text)).toHaveLength(summary.orders)
  })

  it('propagates sink failures', async () => {
    const failing: EventSink = {
      write: async () => {
        throw new Error('disk full')
      },
      close: async () => undefined
    }
    await expect(runGenerator({ sink: failing, pace: { kind: 'max' }, count: 10 })).rejects.toThrow('disk full')
  })
})

describe('generate command', () => {
  const err = (flags: Parameters<typeof parseGenerateOptions>[0]) => {
    try {
      parseGenerateOptions(flags)
    } catch (e) {
      expect(e).toBeInstanceOf(CliError)
      return (e as Error).message
    }
    throw new Error('expected a CliError')
  }

  it('validates flags with messages naming the flag', () => {
    expect(err({ rate: 'abc' })).toBe("--rate must be a positive number (orders per second) or 'max', got 'abc'")
    expect(err({ rate: '-5' })).toMatch(/^--rate must be a positive number/)
    expect(err({ interval: '0' })).toBe("--interval must be a positive number of seconds, got '0'")
    expect(err({ interval: '2', rate: '10' })).toMatch(/--interval and --rate are mutually exclusive/)
    expect(err({ count: '1.5' })).toBe("--count must be a positive integer, got '1.5'")
    expect(err({ count: '0' })).toMatch(/^--count must be a positive integer/)
    expect(err({ duration: 'soon' })).toMatch(/^--duration must be a positive number of seconds, got 'soon'/)
    expect(err({ seed: '4.2' })).toBe("--seed must be an integer, got '4.2'")
    expect(err({ fraudRate: '3' })).toMatch(/^--fraud-rate must be a number between 0 and 1/)
    expect(err({ lateRate: 'x' })).toMatch(/^--late-rate must be a number between 0 and 1/)
    expect(err({ batchSize: '0' })).toBe("--batch-size must be a positive integer, got '0'")
    expect(err({ mode: 'kafka' })).toMatch(/--mode kafka needs --kafka-servers/)
    expect(err({ mode: 'kafka', kafkaServers: 'localhost' })).toMatch(/--kafka-servers must be HOST:PORT/)
    expect(err({ mode: 'kafka', kafkaServers: 'k:9092', kafkaCompression: 'lz4' })).toMatch(/--kafka-compression must be/)
    expect(err({ mode: 'smtp' })).toBe("--mode must be 'file' or 'kafka', got 'smtp'")
  })

  it('parses valid flags', () => {
    const d = parseGenerateOptions({})
    expect(d.pace).toEqual({ kind: 'interval', seconds: 2 })
    expect(d.fraudRate).toBe(0.03)
    expect(d.seed).toBeNull()
    expect(d.output).toMatch(/data[/\\]streaming$/)
    const c = parseGenerateOptions({ rate: 'max', count: '10', seed: '-3', fraudRate: '0.1', batchSize: '50', output: 'x' })
    expect(c.pace).toEqual({ kind: 'max' })
    expect(c).toMatchObject({ count: 10, seed: -3, fraudRate: 0.1, batchSize: 50 })
    expect(parseGenerateOptions({ rate: '2.5e3' }).pace).toEqual({ kind: 'rate', perSecond: 2500 })
    expect(parseGenerateOptions({ interval: '0.5', duration: '3' })).toMatchObject({
      pace: { kind: 'interval', seconds: 0.5 },
      durationSeconds: 3
    })
  })

  it('wires the flags through commander', async () => {
    const program = new Command().exitOverride()
    registerGenerate(program)
    await expect(program.parseAsync(['node', 'streamdesk', 'generate', '--rate', 'abc'])).rejects.toThrow(
      "--rate must be a positive number (orders per second) or 'max', got 'abc'"
    )
    const dir = freshDir()
    const lines: string[] = []
    const errors = console.error
    console.error = (line: string) => lines.push(line)
    try {
      await program.parseAsync(['node', 'streamdesk', 'generate', '-o', dir, '--rate', 'max', '--count', '25', '--seed', '8'])
    } finally {
      console.error = errors
    }
    expect(parseLines((await readStream(dir, 'orders')).text)).toHaveLength(25)
    expect(lines.at(-1)).toMatch(/^generate: done \(reached --count\): 25 orders, .* seed 8$/)
  })

  it('runGenerate stops on its signal and reports', async () => {
    const dir = freshDir()
    const controller = new AbortController()
    const lines: string[] = []
    const summary = await runGenerate(parseGenerateOptions({ output: dir, rate: '100' }), {
      // Stops once a progress line is out, rather than after a pause it may or may not fill.
      log: (l) => {
        lines.push(l)
        if (/orders\/s over the last \d+ s$/.test(l)) controller.abort()
      },
      signal: controller.signal,
      progressSeconds: 0.1
    })
    expect(summary.stopReason).toBe('aborted')
    expect(lines.some((l) => /orders\/s over the last \d+ s$/.test(l))).toBe(true)
    expect(lines.at(-1)).toMatch(/^generate: done \(stopped\)/)
  })
})

// The worker runs the built bundle (npm test builds first); GENERATOR_WORKER_JS may point elsewhere.
const builtWorker =
  process.env.GENERATOR_WORKER_JS ?? fileURLToPath(new URL('../../out/main/generator-worker.js', import.meta.url))
describe.skipIf(!existsSync(builtWorker))('generator worker (built bundle)', () => {
  it('runs in a worker thread, reports progress and stops after its current batch', async () => {
    const dir = freshDir()
    const progress: number[] = []
    const settings = { ...defaultSettings().generator, pace: 'rate' as const, ratePerSecond: 2000, seed: 5 }
    const w = startGeneratorWorker({
      settings,
      sink: { kind: 'file', dir },
      workerUrl: pathToFileURL(builtWorker),
      onProgress: (p) => progress.push(p.produced)
    })
    await until('two progress reports from the worker', () => progress.length >= 2, { detail: () => progress })
    const summary = await w.stop()
    expect(w.running).toBe(false)
    expect(summary.stopReason).toBe('aborted')
    expect(progress.length).toBeGreaterThan(1)
    expect(summary.orders).toBe(progress.at(-1))
    expect(parseLines((await readStream(dir, 'orders')).text)).toHaveLength(summary.orders)
  })

  it('ends by itself when the count is reached', async () => {
    const dir = freshDir()
    const settings = { ...defaultSettings().generator, pace: 'rate' as const, ratePerSecond: 100_000, seed: 6 }
    const w = startGeneratorWorker({ settings, sink: { kind: 'file', dir }, count: 500, workerUrl: pathToFileURL(builtWorker) })
    const summary = await w.done
    expect(summary).toMatchObject({ orders: 500, stopReason: 'count' })
  })
})
