import { z } from 'zod'
import { isCurrencyCode } from './iso-codes'
import { secretRefSchema, secretValueSchema } from './secrets'

// One settings object drives generator, engine and dashboard. Every field has a default, so an
// empty object (or an old settings file missing new fields) always parses to a complete Settings.

export const fraudWeightsSchema = z
  .object({
    amountOver5000: z.number().int().min(0).max(100).default(4),
    amountOver3000: z.number().int().min(0).max(100).default(3),
    amountOver2000: z.number().int().min(0).max(100).default(2),
    cancelledOrRefunded: z.number().int().min(0).max(100).default(1),
    velocity: z.number().int().min(0).max(100).default(2),
    newAccountLargeOrder: z.number().int().min(0).max(100).default(2),
    countryMismatch: z.number().int().min(0).max(100).default(1)
  })
  .strict()

export const fraudSettingsSchema = z
  .object({
    threshold: z.number().int().min(0).max(1000).default(3),
    weights: fraudWeightsSchema.default(fraudWeightsSchema.parse({})),
    velocityWindowMinutes: z.number().min(1).max(1440).default(10),
    velocityMinOrders: z.number().int().min(2).max(1000).default(3),
    newAccountHours: z.number().min(0).max(24 * 365).default(24),
    newAccountAmount: z.number().min(0).default(1000)
  })
  .strict()

export const generatorSettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** interval: one order every `intervalSeconds`; rate: `ratePerSecond` orders per second. */
    pace: z.enum(['interval', 'rate']).default('rate'),
    intervalSeconds: z.number().min(0.001).max(3600).default(2),
    ratePerSecond: z.number().min(0.01).max(200_000).default(20),
    /** 0 = run until stopped. */
    durationSeconds: z.number().min(0).max(7 * 24 * 3600).default(0),
    fraudRate: z.number().min(0).max(1).default(0.03),
    seed: z.number().int().nullable().default(null)
  })
  .strict()

/** TLS to the brokers; the files are PEM and read when a connection is made (doctor checks them). */
export const kafkaTlsSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Certificate authorities to trust; empty: the system's roots. */
    caFile: z.string().default(''),
    /** Client certificate and its key, for brokers that ask for one (mutual TLS). */
    certFile: z.string().default(''),
    keyFile: z.string().default(''),
    /** TLS server name, when it differs from the broker host. */
    servername: z.string().default(''),
    /** Accept any broker certificate: for a test broker only. */
    insecure: z.boolean().default(false)
  })
  .strict()
  .superRefine((t, ctx) => {
    if (!!t.certFile !== !!t.keyFile) {
      ctx.addIssue({
        code: 'custom',
        path: [t.certFile ? 'keyFile' : 'certFile'],
        message: 'a client certificate and its key go together: give both or neither'
      })
    }
  })

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const

export const kafkaSaslSchema = z
  .object({
    mechanism: z.enum(['none', ...SASL_MECHANISMS]).default('none'),
    username: z.string().default(''),
    /** A secret: stored in the OS keychain (app) or the secrets file next to the settings. */
    password: z.union([z.literal(''), secretValueSchema]).default('')
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.mechanism === 'none') return
    if (s.username === '') ctx.addIssue({ code: 'custom', path: ['username'], message: `SASL ${s.mechanism.toUpperCase()} needs a user name` })
    if (s.password === '') ctx.addIssue({ code: 'custom', path: ['password'], message: `SASL ${s.mechanism.toUpperCase()} needs a password` })
  })

export const kafkaSettingsSchema = z
  .object({
    servers: z
      .array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected HOST:PORT'))
      .min(1)
      .default(['localhost:9092']),
    ordersTopic: z.string().min(1).max(249).default('ecommerce_orders'),
    customersTopic: z.string().min(1).max(249).default('ecommerce_customers'),
    startingOffsets: z.enum(['earliest', 'latest']).default('earliest'),
    /** Off, with no SASL mechanism: the STREAMDESK_KAFKA_* variables apply (docs/KAFKA.md). */
    tls: kafkaTlsSchema.default(kafkaTlsSchema.parse({})),
    sasl: kafkaSaslSchema.default(kafkaSaslSchema.parse({})),
    /**
     * Consumer group shared with other pipelines (each with its own lake): this one reads only the
     * partitions the group assigns it (docs/SCALING.md). Empty: read every partition.
     */
    shareGroup: z
      .string()
      .trim()
      .regex(/^([a-zA-Z0-9._-]{1,249})?$/, "a consumer group id: letters, digits, '.', '_', '-', at most 249")
      .default(''),
    /** Shared group: how long the coordinator waits for a silent member before others take over (ms). */
    shareSessionTimeoutMs: z.number().int().min(1_000).max(300_000).default(30_000)
  })
  .strict()

export const sourceSettingsSchema = z
  .object({
    /** generator: the built-in generator writes into inputPath and the pipeline watches it. */
    kind: z.enum(['generator', 'folder', 'kafka']).default('generator'),
    inputPath: z.string().min(1).default('data/streaming'),
    kafka: kafkaSettingsSchema.default(kafkaSettingsSchema.parse({}))
  })
  .strict()

export const pipelineSettingsSchema = z
  .object({
    triggerMs: z.number().int().min(50).max(600_000).default(500),
    windowMinutes: z.number().int().min(1).max(1440).default(1),
    watermarkMinutes: z.number().min(0).max(7 * 1440).default(10),
    /** Upper bound of input bytes one micro-batch takes; the rest waits for the next trigger. */
    maxBatchBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(4 * 1024 ** 3)
      .default(256 * 1024 ** 2),
    /**
     * DuckDB's working memory for batches and queries; beyond it DuckDB spills to the lake
     * folder (lake.duckdb.tmp). Keeps a 300 MB input file well under 1 GB of process memory.
     */
    memoryLimitMB: z.number().int().min(256).max(1024 * 1024).default(384),
    /**
     * How far ahead of this machine's clock an event time may be when it is ingested; beyond it
     * the line is quarantined, so a mistyped year cannot drag the watermark into the future.
     */
    maxFutureSkewMinutes: z.number().min(0).max(7 * 1440).default(15)
  })
  .strict()

/**
 * Units of the reporting currency one unit of each currency is worth, for the default reporting
 * currency USD: approximate rates of late 2024 for the currencies the generator writes. They are
 * examples to replace with your own; a currency missing here is quarantined, never guessed.
 */
export const DEFAULT_FX_RATES: Readonly<Record<string, number>> = { EUR: 1.08, GBP: 1.27, CAD: 0.73, AUD: 0.66 }

const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, { message: 'must be a 3-letter ISO 4217 code in capitals, e.g. USD', abort: true })
  .refine(isCurrencyCode, 'is not an ISO 4217 currency code')

export const reportingSettingsSchema = z
  .object({
    /** Revenue, AOV, windows and the fraud amount rules are in this currency. */
    currency: currencyCode.default('USD'),
    /**
     * Currency → units of `currency` per unit. Replaced whole by an update (not merged), so a
     * rate can be removed. The reporting currency itself is always 1.
     */
    fxRates: z
      .record(currencyCode, z.number().positive('must be more than 0').max(1e9).finite())
      .default({ ...DEFAULT_FX_RATES })
      // sorted, so the same rates always compare (and are saved) the same
      .transform((rates) => Object.fromEntries(Object.entries(rates).sort(([a], [b]) => a.localeCompare(b))))
  })
  .strict()
  .superRefine((r, ctx) => {
    const own = r.fxRates[r.currency]
    if (own !== undefined && own !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['fxRates', r.currency],
        message: `${r.currency} is the reporting currency: its rate is 1 (got ${own})`
      })
    }
  })

export const dashboardSettingsSchema = z
  .object({
    refreshSeconds: z.number().min(0.5).max(60).default(1),
    notifications: z.boolean().default(true),
    kpiMinutes: z.number().int().min(1).max(1440).default(1),
    theme: z.enum(['system', 'light', 'dark']).default('system')
  })
  .strict()

/** GET /metrics on 127.0.0.1 for Prometheus, in the desktop app (`serve` has it on its own port). */
export const metricsSettingsSchema = z
  .object({
    enabled: z.boolean().default(false),
    port: z.number().int().min(1024).max(65535).default(9464)
  })
  .strict()

/** A continuous Parquet copy of silver, alerts and windows for other engines (docs/SCALING.md). */
export const mirrorSettingsSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** An empty or new folder; relative paths resolve like the lake's. */
    path: z.string().min(1).default('mirror'),
    /** Each day's small files are merged into one this often. */
    compactMinutes: z.number().min(1).max(7 * 1440).default(60)
  })
  .strict()

/** Noise control every sink has (docs/OPERATIONS.md, "Alert sinks"). */
const sinkCommon = {
  /** Names the sink in status, logs and the outbox; default: kind and target (never a secret). */
  name: z.string().min(1).max(100).optional(),
  /** Alerts scored below this are not sent to this sink (the fraud threshold applies first). */
  minScore: z.number().min(0).default(0),
  /** At most one message per this many seconds, listing the alerts raised meanwhile (0: no wait). */
  groupSeconds: z.number().min(0).max(86_400).default(0),
  /** A message lists at most this many alerts, highest score first, and says "+N more". */
  maxAlertsPerMessage: z.number().int().min(1).optional()
}

const httpUrl = z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL')

export const alertSinkSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('webhook'), url: httpUrl, secret: secretValueSchema.optional(), ...sinkCommon }).strict(),
  // a Slack incoming-webhook URL is itself the credential: kept like a secret
  z.object({ kind: z.literal('slack'), url: z.union([httpUrl, secretRefSchema]), ...sinkCommon }).strict(),
  z
    .object({
      kind: z.literal('kafka'),
      servers: z.array(z.string().min(1)).min(1),
      topic: z.string().min(1),
      // absent: the STREAMDESK_KAFKA_* variables, as before these settings existed
      tls: kafkaTlsSchema.optional(),
      sasl: kafkaSaslSchema.optional(),
      ...sinkCommon
    })
    .strict(),
  z.object({ kind: z.literal('file'), path: z.string().min(1), ...sinkCommon }).strict()
])

/** Pipeline health alerts (docs/OPERATIONS.md, *Health alerts*, defines each condition). */
export const healthSettingsSchema = z
  .object({
    /** Off: no health alerts to the sinks (the banner still shows the conditions). */
    enabled: z.boolean().default(true),
    /** Stuck: input has waited this long with no batch committed. */
    stuckSeconds: z.number().min(5).max(86_400).default(120),
    /** Kafka lag: messages in the topics not yet in the lake, over all partitions, above this. */
    kafkaLagMessages: z.number().int().min(1).default(100_000),
    /** Quarantine share: quarantined lines / lines read over the last `quarantineBatches` batches, above this (0–1). */
    quarantineShare: z.number().min(0).max(1).default(0.2),
    quarantineBatches: z.number().int().min(1).max(1000).default(10),
    /** Fewer lines than this in those batches is too few to judge: the condition does not fire. */
    quarantineMinLines: z.number().int().min(1).default(100),
    /** A firing condition resolves only after it has been clear this long (no flapping). */
    holdSeconds: z.number().min(0).max(3600).default(60),
    /** How often the monitor looks, besides after each batch. */
    checkSeconds: z.number().min(1).max(600).default(10)
  })
  .strict()

export const alertsSettingsSchema = z
  .object({
    sinks: z.array(alertSinkSchema).default([]),
    health: healthSettingsSchema.default(healthSettingsSchema.parse({}))
  })
  .strict()

export const settingsSchema = z
  .object({
    generator: generatorSettingsSchema.default(generatorSettingsSchema.parse({})),
    source: sourceSettingsSchema.default(sourceSettingsSchema.parse({})),
    pipeline: pipelineSettingsSchema.default(pipelineSettingsSchema.parse({})),
    fraud: fraudSettingsSchema.default(fraudSettingsSchema.parse({})),
    dashboard: dashboardSettingsSchema.default(dashboardSettingsSchema.parse({})),
    reporting: reportingSettingsSchema.default(reportingSettingsSchema.parse({})),
    metrics: metricsSettingsSchema.default(metricsSettingsSchema.parse({})),
    mirror: mirrorSettingsSchema.default(mirrorSettingsSchema.parse({})),
    alerts: alertsSettingsSchema.default(alertsSettingsSchema.parse({})),
    lakePath: z.string().min(1).default('lake')
  })
  .strict()

export type Settings = z.infer<typeof settingsSchema>
export type FraudSettings = z.infer<typeof fraudSettingsSchema>
export type FraudWeights = z.infer<typeof fraudWeightsSchema>
export type GeneratorSettings = z.infer<typeof generatorSettingsSchema>
export type PipelineSettings = z.infer<typeof pipelineSettingsSchema>
export type SourceSettings = z.infer<typeof sourceSettingsSchema>
export type KafkaSettings = z.infer<typeof kafkaSettingsSchema>
export type KafkaTlsSettings = z.infer<typeof kafkaTlsSchema>
export type KafkaSaslSettings = z.infer<typeof kafkaSaslSchema>
export type ReportingSettings = z.infer<typeof reportingSettingsSchema>
export type MetricsSettings = z.infer<typeof metricsSettingsSchema>
export type MirrorSettings = z.infer<typeof mirrorSettingsSchema>
export type AlertsSettings = z.infer<typeof alertsSettingsSchema>
export type AlertSinkSettings = z.infer<typeof alertSinkSchema>
export type HealthSettings = z.infer<typeof healthSettingsSchema>

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T

export const defaultSettings = (): Settings => settingsSchema.parse({})

/** Settings whose change only takes effect when the pipeline is restarted. */
export const restartRequiredPaths: readonly string[] = [
  'source.kind',
  'source.inputPath',
  'source.kafka',
  'lakePath',
  'mirror',
  // the sender opens its sinks at start
  'alerts',
  'pipeline.windowMinutes',
  // a run converts every order to one currency: its windows cannot mix two
  'reporting.currency'
]

/** Settings replaced whole by an update instead of merged key by key (their keys are data). */
export const replacedWhole: readonly string[] = ['reporting.fxRates']

export interface FieldError {
  /** Dotted path of the offending field, e.g. "pipeline.triggerMs". */
  field: string
  message: string
}

export class SettingsError extends Error {
  constructor(readonly fields: FieldError[]) {
    super(fields.map((f) => `${f.field}: ${f.message}`).join('; '))
    this.name = 'SettingsError'
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function mergeDeep<T>(base: T, patch: unknown, path = ''): T {
  if (!isPlainObject(base) || !isPlainObject(patch) || replacedWhole.includes(path)) return (patch === undefined ? base : patch) as T
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) out[k] = k in out ? mergeDeep(out[k], v, path ? `${path}.${k}` : k) : v
  return out as T
}

/** zod's default messages, phrased for the person looking at the settings pane. */
function readableIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return `must be at most ${issue.maximum}`
    case 'too_small':
      return issue.inclusive === false ? `must be more than ${issue.minimum}` : `must be at least ${issue.minimum}`
    case 'invalid_key':
      return issue.issues[0]?.message ?? issue.message
    case 'invalid_type':
      return `must be ${
        issue.expected === 'number' ? 'a number' : issue.expected === 'int' ? 'a whole number' : issue.expected === 'boolean' ? 'on or off' : `a ${issue.expected}`
      }`
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
    case 'unrecognized_keys':
      return `unknown setting${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`
    default:
      return issue.message
  }
}

/** Parses a complete or partial settings object; throws SettingsError naming every bad field. */
export function parseSettings(input: unknown, base: Settings = defaultSettings()): Settings {
  const merged = mergeDeep(base, input ?? {})
  const result = settingsSchema.safeParse(merged)
  if (!result.success) {
    throw new SettingsError(
      result.error.issues.map((i) => ({
        field: i.path.join('.') || '(settings)',
        message: readableIssue(i)
      }))
    )
  }
  return result.data
}

/** The value at a dotted path (undefined where the path leads nowhere). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj
  for (const k of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[k]
  }
  return cur
}

/** Dotted paths of every leaf that differs between two settings objects. */
export function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (isPlainObject(a) && isPlainObject(b) && !replacedWhole.includes(prefix)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    return [...keys].flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k))
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix]
}

export function needsRestart(paths: readonly string[]): string[] {
  return paths.filter((p) => restartRequiredPaths.some((r) => p === r || p.startsWith(`${r}.`)))
}
