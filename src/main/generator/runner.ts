import { EventFactory, type FactoryOptions, type FactoryStats } from './event-factory'
import { emptyBatch, type EventSink } from './sink'
import { DEFAULT_PACE } from './defaults'

// Paces the event factory and hands batches to a sink: one order every S seconds, N orders per
// second, or as fast as the sink takes them; stops on --count, --duration or an AbortSignal,
// always after finishing (flushing) the batch in hand.

export type Pace =
  | { kind: 'interval'; seconds: number }
  | { kind: 'rate'; perSecond: number }
  /** As fast as possible. */
  | { kind: 'max' }

export { DEFAULT_PACE }
/** Max orders per batch (file) when pacing by rate / max; interval pacing defaults to 1. */
export const DEFAULT_RATE_BATCH_SIZE = 2500
/** With a rate, a batch is flushed at least this often, so latency stays low. */
export const DEFAULT_FLUSH_INTERVAL_MS = 250
/** Orders generated between clock/flush checks when running flat out. */
const CHUNK = 1024

export interface RunOptions extends FactoryOptions {
  sink: EventSink
  pace?: Pace
  /** Stop after this many orders. */
  count?: number
  /** Stop after this many seconds. */
  durationSeconds?: number
  /** Max orders per batch (one orders file per batch). */
  batchSize?: number
  /** Rate/max pacing: flush a non-empty batch at least this often (ms). */
  flushIntervalMs?: number
  signal?: AbortSignal
  /** Called after every batch written. */
  onProgress?: (progress: RunProgress) => void
  /** Use this factory instead of creating one from the FactoryOptions. */
  factory?: EventFactory
}

export interface RunProgress {
  orders: number
  customers: number
  batches: number
  elapsedMs: number
}

export type StopReason = 'count' | 'duration' | 'aborted'

export interface RunSummary extends RunProgress {
  seed: number
  stopReason: StopReason
  late: number
  fraud: FactoryStats['fraud']
}

/** Resolves after `ms`, or early when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, Math.max(0, ms))
    signal?.addEventListener('abort', done, { once: true })
  })
}

function validate(o: RunOptions, pace: Pace): void {
  const positive = (name: string, v: number | undefined, integer = false): void => {
    if (v === undefined) return
    if (!(Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) {
      throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`)
    }
  }
  if (pace.kind === 'interval') positive('pace.seconds', pace.seconds)
  if (pace.kind === 'rate') positive('pace.perSecond', pace.perSecond)
  positive('count', o.count, true)
  positive('durationSeconds', o.durationSeconds)
  positive('batchSize', o.batchSize, true)
  positive('flushIntervalMs', o.flushIntervalMs)
}

export async function runGenerator(options: RunOptions): Promise<RunSummary> {
  const pace = options.pace ?? DEFAULT_PACE
  validate(options, pace)
  const factory = options.factory ?? new EventFactory(options)
  const { sink, signal, onProgress } = options
  const perMs = pace.kind === 'interval' ? 1 / (pace.seconds * 1000) : pace.kind === 'rate' ? pace.perSecond / 1000 : Infinity
  const flushMs = pace.kind === 'interval' ? Infinity : (options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS)
  const batchSize = options.batchSize ?? (pace.kind === 'interval' ? 1 : DEFAULT_RATE_BATCH_SIZE)
  const limit = options.count ?? Infinity

  const t0 = performance.now()
  const deadline = options.durationSeconds ? t0 + options.durationSeconds * 1000 : Infinity
  const startOrders = factory.stats.orders
  const startCustomers = factory.stats.customers
  let produced = 0
  let pending = 0
  let batches = 0
  let batch = emptyBatch()
  let lastFlush = t0
  let stop: StopReason | null = null
  let inFlight: Promise<void> = Promise.resolve()

  const progress = (): RunProgress => ({
    orders: factory.stats.orders - startOrders,
    customers: factory.stats.customers - startCustomers,
    batches,
    elapsedMs: performance.now() - t0
  })

  for (;;) {
    let now = performance.now()
    if (signal?.aborted) stop = 'aborted'
    let due = limit
    if (!stop) {
      // Orders due so far: order k (from 0) is due at t0 + k / rate; none at or after the deadline.
      if (perMs !== Infinity) {
        const until = Math.min(now, deadline - 1e-3)
        due = Math.min(limit, Math.max(0, Math.floor((until - t0) * perMs) + 1))
      }
      const target = Math.min(due, produced + Math.min(CHUNK, batchSize - pending))
      while (produced < target) {
        factory.next(batch)
        produced++
        pending++
      }
      now = performance.now()
      if (produced >= limit) stop = 'count'
      else if (now >= deadline) stop = 'duration'
    }
    if (pending > 0 && (stop !== null || pending >= batchSize || now - lastFlush >= flushMs)) {
      // One write in flight at a time: the next batch is generated while this one is written,
      // and batches still reach the sink strictly in order.
      await inFlight
      const full = batch
      batch = emptyBatch()
      pending = 0
      lastFlush = performance.now()
      inFlight = sink.write(full).then(() => {
        batches++
        onProgress?.(progress())
      })
      // Surface a failed write at the next await (not as an unhandled rejection meanwhile).
      inFlight.catch(() => undefined)
    }
    if (stop) {
      await inFlight
      break
    }
    if (produced < due) {
      // More is due right now (batch filled up or chunk done). Let I/O callbacks and signals
      // in between chunks when running flat out.
      if (perMs === Infinity) await new Promise<void>((resolve) => setImmediate(resolve))
      continue
    }
    const nextOrderAt = t0 + produced / perMs
    const wake = Math.min(nextOrderAt, pending > 0 ? lastFlush + flushMs : Infinity, deadline)
    await sleep(wake - performance.now(), signal)
  }

  const s = factory.stats
  return {
    ...progress(),
    seed: factory.seed,
    stopReason: stop,
    late: s.late,
    fraud: { ...s.fraud }
  }
}
