import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { defaultSettings, parseSettings, type Settings } from '../../../shared/settings'
import { LakeError } from '../../lake/lake'
import { acquireLake } from '../../lake/lake-registry'
import { mirrorOption, Pipeline } from '../../engine/pipeline'
import { FolderSource, FILE_SOURCE_KIND } from '../../sources/folder-source'
import { checkInputFolder, InputFolderError } from '../../sources/input-folder'
import { KafkaSource, KafkaUnavailableError, KAFKA_SOURCE_KIND } from '../../sources/kafka-source'
import type { Source } from '../../sources/source'
import type { CommittedBatch } from '../../lake/batch-writer'
import { BatchReporter } from '../batch-report'
import { CliError } from '../errors'
import { addKafkaOptions, parseKafkaFlags, type KafkaFlags } from '../kafka-options'
import { parseChoice, parseDuration, parsePositive } from '../options'
import { onStopSignal } from '../signals'
import { applySettingsFile, settingsSecrets } from '../settings-file'
import { ReportingCurrencyError } from '../../lake/reporting-currency'
import { MirrorError } from '../../lake/parquet-mirror'
import { AlertDelivery } from '../../alerts/alert-delivery'
import { watchRunHealth } from '../../engine/run-health'
import type { HealthMonitor } from '../../engine/health-monitor'

/** Exit code when --until-idle gives up on an unreachable Kafka broker or an alert sink that is behind. */
export const EXIT_KAFKA_UNAVAILABLE = 5

export interface PipelineFlags extends KafkaFlags {
  mode: 'file' | 'kafka'
  inputPath: string
  /** kafka: where partitions the lake has never seen start. */
  startingOffsets?: 'earliest' | 'latest'
  /** --until-idle: give up after this many ms without a broker (kafka) or with alert sinks behind. */
  connectTimeout?: number
  /** kafka: consumer group that gets the lake's offsets after each commit (false: none). */
  kafkaGroup?: string | false
  /** kafka: join this consumer group and read only the partitions it assigns (docs/SCALING.md). */
  kafkaShareGroup?: string
  /** kafka, with kafkaShareGroup: the group's session timeout (ms). */
  kafkaSessionTimeout?: number
  lake: string
  trigger: number
  untilIdle?: boolean
  window?: number
  watermark?: number
  fraudThreshold?: number
  quiet?: boolean
  /** --settings: the settings file given. */
  settings?: string
  /** What that file holds; the other flags override it. */
  baseSettings?: Settings
}

/** One line per file event of a batch (renamed, truncated, replaced, changed): printed even with --quiet. */
export function formatBatchEvents(b: CommittedBatch): string[] {
  return b.events.map((e) => `batch ${b.batchId} event (${e.kind}): ${e.message}`)
}

export function settingsFromFlags(flags: Partial<PipelineFlags>, base: Settings = defaultSettings()): Settings {
  return parseSettings(
    {
      pipeline: {
        ...(flags.trigger !== undefined ? { triggerMs: Math.round(flags.trigger) } : {}),
        ...(flags.window !== undefined ? { windowMinutes: flags.window } : {}),
        ...(flags.watermark !== undefined ? { watermarkMinutes: flags.watermark / 60_000 } : {})
      },
      ...(flags.fraudThreshold !== undefined ? { fraud: { threshold: flags.fraudThreshold } } : {})
    },
    base
  )
}

type PipelineHooks = { onStarted?: (control: { stop: () => Promise<void>; drain: () => Promise<void> }) => void }

/**
 * One micro-batch loop for any source: settings from the flags, the lake opened with a clear
 * error when it is in use, Ctrl+C stops after the current batch, the source and lake closed.
 */
async function runPipeline(
  flags: PipelineFlags,
  source: Source & { interrupt?: () => void; drain?: () => void },
  sourceKind: string,
  hooks: PipelineHooks,
  /**
   * A folder source's input. create: the folder is run's own, made once the lake is open; else
   * it must exist already. ready: called once it exists (start watching it then).
   */
  input?: { create: boolean; ready: () => void }
): Promise<{ batches: number }> {
  let settings: Settings
  let lake
  try {
    settings = settingsFromFlags(flags, flags.baseSettings)
    if (input && !input.create) checkInputFolder(flags.inputPath)
    if (input?.create && existsSync(flags.inputPath)) checkInputFolder(flags.inputPath) // not a file
    lake = await acquireLake(flags.lake, { create: true })
  } catch (err) {
    await source.close()
    if (err instanceof LakeError) throw new CliError(err.message, 3)
    if (err instanceof InputFolderError) throw new CliError(err.message, 2)
    throw new CliError((err as Error).message)
  }
  if (input?.create) {
    try {
      for (const sub of ['orders', 'customers']) mkdirSync(join(flags.inputPath, sub), { recursive: true })
    } catch (err) {
      await source.close()
      await lake.close()
      throw new CliError(`cannot create the input folder: ${(err as Error).message}`, 2)
    }
  }
  let delivery: AlertDelivery
  try {
    delivery = await AlertDelivery.start(lake, settings.alerts.sinks, {
      log: (line) => console.error(line),
      // references in the settings file are to the secrets file `serve` keeps beside it
      reveal: flags.settings ? settingsSecrets(flags.settings).reveal : undefined
    })
  } catch (err) {
    await source.close()
    await lake.close()
    throw new CliError((err as Error).message, 2)
  }
  input?.ready()
  let batches = 0
  const reporter = new BatchReporter(lake, (line) => console.error(line))
  let health = null as HealthMonitor | null
  const pipeline = new Pipeline({
    lake,
    source,
    sourceKind,
    settings: () => settings,
    mirror: mirrorOption(settings.mirror, (p) => resolve(p), input ? resolve(flags.inputPath) : undefined),
    untilIdle: flags.untilIdle,
    outbox: delivery.targets,
    // a run that ends when idle has no time to be stuck; a long-running one is watched, once the
    // source has the lake's offsets (before, every file would look unread)
    onOpened: () => {
      if (flags.untilIdle) return
      health = watchRunHealth({
        lake,
        source,
        sourceKind: sourceKind === KAFKA_SOURCE_KIND ? 'kafka' : 'folder',
        settings: settings.alerts.health,
        delivery,
        log: (line) => console.error(line)
      })
    },
    // printed even with --quiet: the lake was changed
    onWarning: (message) => reporter.say([`warning: ${message}`]),
    onBatch: (b) => {
      batches++
      delivery.wake()
      void health?.afterBatch().catch(() => undefined)
      if (!flags.quiet) reporter.report(b)
      // after the batch's own lines, which wait for the lake
      reporter.say(formatBatchEvents(b))
    }
  })
  const stopped = new AbortController()
  const offSignal = onStopSignal(() => {
    console.error('stopping after the current batch…')
    stopped.abort()
    void pipeline.stop()
    // a poll waiting for an unreachable broker returns at once
    source.interrupt?.()
  })
  try {
    hooks.onStarted?.({
      stop: () => pipeline.stop(),
      drain: () => {
        source.drain?.()
        return pipeline.finishWhenIdle()
      }
    })
    await pipeline.start()
    if (flags.untilIdle) await drainAlerts(delivery, flags.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS, stopped.signal)
  } catch (err) {
    if (err instanceof InputFolderError) throw new CliError(err.message, 2)
    if (err instanceof KafkaUnavailableError) throw new CliError(err.message, EXIT_KAFKA_UNAVAILABLE)
    if (err instanceof ReportingCurrencyError) throw new CliError(err.message, 2)
    if (err instanceof MirrorError) throw new CliError(err.message, 2)
    throw err
  } finally {
    offSignal()
    await reporter.flush()
    // before the sinks close: the resolutions it makes go out with them
    await health?.stop()
    await delivery.close()
    await source.close()
    await lake.close()
  }
  return { batches }
}

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000

/**
 * --until-idle exits only once every alert sink has what the lake queued for it: exit 5 if one
 * is still behind after `timeoutMs`, or when Ctrl+C stops the wait.
 */
async function drainAlerts(delivery: AlertDelivery, timeoutMs: number, stop: AbortSignal): Promise<void> {
  const behind = await delivery.drain(timeoutMs, stop)
  if (behind.length === 0) return
  const which = behind.map((s) => `${s.id} (${s.backlog} alert${s.backlog === 1 ? '' : 's'} queued${s.lastError ? `; last error: ${s.lastError}` : ''})`)
  const when = stop.aborted ? 'when stopped' : `after ${timeoutMs / 1000} s`
  throw new CliError(
    `alert sink${behind.length === 1 ? '' : 's'} behind ${when}: ${which.join(', ')}; the alerts stay queued in the lake and are sent by the next run`,
    EXIT_KAFKA_UNAVAILABLE
  )
}

/**
 * `pipeline --mode file`: the input folder, watched unless --until-idle; it must exist and is
 * never modified. Only `run` passes generatorFolder: the folder is its generator's, created once
 * the lake is open (a failed start creates nothing), and the generator's files in it are removed
 * once the lake holds them (every other file stays).
 */
export function runFilePipeline(
  flags: PipelineFlags,
  hooks: PipelineHooks = {},
  options: { generatorFolder?: boolean } = {}
): Promise<{ batches: number }> {
  const own = options.generatorFolder === true
  const source = new FolderSource(flags.inputPath, own ? 'generator' : 'folder', { removeGenerated: own })
  return runPipeline(flags, source, FILE_SOURCE_KIND, hooks, {
    create: own,
    // a watcher started before its folders exist may never report their files
    ready: () => {
      if (!flags.untilIdle) source.startWatching()
    }
  })
}

const GROUP_ID = /^[a-zA-Z0-9._-]{1,249}$/

function parseGroupId(value: string): string {
  if (!GROUP_ID.test(value)) throw new CliError(`--kafka-share-group must be a consumer group id (letters, digits, '.', '_', '-', at most 249), got '${value}'`)
  return value
}

function parseSessionTimeout(value: string): number {
  const ms = parseDuration('--kafka-session-timeout')(value)
  if (ms < 1_000 || ms > 300_000) throw new CliError(`--kafka-session-timeout must be between 1s and 5m, got '${value}'`)
  return Math.round(ms)
}

/** Builds the Kafka source for `pipeline --mode kafka` (and `run --mode kafka`). */
export function kafkaSourceFromFlags(flags: PipelineFlags, log: (line: string) => void): KafkaSource {
  const target = parseKafkaFlags(flags)
  return new KafkaSource({
    ...target,
    startingOffsets: flags.startingOffsets ?? 'earliest',
    groupId: flags.kafkaGroup === false ? null : (flags.kafkaGroup ?? 'streamdesk'),
    shareGroup: flags.kafkaShareGroup ?? null,
    ...(flags.kafkaSessionTimeout !== undefined && { sessionTimeoutMs: flags.kafkaSessionTimeout }),
    connectTimeoutMs: flags.untilIdle ? (flags.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS) : null,
    log
  })
}

/** `pipeline --mode kafka`: the same loop over the Kafka source; offsets live in the lake. */
export function runKafkaPipeline(flags: PipelineFlags, hooks: PipelineHooks & { source?: Source } = {}): Promise<{ batches: number }> {
  let source: Source
  try {
    source = hooks.source ?? kafkaSourceFromFlags(flags, (line) => console.error(line))
  } catch (err) {
    return Promise.reject(err instanceof CliError ? err : new CliError((err as Error).message))
  }
  return runPipeline(flags, source as KafkaSource, KAFKA_SOURCE_KIND, hooks)
}

export function registerPipeline(program: Command): void {
  const cmd = program
    .command('pipeline')
    .description('Run the micro-batch pipeline: input folder or Kafka topics → bronze/silver/windows/alerts in the lake, exactly once')
    .option('--mode <mode>', "source: 'file' (--input-path folder) or 'kafka' (--kafka-servers)", parseChoice('--mode', ['file', 'kafka'] as const), 'file')
    .option('--input-path <dir>', 'folder with orders/ and customers/ subfolders', 'data/streaming')
    .option('--lake <dir>', 'lake folder (holds lake.duckdb)', 'lake')
    .option('--trigger <duration>', 'minimum time between micro-batches, e.g. 500ms, 2s', parseDuration('--trigger'), 500)
    .option('--until-idle', 'exit 0 once all input present is committed')
    .option('--window <minutes>', 'tumbling window size in minutes', parsePositive('--window', { integer: true }))
    .option('--watermark <duration>', 'allowed lateness, e.g. 10m', parseDuration('--watermark'))
    .option('--fraud-threshold <score>', "fraud score that raises an alert in a new lake's first ruleset version (later: streamdesk rules promote)", parsePositive('--fraud-threshold', { allowZero: true }))
    .option('--settings <file>', 'settings file (JSON, as serve and the app use): pipeline, fraud, reporting and alert sink settings, and the lake and input folders unless given; flags override it')
    .option('-q, --quiet', 'do not print a line per batch')
  addKafkaOptions(cmd)
    .option(
      '--starting-offsets <where>',
      'kafka: where partitions the lake has never seen start (earliest|latest)',
      parseChoice('--starting-offsets', ['earliest', 'latest'] as const),
      'earliest'
    )
    .option('--connect-timeout <duration>', 'with --until-idle: give up (exit 5) when no Kafka broker answers, or an alert sink is still behind, after this long', parseDuration('--connect-timeout'), 30_000)
    .option('--kafka-group <id>', 'kafka: consumer group that gets the offsets after each lake commit, for lag tools (never read back)', 'streamdesk')
    .option('--no-kafka-group', 'kafka: do not commit offsets to a consumer group')
    .option(
      '--kafka-share-group <id>',
      'kafka: share the topics with other pipelines (each with its own lake) through this consumer group; read only the partitions it assigns (docs/SCALING.md)',
      parseGroupId
    )
    .option(
      '--kafka-session-timeout <duration>',
      'kafka, with --kafka-share-group: how long the group waits for a silent member before the others take its partitions (1s..5m)',
      parseSessionTimeout
    )
    .action(async (given: PipelineFlags, command: Command) => {
      const { flags: f, base } = applySettingsFile(given, command)
      const flags = { ...f, baseSettings: base }
      const { batches } = flags.mode === 'kafka' ? await runKafkaPipeline(flags) : await runFilePipeline(flags)
      if (flags.untilIdle) console.error(`idle: all input committed (${batches} batch${batches === 1 ? '' : 'es'} this run)`)
    })
}
