import { z } from 'zod'
import type {
  AlertPage,
  AlertRow,
  BatchProgress,
  BatchRow,
  CountRow,
  DashboardSnapshot,
  ExportAnswer,
  ExportProgress,
  HistoryView,
  KafkaLagRow,
  AlertSinkStatus,
  Kpis,
  OrderPage,
  OrderRow,
  PipelineStatus,
  QuarantineRow,
  SourceOffsetRow,
  ReplayChunkDone,
  ReplaySummary,
  RewindResult,
  RevalidateResult,
  WindowRow
} from './dto'
import type { ActiveRulesetDto, BacktestReport, OrderLabelDto, RulesCheckResult, RulesetVersionDto, ShadowReport, ShadowRunDto, ValueListDto } from './rules'
import type { HealthState } from './health'
import { RELATIVE_RANGES, type RelativeRange } from './history'
import type { DeepPartial, FieldError, Settings } from './settings'
import { SQL_DEFAULT_MAX_ROWS, SQL_MAX_LENGTH, SQL_MAX_MAX_ROWS, type ParquetAnswer, type SavedQuery, type SqlAnswer, type SqlSchemaTable } from './sql'

// The one contract between engine and UI. Served over Electron IPC (preload + ipcMain) and over
// HTTP/WebSocket (`streamdesk serve`). The renderer is untrusted: every argument is checked
// against `handlerArgs` on the engine side before a handler runs.

const limit = (max: number, dflt: number) => z.number().int().min(1).max(max).default(dflt)
/** A ruleset as JSON text (the editor's content); its shape and conditions are checked by the engine. */
const rulesText = z.string().max(1_000_000, 'a ruleset is at most 1,000,000 characters')
const isoTime = z.string().max(64).optional()

/** A custom range may span at most this many days, so its buckets stay readable widths. */
const MAX_CUSTOM_DAYS = 366

/** A relative range, or custom `from`/`to` (ISO times, from < to). */
function historyArgs() {
  return z
    .object({
      range: z.enum([...(Object.keys(RELATIVE_RANGES) as RelativeRange[]), 'custom']),
      from: z.iso.datetime({ offset: true }).optional(),
      to: z.iso.datetime({ offset: true }).optional()
    })
    .strict()
    .superRefine((a, ctx) => {
      if (a.range !== 'custom') return
      if (!a.from) ctx.addIssue({ code: 'custom', path: ['from'], message: 'give the start of the range' })
      if (!a.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'give the end of the range' })
      if (!a.from || !a.to) return
      const span = Date.parse(a.to) - Date.parse(a.from)
      if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'the end must come after the start' })
      else if (span > MAX_CUSTOM_DAYS * 86_400_000) ctx.addIssue({ code: 'custom', path: ['to'], message: `at most ${MAX_CUSTOM_DAYS} days` })
    })
}

export const handlerArgs = {
  'pipeline.start': z.object({}).strict().default({}),
  'pipeline.stop': z.object({}).strict().default({}),
  'pipeline.status': z.object({}).strict().default({}),
  'settings.get': z.object({}).strict().default({}),
  'settings.update': z.object({ patch: z.record(z.string(), z.unknown()) }).strict(),
  'settings.overrides': z.object({}).strict().default({}),
  'lake.export': z
    .object({
      outDir: z.string().min(1, 'choose a folder'),
      format: z.enum(['parquet', 'csv', 'duckdb']).default('parquet'),
      // the user confirmed replacing an earlier StreamDesk export in a folder that is not empty
      overwrite: z.boolean().default(false)
    })
    .strict(),
  'query.dashboard': z.object({}).strict().default({}),
  'query.kpis': z.object({ minutes: limit(1440, 1) }).strict().default({ minutes: 1 }),
  'query.windows': z.object({ limit: limit(1440, 60) }).strict().default({ limit: 60 }),
  'query.alerts': z.object({ limit: limit(1000, 100) }).strict().default({ limit: 100 }),
  'query.alertPage': z
    .object({
      limit: limit(500, 50),
      offset: z.number().int().min(0).default(0),
      /** Part of an order id or customer id, case-insensitive; empty: every alert. */
      search: z.string().trim().max(200).default('')
    })
    .strict()
    .default({ limit: 50, offset: 0, search: '' }),
  'query.recentOrders': z.object({ limit: limit(1000, 100) }).strict().default({ limit: 100 }),
  'query.statusDistribution': z.object({}).strict().default({}),
  'query.fraudHistogram': z.object({}).strict().default({}),
  'query.batches': z.object({ limit: limit(1000, 100) }).strict().default({ limit: 100 }),
  'query.quarantine': z
    .object({ limit: limit(500, 50), offset: z.number().int().min(0).default(0) })
    .strict()
    .default({ limit: 50, offset: 0 }),
  'query.kafkaLag': z.object({}).strict().default({}),
  'query.alertSinks': z.object({}).strict().default({}),
  'query.health': z.object({}).strict().default({}),
  'query.history': historyArgs(),
  'query.orderSearch': z
    .object({
      limit: limit(500, 50),
      offset: z.number().int().min(0).default(0),
      /** One order, by its exact id (a backtest sample opens it); empty: any order. */
      orderId: z.string().trim().max(200).default(''),
      /** Part of a customer id, case-insensitive; empty: any customer. */
      customer: z.string().trim().max(200).default(''),
      status: z.enum(['', 'placed', 'paid', 'shipped', 'completed', 'cancelled', 'refunded']).default(''),
      currency: z.union([z.literal(''), z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, 'a three-letter currency code')]).default(''),
      /** Orders scoring at least this; null: any score. */
      minScore: z.number().min(0).max(1000).nullable().default(null),
      late: z.enum(['any', 'late', 'on-time']).default('any')
    })
    .strict()
    .default({ limit: 50, offset: 0, orderId: '', customer: '', status: '', currency: '', minScore: null, late: 'any' }),
  'query.sourceOffsets': z.object({}).strict().default({}),
  'ops.doctor': z.object({}).strict().default({}),
  /** The user confirmed: the undelivered alerts of a sink no longer configured are deleted. */
  'alerts.discardOrphaned': z.object({ sinkId: z.string().min(1).max(300) }).strict(),
  'sql.run': z
    .object({
      sql: z.string().regex(/\S/, 'write a statement').max(SQL_MAX_LENGTH, `at most ${SQL_MAX_LENGTH} characters`),
      maxRows: limit(SQL_MAX_MAX_ROWS, SQL_DEFAULT_MAX_ROWS),
      /** Chosen by the client so that it can cancel the query before the answer comes. */
      queryId: z.string().min(1).max(64).optional()
    })
    .strict(),
  'sql.exportParquet': z
    .object({
      sql: z.string().regex(/\S/, 'write a statement').max(SQL_MAX_LENGTH, `at most ${SQL_MAX_LENGTH} characters`),
      dir: z.string().min(1, 'choose a folder'),
      /** The file is `<name>.parquet` in `dir`; never one that exists. */
      name: z.string().min(1, 'name the file'),
      queryId: z.string().min(1).max(64).optional()
    })
    .strict(),
  'sql.cancel': z.object({ queryId: z.string().min(1).max(64) }).strict(),
  'sql.schema': z.object({}).strict().default({}),
  'sql.savedList': z.object({ dir: z.string().min(1, 'choose a folder') }).strict(),
  'sql.savedRead': z.object({ dir: z.string().min(1, 'choose a folder'), name: z.string().min(1) }).strict(),
  'sql.savedWrite': z
    .object({
      dir: z.string().min(1, 'choose a folder'),
      name: z.string().min(1, 'name the query'),
      sql: z.string().max(SQL_MAX_LENGTH),
      /** The user confirmed replacing the file of that name. */
      overwrite: z.boolean().default(false)
    })
    .strict(),
  'lake.replay': z.object({ from: isoTime, to: isoTime }).strict().default({}),
  /**
   * One source's offset moved back (docs/EVENTS.md, Rewind): to an offset or to a time. Without
   * `confirm` it only says what it would do; confirmed, it is recorded in the batch log.
   */
  'lake.rewind': z
    .object({
      source: z.string().min(1, 'name the source').max(4096),
      offset: z.number().int().min(0, 'an offset is 0 or more').optional(),
      toTime: z.string().min(1).max(64).optional(),
      confirm: z.boolean().default(false)
    })
    .strict()
    .refine((a) => (a.offset === undefined) !== (a.toTime === undefined), { message: 'give either an offset or a time', path: ['offset'] }),
  'quarantine.revalidate': z.union([
    z.object({ id: z.number().int().min(1) }).strict(),
    z.object({ reason: z.string().min(1).max(10_000) }).strict()
  ]),
  'rules.active': z.object({}).strict().default({}),
  'rules.versions': z.object({}).strict().default({}),
  'rules.check': z.object({ text: rulesText }).strict(),
  'rules.backtest': z
    .object({ text: rulesText, from: isoTime, to: isoTime, sampleSize: z.number().int().min(1).max(100).default(10) })
    .strict(),
  'rules.promote': z
    .object({ text: rulesText.optional(), restore: z.number().int().min(1).optional(), note: z.string().max(500).default('') })
    .strict()
    .refine((a) => (a.text === undefined) !== (a.restore === undefined), 'give either text (a ruleset) or restore (a version number)'),
  'rules.shadow': z.object({}).strict().default({}),
  'rules.shadowStart': z.object({ text: rulesText, note: z.string().max(500).default('') }).strict(),
  'rules.shadowEnd': z.object({ action: z.enum(['promote', 'drop']), note: z.string().max(500).default('') }).strict(),
  'lists.get': z.object({}).strict().default({}),
  'lists.set': z
    .object({ name: z.string().max(64), description: z.string().max(500).default(''), values: z.array(z.string().max(1000)).max(1_000_000) })
    .strict(),
  'labels.set': z
    .object({
      orderId: z.string().min(1).max(200),
      label: z.enum(['fraud', 'legit', 'cleared']),
      note: z.string().max(500).default(''),
      /** Who labels; the engine's OS user when omitted. */
      author: z.string().min(1).max(100).optional()
    })
    .strict(),
  'labels.list': z
    .object({ limit: limit(1000, 100), orderIds: z.array(z.string().max(200)).max(1000).optional() })
    .strict()
    .default({ limit: 100 })
} as const

export type HandlerName = keyof typeof handlerArgs
export type HandlerArgs<N extends HandlerName> = z.input<(typeof handlerArgs)[N]>
export type ParsedArgs<N extends HandlerName> = z.output<(typeof handlerArgs)[N]>

/**
 * A setting this run took from its command line (`serve --lake`, `--input-path`), not from the
 * settings file; `saved` is the file's value, which a start without the option uses.
 */
export interface SettingsOverride {
  /** Dotted path, as in Settings (lakePath, source.inputPath). */
  path: string
  value: string | number | boolean | null
  saved: string | number | boolean | null
}

export interface SettingsUpdateResult {
  settings: Settings
  /** Dotted paths of changed settings that apply only after a pipeline restart. */
  restartRequired: string[]
}

/** One check of the setup check (`streamdesk doctor`, Help → Check setup). */
export interface DoctorCheck {
  name: string
  status: 'ok' | 'warn' | 'fail'
  message: string
  /** What to do; every warn and fail has one. */
  fix?: string
}

export interface HandlerResults {
  'pipeline.start': PipelineStatus
  'pipeline.stop': PipelineStatus
  'pipeline.status': PipelineStatus
  'settings.get': Settings
  'settings.update': SettingsUpdateResult
  'settings.overrides': SettingsOverride[]
  'lake.export': ExportAnswer
  'query.dashboard': DashboardSnapshot
  'query.kpis': Kpis
  'query.windows': WindowRow[]
  'query.alerts': AlertRow[]
  /** Every alert, a page at a time, newest first; `search` narrows to matching order or customer ids. */
  'query.alertPage': AlertPage
  'query.recentOrders': OrderRow[]
  'query.statusDistribution': CountRow[]
  'query.fraudHistogram': CountRow[]
  'query.batches': BatchRow[]
  'query.quarantine': { rows: QuarantineRow[]; total: number }
  /** Per partition of the Kafka topics: high-water mark, lake offset, lag ([] for other sources). */
  'query.kafkaLag': KafkaLagRow[]
  /** Each alert sink of the running pipeline (backlog, last error, last success), then orphaned sinks with alerts queued. */
  'query.alertSinks': AlertSinkStatus[]
  /** The running pipeline's health: idle, working or stuck, and the conditions firing (docs/OPERATIONS.md, *Health alerts*). */
  'query.health': HealthState
  /** The Metrics and Fraud figures over a range of the lake's history, re-bucketed (docs/LAKE.md, *History*). */
  'query.history': HistoryView
  /** Orders of the whole lake matching the filters, newest batch first, a page at a time. */
  'query.orderSearch': OrderPage
  /** Every committed source offset with what is left to read behind it. */
  'query.sourceOffsets': SourceOffsetRow[]
  /** The setup check on this engine's settings and lake (docs/OPERATIONS.md). */
  'ops.doctor': DoctorCheck[]
  /** How many undelivered alerts of the orphaned sink were deleted (delivered ones are kept). */
  'alerts.discardOrphaned': { discarded: number }
  /** One read-only statement on the lake's last committed batch (docs/SQL.md). */
  'sql.run': SqlAnswer
  /** Every row of one read-only statement written to a new Parquet file (docs/SQL.md, *Export*). */
  'sql.exportParquet': ParquetAnswer
  /** false: no query by that id is running (it has finished already). */
  'sql.cancel': { cancelled: boolean }
  /** The lake's tables and views with their columns, for the editor's completion. */
  'sql.schema': SqlSchemaTable[]
  /** The `.sql` files in a folder (relative folders resolve against the engine's base folder). */
  'sql.savedList': { dir: string; queries: SavedQuery[] }
  'sql.savedRead': { name: string; sql: string }
  /** 'exists': a file of that name is there and overwrite was not given; nothing was written. */
  'sql.savedWrite': { status: 'saved' | 'exists'; name: string }
  /** Silver, alerts, order quarantine and windows derived again from bronze (docs/LAKE.md, Replay); refused while the pipeline runs. */
  'lake.replay': ReplaySummary
  /** What a rewind does, and with confirm its record's batch id; refused while the pipeline runs. */
  'lake.rewind': RewindResult
  /** Quarantined order lines (one, or all with a reason) validated again; refused while the pipeline runs. */
  'quarantine.revalidate': RevalidateResult
  /** The active ruleset version (version null: none stored yet; this seed becomes version 1 at the first run). */
  'rules.active': ActiveRulesetDto
  /** Every promoted version, newest first. */
  'rules.versions': RulesetVersionDto[]
  /** A ruleset's text checked against the lake's lists: every issue with its position. */
  'rules.check': RulesCheckResult
  /** The candidate over silver in [from, to) against the version that scored each order, with the lake's labels. */
  'rules.backtest': BacktestReport
  /** Makes the ruleset (or an earlier version: a rollback) the active version; the next batch scores with it. */
  'rules.promote': RulesetVersionDto
  /** Live against shadow over the orders the running shadow (else the last one) scored; null if none ever ran. */
  'rules.shadow': ShadowReport | null
  /** Starts a candidate scoring new batches beside the active version, its scores kept apart. */
  'rules.shadowStart': ShadowRunDto
  /** Ends the running shadow: 'promote' makes its rules the next version, 'drop' just stops it. */
  'rules.shadowEnd': { shadow: ShadowRunDto | null; version: RulesetVersionDto | null }
  'lists.get': ValueListDto[]
  /** Creates or replaces a list whole. */
  'lists.set': ValueListDto
  /** Appends a label (an order's label is its latest; 'cleared' withdraws one). */
  'labels.set': OrderLabelDto | null
  /** Current labels, newest first (of `orderIds` when given). */
  'labels.list': OrderLabelDto[]
}

/** Engine-side implementation: receives already-validated arguments. */
export type Handlers = {
  [N in HandlerName]: (args: ParsedArgs<N>) => Promise<HandlerResults[N]>
}

/** Events the engine pushes to every connected UI. */
export interface ServerEvents {
  'pipeline.state': PipelineStatus
  'batch.progress': BatchProgress
  'dashboard.snapshot': DashboardSnapshot
  'export.progress': ExportProgress
  'alerts.new': AlertRow[]
  /** A chunk of the running replay committed. */
  'replay.progress': ReplayChunkDone
  /** The pipeline's health changed (a condition fired or resolved, idle ↔ working ↔ stuck). */
  'health.state': HealthState
}
export type EventName = keyof ServerEvents
export const EVENT_NAMES: readonly EventName[] = [
  'pipeline.state',
  'batch.progress',
  'dashboard.snapshot',
  'export.progress',
  'alerts.new',
  'replay.progress',
  'health.state'
]

/** The shape errors take on the wire, whatever the transport. */
export interface ApiErrorShape {
  type: 'validation' | 'unknown-method' | 'engine'
  message: string
  fields?: FieldError[]
}

export class ApiError extends Error {
  constructor(
    readonly type: ApiErrorShape['type'],
    message: string,
    readonly fields?: FieldError[]
  ) {
    super(message)
    this.name = 'ApiError'
  }
  toJSON(): ApiErrorShape {
    return { type: this.type, message: this.message, ...(this.fields ? { fields: this.fields } : {}) }
  }
  static from(shape: ApiErrorShape): ApiError {
    return new ApiError(shape.type, shape.message, shape.fields)
  }
}

/** What a UI talks to; implemented over IPC (window.streamdesk) and over WebSocket. */
export interface EngineClient {
  invoke<N extends HandlerName>(name: N, args?: HandlerArgs<N>): Promise<HandlerResults[N]>
  subscribe<E extends EventName>(event: E, listener: (payload: ServerEvents[E]) => void): () => void
}

// Wire messages (WebSocket). IPC uses the same {name,args} -> result|error envelope.
export interface RequestMessage {
  id: number
  name: string
  args?: unknown
}
export type ResponseMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: ApiErrorShape }
export interface PushMessage {
  event: EventName
  payload: unknown
}

export const IPC_INVOKE_CHANNEL = 'streamdesk:invoke'
export const IPC_EVENT_CHANNEL = 'streamdesk:event'

export type { DeepPartial }
