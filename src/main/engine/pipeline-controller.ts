import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { PipelineStatus, SourceDescription } from '../../shared/dto'
import type { Settings } from '../../shared/settings'
import type { CommittedBatch } from '../lake/batch-writer'
import { openLake, type Lake } from '../lake/lake'
import { totals } from '../lake/queries'
import { FolderSource, FILE_SOURCE_KIND } from '../sources/folder-source'
import { KafkaSource, KAFKA_SOURCE_KIND, type KafkaPartitionLag } from '../sources/kafka-source'
import { kafkaSecurityFromEnv } from '../sources/kafka-client'
import { startGeneratorWorker, type GeneratorWorker } from '../generator'
import { Pipeline } from './pipeline'

// Owns one run of the pipeline (and, for the built-in source, the generator feeding it) and
// the state machine the header shows: stopped → starting → running → stopping → stopped,
// or error with its message. Start/stop are idempotent.

export interface ControllerEvents {
  onState(status: PipelineStatus): void
  onBatch(batch: CommittedBatch): void
}

export class PipelineController {
  private status: PipelineStatus
  private pipeline: Pipeline | null = null
  private source: FolderSource | KafkaSource | null = null
  private generator: GeneratorWorker | null = null
  private lakeHandle: Lake | null = null
  private lakePath: string | null = null
  private run: Promise<void> | null = null
  private lastLagSeconds: number | null = null

  constructor(
    private readonly baseDir: string,
    private readonly settings: () => Settings,
    private readonly events: ControllerEvents
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

  /** The lake, opened on first use and reopened when its configured path changed while stopped. */
  async lake(): Promise<Lake> {
    const wanted = this.resolvePath(this.settings().lakePath)
    if (this.lakeHandle && this.lakePath !== wanted && !this.pipeline) {
      await this.lakeHandle.close()
      this.lakeHandle = null
    }
    if (!this.lakeHandle) {
      this.lakeHandle = await openLake(wanted)
      this.lakePath = wanted
    }
    return this.lakeHandle
  }

  async getStatus(): Promise<PipelineStatus> {
    const lake = await this.lake()
    const t = await totals(lake.reader)
    this.status = {
      ...this.status,
      source: this.pipeline ? this.status.source : this.describeSource(this.settings()),
      lastBatchId: t.lastBatchId,
      lastBatchAt: t.lastBatchAt,
      totals: { orders: t.orders, alerts: t.alerts, quarantined: t.quarantined, late: t.late, duplicates: t.duplicates },
      lagSeconds: this.lastLagSeconds,
      generator: { running: !!this.generator?.running, produced: this.generator?.produced ?? this.status.generator.produced },
      message: this.status.state === 'running' ? (this.source?.status() ?? null) : this.status.message
    }
    return this.status
  }

  private async setState(state: PipelineStatus['state'], message: string | null = null): Promise<void> {
    this.status = { ...this.status, state, message }
    this.events.onState(await this.getStatus().catch(() => this.status))
  }

  async start(): Promise<PipelineStatus> {
    if (this.pipeline || this.status.state === 'starting') return this.getStatus()
    const s = this.settings()
    this.status = { ...this.status, source: this.describeSource(s), startedAt: new Date().toISOString() }
    await this.setState('starting')
    try {
      const lake = await this.lake()
      if (s.source.kind === 'kafka') {
        await this.startKafka(s)
        await this.setState('running')
        return this.getStatus()
      }
      const input = this.resolvePath(s.source.inputPath)
      if (s.source.kind === 'generator') {
        for (const sub of ['orders', 'customers']) mkdirSync(join(input, sub), { recursive: true })
      }
      const source =
        s.source.kind === 'generator'
          ? new FolderSource(input, 'generator', { deleteIngested: true })
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
    return this.getStatus()
  }

  /** Kafka brokers and topics from the settings (TLS/SASL from STREAMDESK_KAFKA_* variables). */
  private async startKafka(s: Settings): Promise<void> {
    const k = s.source.kafka
    const source = new KafkaSource({
      connection: { servers: k.servers, ...kafkaSecurityFromEnv(process.env) },
      ordersTopic: k.ordersTopic,
      customersTopic: k.customersTopic,
      startingOffsets: k.startingOffsets
    })
    this.runPipeline(await this.lake(), source, KAFKA_SOURCE_KIND)
  }

  /** Starts the micro-batch loop over `source`; its end (or failure) moves the state on. */
  private runPipeline(lake: Lake, source: FolderSource | KafkaSource, sourceKind: string): void {
    const pipeline = new Pipeline({
      lake,
      source,
      sourceKind,
      settings: () => this.settings(),
      onBatch: (b) => {
        this.lastLagSeconds = b.lagMs === null ? null : b.lagMs / 1000
        this.events.onBatch(b)
      }
    })
    this.source = source
    this.pipeline = pipeline
    this.run = pipeline.start()
    this.run.then(
      () => this.finished(null),
      (err: unknown) => this.finished(err instanceof Error ? err : new Error(String(err)))
    )
  }

  /** Per-partition lag of the running Kafka source (null when the source is not Kafka). */
  kafkaLag(): KafkaPartitionLag[] | null {
    return this.source instanceof KafkaSource ? this.source.lag() : null
  }

  private async finished(err: Error | null): Promise<void> {
    if (this.status.state === 'stopping') return
    await this.teardown()
    await this.setState(err ? 'error' : 'stopped', err ? err.message : null)
  }

  async stop(): Promise<PipelineStatus> {
    if (!this.pipeline) {
      if (this.status.state === 'error') await this.setState('stopped')
      return this.getStatus()
    }
    await this.setState('stopping')
    await this.teardown()
    await this.setState('stopped')
    return this.getStatus()
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
    await pipeline?.stop()
    await this.source?.close()
    this.source = null
  }

  async dispose(): Promise<void> {
    await this.teardown()
    await this.lakeHandle?.close()
    this.lakeHandle = null
  }
}
