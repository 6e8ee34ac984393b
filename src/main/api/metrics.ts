import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { LakeFigures } from '../lake/metrics-figures'
import type { KafkaPartitionLag } from '../sources/kafka-source'
import { HEALTH_CONDITIONS, type HealthState } from '../../shared/health'

// The engine's Prometheus metrics (docs/OPERATIONS.md lists them). Counters are the lake's own
// totals, read at each scrape (lake/metrics-figures.ts), so they equal SQL counts over the lake
// whatever happened since this process began; only the batch duration histogram is counted
// here, from the batches this process committed, as Prometheus histograms usually are.

export interface MetricsSources {
  /** The lake's totals (zeros while no lake exists yet). */
  figures(): Promise<LakeFigures>
  /** Per-partition lag of the running Kafka source, or null when Kafka is not being read. */
  kafkaLag(): KafkaPartitionLag[] | null
  /** Alerts queued in the lake's outbox and not delivered yet, per sink id; orphaned: the sink is no longer configured. */
  alertBacklogs(): Promise<Map<string, { backlog: number; orphaned: boolean }>>
  running(): boolean
  /** The running pipeline's health (engine/health-monitor.ts). */
  health(): HealthState
}

export interface MetricsText {
  contentType: string
  text: string
}

/** Upper bounds in seconds: a small batch takes tens of ms, a 256 MiB backlog batch a minute. */
const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

export class EngineMetrics {
  private readonly registry = new Registry()
  private readonly batchDuration: Histogram
  /** The figures of the scrape in progress; every collect() below reads the same ones. */
  private figures: LakeFigures | null = null
  private backlogs = new Map<string, { backlog: number; orphaned: boolean }>()
  private scraping: Promise<unknown> = Promise.resolve()

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry]
    const figure = (pick: (f: LakeFigures) => number | null) => () => {
      const v = this.figures ? pick(this.figures) : null
      return v === null ? Number.NaN : v
    }
    const counter = (name: string, help: string, pick: (f: LakeFigures) => number) => {
      const value = figure(pick)
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset()
          this.inc(value())
        }
      })
    }
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read())
        }
      })

    counter('streamdesk_orders_total', 'Valid orders committed to silver_orders', (f) => f.orders)
    counter('streamdesk_alerts_total', 'Fraud alerts committed to fraud_alerts', (f) => f.alerts)
    counter('streamdesk_quarantined_total', 'Input lines (orders and customers) committed to quarantine', (f) => f.quarantined)
    counter('streamdesk_late_orders_total', 'Valid orders that arrived behind the watermark (in silver, in no window)', (f) => f.late)
    counter('streamdesk_duplicate_orders_total', 'Orders dropped because their order_id was already in silver', (f) => f.duplicates)
    counter('streamdesk_batches_total', 'Micro-batches committed to the lake', (f) => f.batches)
    gauge('streamdesk_last_batch_timestamp_seconds', 'When the last batch committed (Unix seconds; NaN before the first)', figure((f) => f.lastBatchAt))
    gauge('streamdesk_watermark_timestamp_seconds', 'The watermark after the last batch (Unix seconds; NaN until there is one)', figure((f) => f.watermark))
    gauge('streamdesk_max_event_timestamp_seconds', 'The newest order_ts in silver (Unix seconds; NaN before the first order)', figure((f) => f.maxEventTs))
    gauge(
      'streamdesk_event_time_lag_seconds',
      "This machine's clock minus the newest order_ts in silver: how far the lake is behind real time (NaN before the first order)",
      figure((f) => (f.maxEventTs === null ? null : Date.now() / 1000 - f.maxEventTs))
    )
    gauge('streamdesk_pipeline_running', '1 while the pipeline runs, else 0', () => (this.sources.running() ? 1 : 0))

    const kafkaLag = this.sources.kafkaLag.bind(this.sources)
    new Gauge({
      name: 'streamdesk_kafka_lag_messages',
      help: "Messages in the broker's log not yet in the lake, per partition (only while the Kafka source runs)",
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset()
        for (const p of kafkaLag() ?? []) {
          if (p.lag !== null) this.set({ topic: p.topic, partition: String(p.partition) }, Number(p.lag))
        }
      }
    })

    const health = this.sources.health.bind(this.sources)
    new Gauge({
      name: 'streamdesk_health_condition_firing',
      help: 'Per health condition (stuck, kafka-lag, quarantine-share, source-error): 1 while it fires, else 0 (docs/OPERATIONS.md, Health alerts)',
      labelNames: ['condition'],
      registers,
      collect() {
        const firing = new Set(health().firing.map((f) => f.condition))
        for (const c of HEALTH_CONDITIONS) this.set({ condition: c }, firing.has(c) ? 1 : 0)
      }
    })

    const backlogs = () => this.backlogs
    new Gauge({
      name: 'streamdesk_alert_sink_backlog',
      help: "Alerts queued in the lake's outbox for a sink and not delivered yet (every sink the lake has queued for)",
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset()
        for (const [sink, b] of backlogs()) this.set({ sink }, b.backlog)
      }
    })
    new Gauge({
      name: 'streamdesk_alert_orphaned_backlog',
      help: 'Alerts queued for a sink that is no longer configured and not delivered: kept until the sink comes back or they are discarded',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset()
        for (const [sink, b] of backlogs()) if (b.orphaned && b.backlog > 0) this.set({ sink }, b.backlog)
      }
    })

    this.batchDuration = new Histogram({
      name: 'streamdesk_batch_duration_seconds',
      help: 'How long each micro-batch took, from its start to its commit (batches this process committed)',
      buckets: DURATION_BUCKETS,
      registers
    })
  }

  /** Called after each commit. */
  observeBatch(durationMs: number): void {
    this.batchDuration.observe(durationMs / 1000)
  }

  /** Scrapes run one at a time, so every collect() of one scrape reads that scrape's figures. */
  scrape(): Promise<MetricsText> {
    const next = this.scraping.then(async () => {
      this.figures = await this.sources.figures()
      this.backlogs = await this.sources.alertBacklogs()
      return { contentType: this.registry.contentType, text: await this.registry.metrics() }
    })
    this.scraping = next.catch(() => undefined)
    return next
  }
}
