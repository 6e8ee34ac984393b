import { resolve } from 'node:path'
import type { Command } from 'commander'
import { CliError } from '../errors'
import { formatRate, SlidingRate } from '../sliding-rate'
import { addKafkaOptions, parseKafkaFlags, type KafkaFlags, type KafkaTarget } from '../kafka-options'
import type { KafkaCompression } from '../../generator/kafka-sink'
import { DEFAULT_FRAUD_RATE, DEFAULT_LATE_RATE, DEFAULT_PACE } from '../../generator/defaults'
import type { EventSink, Pace, RunProgress, RunSummary, SinkSpec } from '../../generator'

// `streamdesk generate`: realistic order/customer events into a folder the pipeline watches, or
// into Kafka topics (--mode kafka).

export const GENERATE_MODES = ['file', 'kafka'] as const

/** Flags as commander hands them over (strings, unvalidated). */
export interface GenerateFlags extends KafkaFlags {
  mode?: string
  kafkaCompression?: string
  output?: string
  interval?: string
  rate?: string
  count?: string
  duration?: string
  seed?: string
  fraudRate?: string
  lateRate?: string
  batchSize?: string
  quiet?: boolean
}

export interface GenerateConfig {
  mode: 'file' | 'kafka'
  /** Absolute output folder (file mode). */
  output: string
  /** Brokers, topics and compression (kafka mode). */
  kafka?: KafkaTarget & { compression: KafkaCompression }
  pace: Pace
  count?: number
  durationSeconds?: number
  seed: number | null
  fraudRate: number
  lateRate: number
  batchSize?: number
  quiet: boolean
}

const DECIMAL = /^\+?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i
const INTEGER = /^[+-]?\d+$/

function positiveNumber(flag: string, raw: string, what: string, max: number): number {
  const v = DECIMAL.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!(Number.isFinite(v) && v > 0)) throw new CliError(`${flag} must be a positive number${what}, got '${raw}'`)
  if (v > max) throw new CliError(`${flag} must be at most ${max}${what}, got '${raw}'`)
  return v
}

function positiveInteger(flag: string, raw: string, max: number): number {
  const v = INTEGER.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!(Number.isSafeInteger(v) && v > 0)) throw new CliError(`${flag} must be a positive integer, got '${raw}'`)
  if (v > max) throw new CliError(`${flag} must be at most ${max}, got '${raw}'`)
  return v
}

function share(flag: string, raw: string): number {
  const v = DECIMAL.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!(v >= 0 && v <= 1)) throw new CliError(`${flag} must be a number between 0 and 1 (a share, e.g. 0.03 for 3%), got '${raw}'`)
  return v
}

/** Validates generate's flags; throws CliError naming the offending flag. */
export function parseGenerateOptions(flags: GenerateFlags): GenerateConfig {
  const mode = (flags.mode ?? 'file').trim().toLowerCase()
  if (mode !== 'file' && mode !== 'kafka') throw new CliError(`--mode must be 'file' or 'kafka', got '${flags.mode}'`)
  let kafka: GenerateConfig['kafka']
  if (mode === 'kafka') {
    const compression = (flags.kafkaCompression ?? 'gzip').trim().toLowerCase()
    if (compression !== 'none' && compression !== 'gzip') {
      throw new CliError(`--kafka-compression must be 'gzip' or 'none', got '${flags.kafkaCompression}'`)
    }
    kafka = { ...parseKafkaFlags(flags), compression }
  }

  const output = flags.output ?? 'data/streaming'
  if (output.trim() === '') throw new CliError('--output must be a folder path, got an empty string')

  if (flags.interval !== undefined && flags.rate !== undefined) {
    throw new CliError('--interval and --rate are mutually exclusive: use --interval S (one order every S seconds) or --rate N (N orders per second)')
  }
  let pace: Pace = DEFAULT_PACE
  if (flags.interval !== undefined) {
    pace = { kind: 'interval', seconds: positiveNumber('--interval', flags.interval, ' of seconds', 86_400) }
  } else if (flags.rate !== undefined) {
    pace =
      flags.rate.trim().toLowerCase() === 'max'
        ? { kind: 'max' }
        : { kind: 'rate', perSecond: positiveRate(flags.rate) }
  }

  const config: GenerateConfig = {
    mode,
    output: resolve(output),
    ...(kafka ? { kafka } : {}),
    pace,
    seed: null,
    fraudRate: flags.fraudRate === undefined ? DEFAULT_FRAUD_RATE : share('--fraud-rate', flags.fraudRate),
    lateRate: flags.lateRate === undefined ? DEFAULT_LATE_RATE : share('--late-rate', flags.lateRate),
    quiet: flags.quiet === true
  }
  if (flags.count !== undefined) config.count = positiveInteger('--count', flags.count, Number.MAX_SAFE_INTEGER)
  if (flags.duration !== undefined) {
    config.durationSeconds = positiveNumber('--duration', flags.duration, ' of seconds', 365 * 86_400)
  }
  if (flags.batchSize !== undefined) config.batchSize = positiveInteger('--batch-size', flags.batchSize, 1_000_000)
  if (flags.seed !== undefined) {
    const v = INTEGER.test(flags.seed.trim()) ? Number(flags.seed) : Number.NaN
    if (!Number.isSafeInteger(v)) throw new CliError(`--seed must be an integer, got '${flags.seed}'`)
    config.seed = v
  }
  return config
}

function positiveRate(raw: string): number {
  const v = DECIMAL.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!(Number.isFinite(v) && v > 0)) {
    throw new CliError(`--rate must be a positive number (orders per second) or 'max', got '${raw}'`)
  }
  if (v > 1_000_000) throw new CliError(`--rate must be at most 1000000 orders per second (or 'max'), got '${raw}'`)
  return v
}

/** Where a config's events go. */
export function sinkSpecFor(config: GenerateConfig): SinkSpec {
  if (config.mode === 'kafka' && config.kafka) {
    const { connection, ordersTopic, customersTopic, compression } = config.kafka
    return { kind: 'kafka', connection, ordersTopic, customersTopic, compression }
  }
  return { kind: 'file', dir: config.output }
}

function describeTarget(config: GenerateConfig): string {
  if (config.mode === 'kafka' && config.kafka) {
    const k = config.kafka
    return `Kafka at ${k.connection.servers.join(',')} (topics ${k.ordersTopic}, ${k.customersTopic}; ${k.compression === 'gzip' ? 'gzip' : 'uncompressed'})`
  }
  return `${config.output} (orders/, customers/)`
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const count = (n: number, noun: string): string => `${fmt(n)} ${noun}${n === 1 ? '' : 's'}`

function describePace(p: Pace): string {
  if (p.kind === 'interval') return `one order every ${p.seconds} s`
  if (p.kind === 'rate') return `${p.perSecond} orders/s`
  return 'as fast as possible'
}

const STOP_TEXT: Record<RunSummary['stopReason'], string> = {
  count: 'reached --count',
  duration: 'reached --duration',
  aborted: 'stopped'
}

export interface GenerateIo {
  log: (line: string) => void
  /** Seconds between progress lines. */
  progressSeconds?: number
  /** Stop signal (default: SIGINT/SIGTERM of this process). */
  signal?: AbortSignal
}

/** Runs the generator for a validated config, logging progress lines; resolves with the summary. */
export async function runGenerate(config: GenerateConfig, io: GenerateIo): Promise<RunSummary> {
  const log = config.quiet ? () => undefined : io.log
  const controller = new AbortController()
  const onSignal = (): void => {
    if (controller.signal.aborted) {
      io.log('generate: second interrupt, exiting now (the current file may be left as a hidden .tmp file)')
      process.exit(130)
    }
    io.log(`generate: stopping after the current ${config.mode === 'kafka' ? 'batch' : 'file'}... (Ctrl+C again to quit at once)`)
    controller.abort()
  }
  const external = io.signal
  // a stop that came before this call still stops it (before the first file)
  if (external?.aborted) controller.abort()
  else if (external) external.addEventListener('abort', () => controller.abort(), { once: true })
  else {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }

  let sink: EventSink | null = null
  let latest: RunProgress = { orders: 0, customers: 0, batches: 0, elapsedMs: 0 }
  const rate = new SlidingRate()
  rate.add(performance.now(), 0)
  const timer = setInterval(
    () => {
      rate.add(performance.now(), latest.orders)
      log(
        `generate: ${fmt(latest.orders)} orders, ${fmt(latest.customers)} customers, ${fmt(latest.batches)} batches | ` +
          `${formatRate(rate.perSecond())} orders/s over the last ${Math.round(rate.spanMs() / 1000)} s`
      )
    },
    (io.progressSeconds ?? 5) * 1000
  )
  timer.unref()

  try {
    // loaded here: the event factory brings faker, which every other command would pay for at start
    // (the two modules themselves: the barrel shares a module with the worker entry, and the
    // bundle would then load that entry, which refuses to run outside a worker thread)
    const [{ openSink }, { runGenerator }] = await Promise.all([import('../../generator/open-sink'), import('../../generator/runner')])
    sink = await openSink(sinkSpecFor(config))
    log(
      `generate: writing to ${describeTarget(config)}, ${describePace(config.pace)}, fraud rate ${config.fraudRate}` +
        `${config.seed === null ? '' : `, seed ${config.seed}`}; Ctrl+C to stop`
    )
    const summary = await runGenerator({
      sink,
      pace: config.pace,
      count: config.count,
      durationSeconds: config.durationSeconds,
      batchSize: config.batchSize,
      seed: config.seed,
      fraudRate: config.fraudRate,
      lateRate: config.lateRate,
      signal: controller.signal,
      onProgress: (p) => {
        latest = p
      }
    })
    const secs = summary.elapsedMs / 1000
    const fraud = Object.values(summary.fraud).reduce((a, b) => a + b, 0)
    log(
      `generate: done (${STOP_TEXT[summary.stopReason]}): ${count(summary.orders, 'order')}, ${count(summary.customers, 'customer')} in ` +
        `${secs.toFixed(1)} s (${formatRate(summary.orders / Math.max(secs, 1e-3))} orders/s); ${count(fraud, 'fraud-scenario order')}, ` +
        `${fmt(summary.late)} late; seed ${summary.seed}`
    )
    return summary
  } catch (err) {
    if (err instanceof CliError) throw err
    const message = err instanceof Error ? err.message : String(err)
    throw new CliError(`generate failed: ${message}`, 1)
  } finally {
    clearInterval(timer)
    if (!external) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    await sink?.close()
  }
}

export function registerGenerate(program: Command): void {
  const cmd = program
    .command('generate')
    .description('Generate realistic e-commerce order and customer events (NDJSON files, or Kafka messages, the pipeline reads)')
    .option('--mode <mode>', "output: 'file' (NDJSON files under --output) or 'kafka' (messages to --kafka-topic/--customers-topic)", 'file')
    .option('-o, --output <dir>', 'output folder; files go to <dir>/orders and <dir>/customers', 'data/streaming')
    .option('--interval <seconds>', 'one order every S seconds (default 2.0; excludes --rate)')
    .option('--rate <n|max>', "N orders per second, or 'max' for as fast as possible (excludes --interval)")
    .option('--count <n>', 'stop after N orders')
    .option('--duration <seconds>', 'stop after S seconds')
    .option('--seed <n>', 'seed for reproducible output (default: random, printed at the end)')
    .option('--fraud-rate <share>', 'share of orders from fraud scenarios, 0..1', String(DEFAULT_FRAUD_RATE))
    .option('--late-rate <share>', 'share of late orders (order_ts 11-30 min ago), 0..1', String(DEFAULT_LATE_RATE))
    .option('--batch-size <n>', 'max orders per file (default 1 with --interval, 2500 with --rate)')
    .option('-q, --quiet', 'no progress lines')
  addKafkaOptions(cmd)
    .option('--kafka-compression <codec>', "kafka mode: 'gzip' or 'none'", 'gzip')
    .action(async (flags: GenerateFlags) => {
      const config = parseGenerateOptions(flags)
      await runGenerate(config, { log: (line) => console.error(line) })
    })
}
