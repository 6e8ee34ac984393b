import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { PipelineStatus, SourceDescription } from '../../shared/dto'
import type { Settings } from '../../shared/settings'
import { ApiError } from '../../shared/api'
import type { CommittedBatch } from '../lake/batch-writer'
import { LakeError, openScratchLake, type Lake } from '../lake/lake'
import { canonicalDir, inspectLakeFolder } from '../lake/lake-folder'
import { acquireLake } from '../lake/lake-registry'
import { repairFutureEventTimes } from '../lake/event-time-repair'
import { totals } from '../lake/queries'
import { FolderSource, FILE_SOURCE_KIND } from '../sources/folder-source'
import { checkInputFolder } from '../sources/input-folder'
import { KafkaSource, KAFKA_SOURCE_KIND, type KafkaPartitionLag } from '../sources/kafka-source'
import { kafkaConnectionFor } from '../sources/kafka-security'
import { revealClearOnly, type Reveal } from './secret-store'
import { startGeneratorWorker, type GeneratorWorker } from '../generator/worker-client'
import { mirrorOption, Pipeline } from './pipeline'
import { AlertDelivery, type SinkStatus } from '../alerts/alert-delivery'
import { configuredSinkIds, orphanStatuses } from '../alerts/orphans'
import { discardUndelivered, outboxBacklogs } from '../lake/alert-outbox'
import { STOPPED_HEALTH, type HealthState } from '../../shared/health'
import type { HealthClock, HealthMonitor } from './health-monitor'
import { watchRunHealth } from './run-health'

// Owns one run of the pipeline (and, for the built-in source, the generator feeding it) and
// the state machine the header shows: stopped → starting → running → stopping → stopped,
// or error with its message. Start/stop are idempotent.
//
// Start, stop, the end of a run and dispose are serialized, and they alone open and close the
// lake (through the process-wide registry): concurrent calls can never open a file twice. A
// changed lake path takes effect at the next Start; until a lake exists, queries read an empty
// in-memory lake, so nothing is created on disk before Start.

export interface ControllerEvents {
  onState(status: PipelineStatus): void
  onBatch(batch: CommittedBatch): void
  /** The run's health changed (the banner); STOPPED_HEALTH when a run ends. */
  onHealth?(state: HealthState): void
}

export interface ControllerOptions {
  /** The health monitor's clock (tests move it instead of waiting). */
  healthClock?: HealthClock
}

export class PipelineController {
  private status: PipelineStatus
  private pipeline: Pipeline | null = null
  private source: FolderSource | KafkaSource | null = null
  private generator: GeneratorWorker | null = null
  private delivery: AlertDelivery | null = null
  private monitor: HealthMonitor | null = null
  private lakeHandle: Lake | null = null
  private scratch: Promise<Lake> | null = null
  private lifecycle: Promise<unknown> = Promise.resolve()
  private disposed = false
  private run: Promise<void> | null = null
  private lastLagSeconds: number | null = null
  /** Repairs of the lakes this engine opened, newest last (shown until the engine ends). */
  private warnings: string[] = []

  constructor(
    private readonly baseDir: string,
    private readonly settings: () => Settings,
    private readonly events: ControllerEvents,
    private readonly options: ControllerOptions = {},
    /** Looks up the secrets the settings name by reference (engine/secret-store.ts). */
    private readonly reveal: Reveal = revealClearOnly
  ) {
    this.status = {
      state: 'stopped',
      message: null,
      source: this.describeSource(settings()),
      startedAt: null,
      lastBatchId: null,
      lastBatchAt: null,
      totals: { orders: 0, alerts: 0, quarantined: 0, late: 0, duplicates: 0 },
      lagSeconds: null,
      generator: { running: false, produced: 0 }
    }
  }

  resolvePath(p: string): string {
    return resolve(this.baseDir, p)
  }

  describeSource(s: Settings): SourceDescription {
    const input = this.resolvePath(s.source.inputPath)
    if (s.source.kind === 'kafka') return { kind: 'kafka', label: `kafka ${s.source.kafka.servers.join(',')} ${s.source.kafka.ordersTopic}` }
    if (s.source.kind === 'generator') return { kind: 'generator', label: `built-in generator → ${input}` }
    return { kind: 'folder', label: input }
  }

  /** Runs lifecycle steps one at a time, in call order. */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.lifecycle.then(step, step)
    this.lifecycle = next.catch(() => undefined)
    return next
  }

  /**
   * Runs `work` on the lake the dashboard reads: the one held, else the configured lake if it
   * exists (opened, never created), else an empty in-memory lake. Dispose waits for it.
   */
  async withLake<T>(work: (lake: Lake) => Promise<T>): Promise<T> {
    for (;;) {
      const lake = this.lakeHandle ?? (await this.serial(() => this.lakeForQueries()))
      try {
        return await lake.use(work)
      } catch (err) {
        // the lake closed between picking it and using it (a Start switched lakes): use the next
        if (err instanceof LakeError && err.code === 'closing' && !this.disposed) continue
        throw err
      }
    }
  }

  /**
   * Runs `work` on the lake on disk while the pipeline is stopped, and no Start begins until it
   * is done: for what writes derived rows outside a batch (re-validation), which a running batch
   * would race for silver and the windows.
   */
  whileStopped<T>(work: (lake: Lake) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      if (this.status.state !== 'stopped' && this.status.state !== 'error') {
        throw new LakeError('stop the pipeline first: a running batch writes the same tables', 'in-use')
      }
      const lake = await this.lakeForQueries()
      if (lake.file === ':memory:') {
        throw new LakeError(`there is no lake at ${this.resolvePath(this.settings().lakePath)} yet; press Start to create one`, 'missing')
      }
      return lake.use(work)
    })
  }

  /** The lake on disk (held or existing); a missing lake is an error that says so. */
  async withExistingLake<T>(work: (lake: Lake) => Promise<T>): Promise<T> {
    return this.withLake((lake) => {
      if (lake.file === ':memory:') {
        throw new LakeError(`there is no lake at ${this.resolvePath(this.settings().lakePath)} yet; press Start to create one`, 'missing')
      }
      return work(lake)
    })
  }

  private async lakeForQueries(): Promise<Lake> {
    if (this.disposed) throw new LakeError('the engine is shutting down', 'closing')
    if (this.lakeHandle) return this.lakeHandle
    const dir = this.resolvePath(this.settings().lakePath)
    if (inspectLakeFolder(dir, false).kind === 'duckdb') {
      const lake = await acquireLake(dir, { create: false })
      try {
        // before the first query, so no figure is read from a poisoned watermark
        this.warn(await repairFutureEventTimes(lake, this.settings().pipeline))
      } catch (err) {
        await lake.close()
        throw err
      }
      this.lakeHandle = lake
      return this.lakeHandle
    }
    this.scratch ??= openScratchLake()
    return this.scratch
  }

  /** Opens the configured lake for the run, closing another one held before (serial only). */
  private async lakeForRun(s: Settings): Promise<Lake> {
    const dir = this.resolvePath(s.lakePath)
    if (this.lakeHandle && this.lakeHandle.dir !== canonicalDir(dir)) {
      const old = this.lakeHandle
      this.lakeHandle = null
      await old.close()
    }
    this.lakeHandle ??= await acquireLake(dir, { create: true })
    return this.lakeHandle
  }

  /** Opens the configured lake if it exists, so a refused or locked lake is reported early. */
  async openExisting(): Promise<void> {
    await this.withLake(async () => undefined)
  }

  getStatus(): Promise<PipelineStatus> {
    return this.withLake((lake) => this.statusOf(lake))
  }

  /** The status inside a lifecycle step, which must not wait for the lifecycle itself. */
  private currentStatus(): Promise<PipelineStatus> {
    const lake = this.lakeHandle
    return (lake ? lake.use((l) => this.statusOf(l)) : this.statusOf(null)).catch(() => this.status)
  }

  /** The header's status with the lake's totals (kept as they were when no lake is held). */
  private async statusOf(lake: Lake | null): Promise<PipelineStatus> {
    const t = lake ? await totals(lake.reader) : null
    this.status = {
      ...this.status,
      source: this.pipeline ? this.status.source : this.describeSource(this.settings()),
      ...(t && {
        lastBatchId: t.lastBatchId,
        lastBatchAt: t.lastBatchAt,
        totals: { orders: t.orders, alerts: t.alerts, quarantined: t.quarantined, late: t.late, duplicates: t.duplicates }
      }),
      lagSeconds: this.lastLagSeconds,
      warnings: this.warnings,
      generator: { running: !!this.generator?.running, produced: this.generator?.produced ?? this.status.generator.produced },
      message: this.status.state === 'running' ? (this.source?.status() ?? null) : this.status.message,
      share: this.status.state === 'running' && this.source instanceof KafkaSource ? this.source.share() : null
    }
    return this.status
  }

  private async setState(state: PipelineStatus['state'], message: string | null = null): Promise<void> {
    this.status = { ...this.status, state, message }
    this.events.onState(await this.currentStatus())
  }

  start(): Promise<PipelineStatus> {
    return this.serial(() => this.startNow())
  }

  private async startNow(): Promise<PipelineStatus> {
    if (this.disposed) throw new LakeError('the engine is shutting down', 'closing')
    if (this.pipeline) return this.currentStatus()
    const s = this.settings()
    this.status = { ...this.status, source: this.describeSource(s), startedAt: new Date().toISOString() }
    await this.setState('starting')
    try {
      const input = this.resolvePath(s.source.inputPath)
      if (s.source.kind === 'folder') checkInputFolder(input)
      const lake = await this.lakeForRun(s)
      this.delivery = await AlertDelivery.start(lake, s.alerts.sinks, {
        log: (line) => console.error(line),
        resolvePath: (p) => this.resolvePath(p),
        reveal: this.reveal
      })
      if (s.source.kind === 'kafka') {
        await this.startKafka(s, lake)
        await this.setState('running')
        return this.currentStatus()
      }
      if (s.source.kind === 'generator') {
        for (const sub of ['orders', 'customers']) mkdirSync(join(input, sub), { recursive: true })
      }
      const source =
        s.source.kind === 'generator'
          ? new FolderSource(input, 'generator', { removeGenerated: true })
          : new FolderSource(input, 'folder')
      source.startWatching()
      this.runPipeline(lake, source, FILE_SOURCE_KIND)
      if (s.source.kind === 'generator' && s.generator.enabled) {
        this.generator = startGeneratorWorker({
          settings: s.generator,
          sink: { kind: 'file', dir: input },
          onProgress: (p) => {
            this.status.generator = { running: true, produced: p.produced }
          }
        })
        this.generator.done.catch((err: Error) => {
          this.status = { ...this.status, message: `generator stopped: ${err.message}` }
        })
      }
      await this.setState('running')
    } catch (err) {
      await this.teardown()
      await this.setState('error', (err as Error).message)
    }
    return this.currentStatus()
  }

  /** Kafka brokers, topics, TLS and SASL from the settings (else the STREAMDESK_KAFKA_* variables). */
  private async startKafka(s: Settings, lake: Lake): Promise<void> {
    const k = s.source.kafka
    const source = new KafkaSource({
      connection: await kafkaConnectionFor(k.servers, k, 'source.kafka', this.reveal, (p) => this.resolvePath(p)),
      ordersTopic: k.ordersTopic,
      customersTopic: k.customersTopic,
      startingOffsets: k.startingOffsets,
      shareGroup: k.shareGroup || null,
      sessionTimeoutMs: k.shareSessionTimeoutMs
    })
    this.runPipeline(lake, source, KAFKA_SOURCE_KIND)
  }

  /** Starts the micro-batch loop over `source`; its end (or failure) moves the state on. */
  private runPipeline(lake: Lake, source: FolderSource | KafkaSource, sourceKind: string): void {
    const pipeline = new Pipeline({
      lake,
      source,
      sourceKind,
      settings: () => this.settings(),
      mirror: mirrorOption(this.settings().mirror, (p) => this.resolvePath(p), this.resolvePath(this.settings().source.inputPath)),
      outbox: this.delivery?.targets,
      onWarning: (message) => {
        this.warn(message)
        void this.currentStatus().then((status) => this.events.onState(status))
      },
      onBatch: (b) => {
        this.lastLagSeconds = b.lagMs === null ? null : b.lagMs / 1000
        this.delivery?.wake()
        this.events.onBatch(b)
        void this.monitor?.afterBatch().catch(() => undefined)
      },
      // before the source has the lake's offsets, every file would look unread
      onOpened: () => {
        if (this.pipeline === pipeline) this.monitor = this.startMonitor(lake, source)
      }
    })
    this.source = source
    this.pipeline = pipeline
    const run = pipeline.start()
    this.run = run
    run.then(
      () => this.finished(run, null),
      (err: unknown) => this.finished(run, err instanceof Error ? err : new Error(String(err)))
    )
  }

  /** Watches the run's health (engine/health-monitor.ts); events go to the log and the sinks. */
  private startMonitor(lake: Lake, source: FolderSource | KafkaSource): HealthMonitor {
    const s = this.settings()
    return watchRunHealth({
      lake,
      source,
      sourceKind: s.source.kind,
      settings: s.alerts.health,
      delivery: this.delivery,
      log: (line) => console.error(line),
      clock: this.options.healthClock,
      onState: (state) => this.events.onHealth?.(state)
    })
  }

  /** The run's health now (STOPPED_HEALTH when no run). */
  health(): HealthState {
    return this.monitor?.state() ?? STOPPED_HEALTH
  }

  /** Looks at the run's health now instead of at the next tick. */
  checkHealth(): Promise<HealthState> {
    return this.monitor?.check() ?? Promise.resolve(STOPPED_HEALTH)
  }

  private warn(message: string | null): void {
    if (message === null) return
    console.error(`warning: ${message}`)
    this.warnings = [...this.warnings, message].slice(-5)
  }

  /**
   * Backlog, last error and last success of each alert sink of the run (none when stopped),
   * then the orphans: sinks neither configured nor running that still have alerts queued.
   */
  async alertSinks(): Promise<SinkStatus[]> {
    const running = (await this.delivery?.status()) ?? []
    const { known } = await this.knownSinks(running)
    const backlogs = await this.withLake((lake) => outboxBacklogs(lake.reader))
    return [...running, ...orphanStatuses(backlogs, known)]
  }

  private async knownSinks(running: readonly SinkStatus[]): Promise<{ known: Set<string>; unknown: boolean }> {
    const configured = await configuredSinkIds(this.settings().alerts.sinks, this.reveal)
    return { known: new Set([...running.map((r) => r.id), ...configured.ids]), unknown: configured.unknown }
  }

  /** Deletes an orphan's undelivered alerts, on the user's explicit request; refuses any other sink. */
  async discardOrphaned(sinkId: string): Promise<number> {
    const { known, unknown } = await this.knownSinks((await this.delivery?.status()) ?? [])
    const refuse = (message: string) => new ApiError('validation', message, [{ field: 'sinkId', message }])
    if (known.has(sinkId)) {
      throw refuse(`alert sink ${sinkId} is configured: its alerts are being delivered; remove it from the settings (and restart) to discard them`)
    }
    if (unknown) {
      throw refuse("a configured sink's secret cannot be read, so which sink it is is unknown; enter the secret again before discarding anything")
    }
    const n = await this.withExistingLake((lake) => discardUndelivered(lake, sinkId))
    if (n === 0) throw refuse(`no undelivered alerts are queued for ${sinkId}`)
    console.error(`alert sink ${sinkId}: ${n} undelivered alert${n === 1 ? '' : 's'} discarded on request`)
    return n
  }

  /** Per-partition lag of the running Kafka source (null when the source is not Kafka). */
  kafkaLag(): KafkaPartitionLag[] | null {
    return this.source instanceof KafkaSource ? this.source.lag() : null
  }

  /** A run that ended by itself (an error, or idle); a stopped or replaced run is ignored. */
  private finished(run: Promise<void>, err: Error | null): Promise<void> {
    return this.serial(async () => {
      if (this.run !== run) return
      await this.teardown()
      await this.setState(err ? 'error' : 'stopped', err ? err.message : null)
    })
  }

  stop(): Promise<PipelineStatus> {
    return this.serial(() => this.stopNow())
  }

  private async stopNow(): Promise<PipelineStatus> {
    if (!this.pipeline) {
      if (this.status.state === 'error') await this.setState('stopped')
      return this.currentStatus()
    }
    await this.setState('stopping')
    await this.teardown()
    await this.setState('stopped')
    return this.currentStatus()
  }

  /** Generator first (no new files), then the pipeline after its batch in flight. */
  private async teardown(): Promise<void> {
    const gen = this.generator
    this.generator = null
    if (gen) {
      const summary = await gen.stop().catch(() => null)
      if (summary) this.status.generator = { running: false, produced: summary.orders }
    }
    const pipeline = this.pipeline
    this.pipeline = null
    this.run = null
    await pipeline?.stop()
    // after the pipeline (no batch looks again) and before the senders close (its resolutions go out)
    const monitor = this.monitor
    this.monitor = null
    if (monitor) {
      await monitor.stop()
      this.events.onHealth?.(STOPPED_HEALTH)
    }
    // after the pipeline: no batch queues alerts for a closed sender
    const delivery = this.delivery
    this.delivery = null
    await delivery?.close()
    await this.source?.close()
    this.source = null
  }

  /** Stops the run, then closes the lakes once the queries in flight have finished. */
  dispose(): Promise<void> {
    return this.serial(async () => {
      this.disposed = true
      await this.teardown()
      const lake = this.lakeHandle
      this.lakeHandle = null
      await lake?.close()
      const scratch = this.scratch
      this.scratch = null
      await (await scratch?.catch(() => null))?.close()
    })
  }
}
