import { z } from 'zod'

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

export const kafkaSettingsSchema = z
  .object({
    servers: z
      .array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected HOST:PORT'))
      .min(1)
      .default(['localhost:9092']),
    ordersTopic: z.string().min(1).max(249).default('ecommerce_orders'),
    customersTopic: z.string().min(1).max(249).default('ecommerce_customers'),
    startingOffsets: z.enum(['earliest', 'latest']).default('earliest')
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
    memoryLimitMB: z.number().int().min(256).max(1024 * 1024).default(384)
  })
  .strict()

export const dashboardSettingsSchema = z
  .object({
    refreshSeconds: z.number().min(0.5).max(60).default(1),
    notifications: z.boolean().default(true),
    kpiMinutes: z.number().int().min(1).max(1440).default(1),
    theme: z.enum(['system', 'light', 'dark']).default('system')
  })
  .strict()

export const settingsSchema = z
  .object({
    generator: generatorSettingsSchema.default(generatorSettingsSchema.parse({})),
    source: sourceSettingsSchema.default(sourceSettingsSchema.parse({})),
    pipeline: pipelineSettingsSchema.default(pipelineSettingsSchema.parse({})),
    fraud: fraudSettingsSchema.default(fraudSettingsSchema.parse({})),
    dashboard: dashboardSettingsSchema.default(dashboardSettingsSchema.parse({})),
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
  'pipeline.windowMinutes'
]

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

export function mergeDeep<T>(base: T, patch: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(patch)) return (patch === undefined ? base : patch) as T
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) out[k] = k in out ? mergeDeep(out[k], v) : v
  return out as T
}

/** zod's default messages, phrased for the person looking at the settings pane. */
function readableIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return `must be at most ${issue.maximum}`
    case 'too_small':
      return `must be at least ${issue.minimum}`
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

/** Dotted paths of every leaf that differs between two settings objects. */
export function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    return [...keys].flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k))
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix]
}

export function needsRestart(paths: readonly string[]): string[] {
  return paths.filter((p) => restartRequiredPaths.some((r) => p === r || p.startsWith(`${r}.`)))
}
