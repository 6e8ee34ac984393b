// Rows and snapshots the engine returns to the dashboard. Timestamps are ISO strings and money
// is in currency units (the lake stores cents), so both transports carry plain JSON.

export type PipelineStateName = 'stopped' | 'starting' | 'running' | 'stopping' | 'error'

export interface SourceDescription {
  kind: 'generator' | 'folder' | 'kafka'
  /** Human-readable: a folder path or "kafka HOST:PORT topic". */
  label: string
}

export interface PipelineStatus {
  state: PipelineStateName
  message: string | null
  source: SourceDescription
  startedAt: string | null
  lastBatchId: number | null
  lastBatchAt: string | null
  totals: { orders: number; alerts: number; quarantined: number; late: number; duplicates: number }
  /** Seconds between the newest input file/message seen and the last commit. */
  lagSeconds: number | null
  generator: { running: boolean; produced: number }
  /** What the engine changed in the lake on its own and its user should know (a repair on open). */
  warnings?: string[]
  /** Kafka with `source.kafka.shareGroup`, while running: the group and the partitions this pipeline owns. */
  share?: KafkaShareState | null
}

/** A pipeline's place in a consumer group it shares with other pipelines (docs/SCALING.md). */
export interface KafkaShareState {
  groupId: string
  /** null until the group first assigned partitions. */
  memberId: string | null
  generation: number | null
  members: number | null
  /** "topic/partition" keys this pipeline reads now; every other partition belongs to another member. */
  owned: string[]
  /** Why the last heartbeat or group commit failed (null: fine). */
  error: string | null
}

/**
 * Something that happened to an input file, recorded with the batch that handled it (the lake's
 * `batches.events`, the Pipeline tab, one line of `streamdesk pipeline`). docs/EVENTS.md.
 */
export interface BatchEvent {
  /**
   * renamed: the file was read on under its new name, not again; truncated: it shrank or was
   * rewritten in place and was read again from byte 0; replaced: another file now has a known
   * name and was read from byte 0; changed: it changed while being read and was planned again;
   * rewound: a person moved the source's offset back (the `rewind` record of the batch log);
   * reread: lines bronze already held were read again after a rewind (docs/EVENTS.md, Rewind).
   */
  kind: 'renamed' | 'truncated' | 'replaced' | 'changed' | 'rewound' | 'reread'
  path: string
  /** renamed: the name it had. */
  from?: string
  /** One sentence for people. */
  message: string
}

export interface BatchProgress {
  batchId: number
  startedAt: string
  committedAt: string
  durationMs: number
  rowsRead: number
  valid: number
  quarantined: number
  late: number
  duplicates: number
  alerts: number
  inputRate: number
  processingRate: number
  watermark: string | null
  /** File events recorded with this batch (absent or empty: none). */
  events?: BatchEvent[]
}

/**
 * The KPI cards, all over one set of orders (docs/LAKE.md, *Dashboard figures*): on-time orders,
 * excluding cancelled and refunded, in the last `minutes` complete minutes of event time.
 */
export interface Kpis {
  /** The period asked for, in minutes. */
  minutes: number
  /**
   * Complete minutes the figures cover: fewer than `minutes` while the lake holds less; 0 until
   * the first minute is complete (the figures are then 0 and mean nothing yet).
   */
  completeMinutes: number
  /** The covered minutes, [periodStart, periodEnd); null before the first order. */
  periodStart: string | null
  periodEnd: string | null
  /** End of the first complete minute, while there is none yet (else null). */
  firstCompleteAt: string | null
  orders: number
  /** orders ÷ completeMinutes (0 when no minute is complete). */
  ordersPerMinute: number
  revenue: number
  /** revenue ÷ orders (0 without orders). */
  avgOrderValue: number
  uniqueCustomers: number
  /** Newest order time in the lake: the minute it falls in is the one in progress. */
  asOf: string | null
}

export interface WindowRow {
  windowStart: string
  windowEnd: string
  /** On-time orders in the window, every status. */
  orders: number
  /** Orders counted in revenue (excluding cancelled and refunded): the Metrics tab's "orders". */
  revenueOrders: number
  revenue: number
  avgOrderValue: number
  uniqueCustomers: number
  /** The window holds the newest order time: still filling, drawn as partial. */
  partial: boolean
}

/**
 * Money of one order: `amount` in the order's own `currency`, as sent; `reportingAmount` the same
 * in `reportingCurrency` at `fxRate` (units of it per unit of `currency`), which the sums and the
 * fraud rules use. Null only on orders of lakes written before conversion, in a currency without
 * a known rate (docs/LAKE.md).
 */
interface OrderMoney {
  amount: number
  currency: string
  reportingAmount: number | null
  reportingCurrency: string | null
  fxRate: number | null
}

export interface AlertRow extends OrderMoney {
  orderId: string
  customerId: string
  orderTs: string
  status: string
  fraudScore: number
  fraudReasons: string[]
  shippingCountry: string
  billingCountry: string
  detectedAt: string
  /** The ruleset version that scored it; null for alerts raised before versions were recorded. */
  rulesetVersion: number | null
}

/** One page of fraud alerts, newest first, optionally only those whose order or customer id matches. */
export interface AlertPage {
  rows: AlertRow[]
  /** Alerts matching the search (all alerts without one). */
  total: number
  /** All alerts in the lake. */
  all: number
}

export interface OrderRow extends OrderMoney {
  orderId: string
  customerId: string
  orderTs: string
  status: string
  itemCount: number
  channel: string
  fraudScore: number
  isLate: boolean
}

export interface CountRow {
  key: string
  count: number
}

/** What wrote a row of the batch log (`batches.kind`, docs/LAKE.md). */
export type BatchKind = 'live' | 'replay' | 'revalidate' | 'rewind'

export interface BatchRow extends BatchProgress {
  /** Absent for live batches (ingest). A rewind reads nothing: its row is a record, not a measurement. */
  kind?: Exclude<BatchKind, 'live'>
}

export interface QuarantineRow {
  id: number
  batchId: number
  kind: 'order' | 'customer'
  source: string
  position: string
  reason: string
  raw: string
  ingestedAt: string
  /** The re-validation batch that took the line into silver (null: still quarantined). */
  resolvedBatchId: number | null
}

/** A replay chunk committed (docs/LAKE.md, Replay). */
export interface ReplayChunkDone {
  replayId: number
  chunk: number
  chunks: number
  /** The replay batch that recorded the chunk. */
  batchId: number
  /** Original batches re-derived, first and last. */
  batches: [number, number]
  lines: number
  valid: number
  quarantined: number
  late: number
  duplicates: number
  alerts: number
}

export interface ReplaySummary {
  /** The batch id of the first chunk (null: no batch with orders in the range). */
  replayId: number | null
  chunks: number
  batches: number
  lines: number
  valid: number
}

/** What a re-validation of quarantined order lines did (docs/LAKE.md, Re-validation). */
export interface RevalidateResult {
  /** The revalidate batch (null: no unresolved order line matched, nothing was written). */
  batchId: number | null
  lines: number
  valid: number
  duplicates: number
  stillBad: number
  alerts: number
}

/** One Kafka partition: the broker's high-water mark next to the lake's offset. */
export interface KafkaLagRow {
  topic: string
  partition: number
  /** Next offset the broker will write; null when the pipeline is not reading Kafka right now. */
  highWatermark: number | null
  /** Next offset the lake will read (source_offsets); null when the lake never read it. */
  lakeOffset: number | null
  /** highWatermark − lakeOffset, or null when either is unknown. */
  lag: number | null
}

/** One alert sink of the run (Pipeline tab): what it still has to deliver and how it went. */
export interface AlertSinkStatus {
  /** The sink's name, or its kind and target (a URL by host and hash only: it may be a secret). */
  id: string
  /** null: an orphan named by its `name`, whose kind the outbox does not record. */
  kind: 'webhook' | 'slack' | 'kafka' | 'file' | null
  /**
   * The sink is no longer in the settings (and not running), but its undelivered alerts are
   * kept: the same sink (same name, or kind and target) added again delivers them; the user may
   * discard them (`alerts.discardOrphaned`).
   */
  orphaned: boolean
  /** Alerts queued in the lake's outbox and not delivered yet. */
  backlog: number
  /** Why the last failed attempt failed (kept after a later success), and when. */
  lastError: string | null
  lastErrorAt: string | null
  lastSuccessAt: string | null
}

/** Recent orders of one currency (Recent orders tab): what they add to the summary's revenue. */
export interface CurrencyRow {
  currency: string
  orders: number
  /** Orders counted in revenue (excluding cancelled and refunded). */
  revenueOrders: number
  /** Their amounts in `currency`, as sent. */
  amount: number
  /** The same in the reporting currency: these add up to the summary's revenue. */
  reportingAmount: number
  /** The rates used (several when the rates changed between batches); null when none was. */
  minRate: number | null
  maxRate: number | null
}

export interface DashboardSnapshot {
  at: string
  /**
   * The lake's reporting currency: every sum, KPI, window and summary is in it. Null while the
   * lake has none yet (no run wrote it): the settings' currency then.
   */
  currency: string | null
  kpis: Kpis
  windows: WindowRow[]
  alerts: AlertRow[]
  recentOrders: OrderRow[]
  statusDistribution: CountRow[]
  fraudHistogram: CountRow[]
  batches: BatchRow[]
  /** Of `recentOrders`; revenue and AOV in the reporting currency, excluding cancelled and refunded. */
  summary: { orders: number; revenue: number; avgOrderValue: number }
  /** `summary`'s revenue per currency the orders came in. */
  currencies: CurrencyRow[]
}

export type ExportFormat = 'parquet' | 'csv' | 'duckdb'

/** One file of an export, as manifest.json lists it (`file` is relative to the export folder). */
export interface ExportedFile {
  file: string
  tables: string[]
  rows: number
  bytes: number
  sha256: string
}

export interface ExportResult {
  status: 'exported'
  outDir: string
  format: ExportFormat
  /** `file` is the absolute path of the file holding the table. */
  tables: { name: string; rows: number; file: string }[]
  files: ExportedFile[]
  manifestPath: string
  /** Files of an earlier StreamDesk export in outDir that this one replaced or removed. */
  replaced: string[]
}

/**
 * `lake.export` without `overwrite` into a folder that is not empty: nothing was written. Ask
 * the user, then call again with `overwrite: true`.
 */
export interface ExportNeedsOverwrite {
  status: 'needs-overwrite'
  outDir: string
  message: string
  /** Files of an earlier StreamDesk export (manifest.json included) that would be replaced or removed. */
  replaces: string[]
  /** Entries in the folder that are not StreamDesk's; an export never touches them. */
  others: string[]
}

export type ExportAnswer = ExportResult | ExportNeedsOverwrite

export interface ExportProgress {
  table: string
  done: number
  total: number
}

/**
 * The Metrics and Fraud tabs over a time range of the lake's history (query.history; docs/LAKE.md,
 * *History*). `buckets` are the lake's windows summed into buckets of `bucketMinutes`; every figure
 * keeps the definition it has in the live view.
 */
export interface HistoryView {
  /** What the charts cover, [from, to), on bucket boundaries; null while the lake has no order. */
  from: string | null
  to: string | null
  bucketMinutes: number
  /** The lake's window width: buckets hold whole windows. */
  windowMinutes: number
  /** One row per bucket with on-time orders (none: no row, a gap); the bucket holding the newest order is partial. */
  buckets: WindowRow[]
  /** The KPI cards over the complete minutes of the range. */
  kpis: Kpis
  /** Orders per fraud score with order_ts in the range (every order). */
  fraudHistogram: CountRow[]
  /** Fraud alerts per bucket of their order_ts (buckets without alerts have no row). */
  alertBuckets: { bucketStart: string; alerts: number }[]
}

/** A page of orders of the whole lake matching the Recent orders filters (query.orderSearch). */
export interface OrderPage {
  rows: OrderRow[]
  /** Orders matching the filters. */
  total: number
}

/** One row of `source_offsets` as the Pipeline tab's checkpoint inspector shows it. */
export interface SourceOffsetRow {
  /** 'file' or 'kafka'. */
  sourceKind: string
  /** The file's absolute path, or `topic/partition`. */
  key: string
  /** Next byte (file) or next message offset (Kafka) the pipeline will read. */
  committedOffset: number
  /** File: its size now (null when it is gone); Kafka: the broker's high-water mark (null when not reading Kafka now). */
  end: number | null
  /** end − committedOffset: bytes or messages not yet in the lake (null when end is unknown). */
  lag: number | null
  unit: 'bytes' | 'messages'
  /** The batch that last committed this offset, and when. */
  batchId: number
  batchCommittedAt: string | null
}

/**
 * What a rewind of one source does (docs/EVENTS.md, Rewind): computed and checked before anything
 * changes, shown for confirmation, then committed as one `rewind` record of the batch log.
 */
export interface RewindPlan {
  sourceKind: 'file' | 'kafka'
  /** The file's absolute path, or `topic/partition` (the key in `source_offsets`). */
  key: string
  unit: 'bytes' | 'messages'
  /** The committed offset now, and the one the rewind sets: the pipeline reads [to, from) again. */
  from: number
  to: number
  /** A rewind to a time: the time asked for, and the batch whose committed offset `to` is (null: before any batch read the source). */
  toTime: string | null
  asOfBatchId: number | null
  /** Sentences for people: what the next run will do, and what it will not. */
  consequence: string
}

export interface RewindResult extends RewindPlan {
  /** The `rewind` record in `batches`; null when only planned (not confirmed). */
  batchId: number | null
}
