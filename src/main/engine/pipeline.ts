import type { PipelineSettings, FraudSettings, ReportingSettings, MirrorSettings } from '../../shared/settings'
import type { Lake } from '../lake/lake'
import { committedOffsets, writeBatch, type CommittedBatch } from '../lake/batch-writer'
import { transformSettings } from '../lake/batch-transform'
import { repairFutureEventTimes } from '../lake/event-time-repair'
import { adoptReportingCurrency } from '../lake/reporting-currency'
import { ActiveScoring } from '../lake/active-scoring'
import { seedRuleset } from '../lake/rules-store'
import { committedIdentities } from '../lake/source-offsets'
import { rebuildWindowsIfResized } from '../lake/window-maintenance'
import { InputChangedError, type Source } from '../sources/source'
import { ParquetMirror, type MirrorOptions } from '../lake/parquet-mirror'
import type { BatchEvent } from '../../shared/dto'
import type { OutboxTarget } from '../lake/alert-outbox'

// The micro-batch loop. A batch starts when input arrives, but never sooner than `triggerMs`
// after the previous one started (Spark's processing-time trigger, without idle polling):
// small batches for low latency when input is sparse, large ones under load.

export interface PipelineOptions {
  lake: Lake
  source: Source
  sourceKind: string
  /**
   * Read on every batch, so trigger, watermark and rates apply live; the reporting currency is
   * the one at start (a lake sums one currency). Fraud settings only seed version 1 of a lake's
   * ruleset; each batch scores with the lake's active version.
   */
  settings: () => { pipeline: PipelineSettings; fraud: FraudSettings; reporting: ReportingSettings }
  untilIdle?: boolean
  onBatch?: (batch: CommittedBatch) => void
  /** Something happened to the input that the next batch records (a file changed under a read). */
  onEvent?: (event: BatchEvent) => void
  /** Fallback wake-up so appends that produced no watcher event are still found. */
  rescanMs?: number
  /** Something about the lake its user should know (a repair at start). */
  onWarning?: (message: string) => void
  /** A Parquet mirror of the lake, kept after each commit (lake/parquet-mirror.ts). */
  mirror?: { dir: string } & Omit<MirrorOptions, 'onError'>
  /** Alert sinks: each batch queues its alerts for them in its own transaction (alerts/). */
  outbox?: readonly OutboxTarget[]
  /** The source is open at the lake's offsets: from now on its backlog means what waits. */
  onOpened?: () => void
}

/** The `mirror` option from the settings (undefined when the mirror is off). */
export function mirrorOption(m: MirrorSettings, resolvePath: (p: string) => string, inputDir?: string): PipelineOptions['mirror'] {
  if (!m.enabled) return undefined
  return {
    dir: resolvePath(m.path),
    compactEveryMs: m.compactMinutes * 60_000,
    ...(inputDir ? { protectedDirs: [{ dir: inputDir, what: 'the input folder' }] } : {})
  }
}

export class Pipeline {
  private stopping = false
  private wake: (() => void) | null = null
  private pendingInput = true
  private loopDone: Promise<void> | null = null
  private currency = ''
  private readonly scoring = new ActiveScoring()
  private mirror: ParquetMirror | null = null
  private lastMirrorError = ''

  constructor(private readonly opts: PipelineOptions) {}

  /** Opens the source at the lake's offsets and runs until stop() (or idle with untilIdle). */
  async start(): Promise<void> {
    const { lake, source, sourceKind } = this.opts
    const s = this.opts.settings()
    const warning = await repairFutureEventTimes(lake, s.pipeline)
    if (warning) this.opts.onWarning?.(warning)
    await adoptReportingCurrency(lake, s.reporting.currency)
    this.currency = s.reporting.currency
    await rebuildWindowsIfResized(lake, s.pipeline.windowMinutes)
    await seedRuleset(lake.writer, s.fraud)
    await this.openMirror()
    try {
      await source.open(await committedOffsets(lake, sourceKind), await committedIdentities(lake, sourceKind))
    } catch (err) {
      await this.mirror?.close()
      throw err
    }
    this.opts.onOpened?.()
    this.loopDone = this.loop().finally(() => this.mirror?.close())
    return this.loopDone
  }

  /** Opens the mirror and lets it catch up with what was committed while it was not running. */
  private async openMirror(): Promise<void> {
    const m = this.opts.mirror
    if (!m) return
    this.mirror = await ParquetMirror.open(this.opts.lake, m.dir, {
      ...m,
      // the lake is the truth and the pipeline goes on; the mirror catches up after a later batch
      onError: (err) => {
        if (err.message === this.lastMirrorError) return
        this.lastMirrorError = err.message
        this.opts.onWarning?.(`the Parquet mirror in ${m.dir} is behind: ${err.message}; it tries again after the next batch`)
      }
    })
    this.mirror.afterCommit()
  }

  /** Keeps going until all input present is committed, then ends the loop. */
  async finishWhenIdle(): Promise<void> {
    this.opts.untilIdle = true
    this.pendingInput = true
    this.wake?.()
    await this.loopDone?.catch(() => undefined)
  }

  /** Resolves after the batch in flight (if any) has committed. */
  async stop(): Promise<void> {
    this.stopping = true
    this.wake?.()
    await this.loopDone?.catch(() => undefined)
  }

  private async loop(): Promise<void> {
    const { source, lake } = this.opts
    const unsubscribe = source.onInput(() => {
      this.pendingInput = true
      this.wake?.()
    })
    try {
      let lastStart = 0
      /** 'changed' events waiting for a batch that commits to be recorded with. */
      const changed: BatchEvent[] = []
      while (!this.stopping) {
        const settings = this.opts.settings()
        const { pipeline } = settings
        const sinceLast = Date.now() - lastStart
        if (sinceLast < pipeline.triggerMs) await this.sleep(pipeline.triggerMs - sinceLast, !!this.opts.untilIdle)
        if (this.stopping) break
        lastStart = Date.now()
        this.pendingInput = false
        // A null poll means "all read" only for a poll begun after untilIdle was set: one begun
        // before finishWhenIdle() (e.g. a drain) may have fetched before the last input arrived.
        const idleCheck = !!this.opts.untilIdle
        const plan = await source.poll(pipeline.maxBatchBytes)
        if (plan) {
          const carried = changed.splice(0)
          if (carried.length) plan.events = [...(plan.events ?? []), ...carried]
          let batch
          // a backlog's next files are read while DuckDB writes this batch, on the core it leaves idle
          const stopReadAhead = source.readAhead?.(pipeline.maxBatchBytes)
          try {
            batch = await writeBatch(
              lake,
              plan,
              transformSettings(
                { ...settings, reporting: { ...settings.reporting, currency: this.currency } },
                await this.scoring.current(lake.writer),
                this.opts.outbox
              )
            )
          } catch (err) {
            await stopReadAhead?.()
            if (!(err instanceof InputChangedError)) throw err
            // The file is not what was planned any more: nothing of this batch was committed;
            // the source looks at the file again and the next batch says what happened.
            const event: BatchEvent = { kind: 'changed', path: err.path, message: `${err.message}; planned again` }
            changed.push(...carried, event)
            this.opts.onEvent?.(event)
            source.replan?.([err.path])
            this.pendingInput = true
            continue
          }
          await stopReadAhead?.()
          await source.afterCommit?.(plan)
          this.mirror?.afterCommit()
          this.opts.onBatch?.(batch)
          continue
        }
        if (idleCheck) break
        if (!this.pendingInput && !this.opts.untilIdle) await this.sleep(this.opts.rescanMs ?? 2000, true)
      }
    } finally {
      unsubscribe()
    }
  }

  /** Sleeps `ms`; when `interruptible`, new input or stop() ends it early. */
  private sleep(ms: number, interruptible: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = () => {
        if (interruptible || this.stopping) done()
      }
    })
  }
}
