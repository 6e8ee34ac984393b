import type { ApiError } from '../../../shared/api'
import { ISO_4217_CODES, isCurrencyCode } from '../../../shared/iso-codes'
import {
  changedPaths,
  getPath,
  parseSettings,
  restartRequiredPaths,
  SettingsError,
  type DeepPartial,
  type FieldError,
  type Settings
} from '../../../shared/settings'
import { formatSinks, parseSinks } from './sink-lines'
import { readSecret, showSecret, type SecretValue } from '../../../shared/secrets'

// The settings form as data: which fields exist, how they are shown and edited, how form text
// turns back into Settings, and how validation errors (ours and the server's) land on fields.

/** rates: a currency → number map, written "EUR 1.08, GBP 1.27"; sinks: one alert sink per line (sink-lines.ts). */
/** optional-text: empty allowed; secret: a password input showing a stored secret as •••• and its reference id. */
export type FieldKind = 'bool' | 'number' | 'int' | 'optional-int' | 'text' | 'optional-text' | 'secret' | 'list' | 'select' | 'rates' | 'sinks'

export interface FieldDef {
  path: string
  label: string
  kind: FieldKind
  group: SettingsGroup
  unit?: string
  hint?: string
  /** Inclusive bounds in display units (after scale). */
  min?: number
  max?: number
  step?: number
  /** Stored value = shown value × scale (e.g. MiB shown, bytes stored). */
  scale?: number
  options?: readonly { value: string; label: string }[]
  /** Field is greyed out (still validated) when this returns false. */
  enabledWhen?: (form: FormValues) => boolean
}

export type SettingsGroup = 'Generator' | 'Source' | 'Pipeline' | 'Fraud detection' | 'Money' | 'Dashboard' | 'Operations'
export const SETTINGS_GROUPS: readonly SettingsGroup[] = ['Generator', 'Source', 'Pipeline', 'Fraud detection', 'Money', 'Dashboard', 'Operations']

export type FormValue = string | boolean
export type FormValues = Record<string, FormValue>

const MiB = 1024 * 1024

const weight = (key: string, label: string): FieldDef => ({
  path: `fraud.weights.${key}`,
  label,
  kind: 'number',
  group: 'Fraud detection',
  min: 0,
  max: 100,
  step: 0.5,
  hint: 'score points'
})

/** A select's options, value → label, in the order written. */
const choices = (labels: Record<string, string>): FieldDef['options'] => Object.entries(labels).map(([value, label]) => ({ value, label }))

const kafka = (f: FormValues) => f['source.kind'] === 'kafka'
/** The generator runs only as the source: with a folder or Kafka its settings do nothing. */
const generating = (f: FormValues) => f['source.kind'] === 'generator'
const kafkaTls = (f: FormValues) => kafka(f) && f['source.kafka.tls.enabled'] === true
const kafkaSasl = (f: FormValues) => kafka(f) && f['source.kafka.sasl.mechanism'] !== 'none'

export const FIELDS: readonly FieldDef[] = [
  {
    path: 'generator.enabled',
    label: 'Built-in generator',
    kind: 'bool',
    group: 'Generator',
    hint: 'Produce synthetic orders into the input folder (Source: Built-in generator)',
    enabledWhen: generating
  },
  {
    path: 'generator.pace',
    label: 'Pace',
    kind: 'select',
    group: 'Generator',
    options: choices({ rate: 'Orders per second', interval: 'One order every N seconds' }),
    enabledWhen: generating
  },
  {
    path: 'generator.ratePerSecond',
    label: 'Rate',
    kind: 'number',
    group: 'Generator',
    unit: 'orders/s',
    min: 0.01,
    max: 200_000,
    step: 1,
    enabledWhen: (f) => generating(f) && f['generator.pace'] === 'rate'
  },
  {
    path: 'generator.intervalSeconds',
    label: 'Interval',
    kind: 'number',
    group: 'Generator',
    unit: 's',
    min: 0.001,
    max: 3600,
    step: 0.1,
    enabledWhen: (f) => generating(f) && f['generator.pace'] === 'interval'
  },
  { path: 'generator.durationSeconds', label: 'Duration', kind: 'number', group: 'Generator', unit: 's', min: 0, max: 7 * 24 * 3600, hint: '0 = until stopped', enabledWhen: generating },
  { path: 'generator.fraudRate', label: 'Fraud share', kind: 'number', group: 'Generator', min: 0, max: 1, step: 0.01, hint: '0–1; 0.03 = 3 % of orders are suspicious', enabledWhen: generating },
  { path: 'generator.seed', label: 'Random seed', kind: 'optional-int', group: 'Generator', hint: 'Empty = different data every run', enabledWhen: generating },

  {
    path: 'source.kind',
    label: 'Source',
    kind: 'select',
    group: 'Source',
    options: choices({ generator: 'Built-in generator', folder: 'Folder of JSON lines', kafka: 'Kafka' })
  },
  { path: 'source.inputPath', label: 'Input folder', kind: 'text', group: 'Source', hint: 'Watched for orders/ and customers/ JSON-lines files', enabledWhen: (f) => f['source.kind'] !== 'kafka' },
  { path: 'source.kafka.servers', label: 'Kafka servers', kind: 'list', group: 'Source', hint: 'HOST:PORT, comma-separated', enabledWhen: kafka },
  { path: 'source.kafka.ordersTopic', label: 'Orders topic', kind: 'text', group: 'Source', enabledWhen: kafka },
  { path: 'source.kafka.customersTopic', label: 'Customers topic', kind: 'text', group: 'Source', enabledWhen: kafka },
  {
    path: 'source.kafka.startingOffsets',
    label: 'Start from',
    kind: 'select',
    group: 'Source',
    options: choices({ earliest: 'Earliest offset', latest: 'Latest offset' }),
    enabledWhen: kafka
  },
  {
    path: 'source.kafka.tls.enabled',
    label: 'Kafka TLS',
    kind: 'bool',
    group: 'Source',
    hint: 'Encrypt the connection to the brokers',
    enabledWhen: kafka
  },
  { path: 'source.kafka.tls.caFile', label: 'CA file', kind: 'optional-text', group: 'Source', hint: "PEM; empty = the system's certificate authorities", enabledWhen: kafkaTls },
  { path: 'source.kafka.tls.certFile', label: 'Client certificate', kind: 'optional-text', group: 'Source', hint: 'PEM, for brokers that ask for one (with its key)', enabledWhen: kafkaTls },
  { path: 'source.kafka.tls.keyFile', label: 'Client key', kind: 'optional-text', group: 'Source', hint: 'PEM private key of the client certificate', enabledWhen: kafkaTls },
  { path: 'source.kafka.tls.servername', label: 'TLS server name', kind: 'optional-text', group: 'Source', hint: 'When it differs from the broker host', enabledWhen: kafkaTls },
  { path: 'source.kafka.tls.insecure', label: 'Skip certificate check', kind: 'bool', group: 'Source', hint: 'Accept any broker certificate: test brokers only', enabledWhen: kafkaTls },
  {
    path: 'source.kafka.sasl.mechanism',
    label: 'Kafka SASL',
    kind: 'select',
    group: 'Source',
    options: choices({ none: 'None', plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' }),
    enabledWhen: kafka
  },
  { path: 'source.kafka.sasl.username', label: 'SASL user', kind: 'optional-text', group: 'Source', enabledWhen: kafkaSasl },
  {
    path: 'source.kafka.sasl.password',
    label: 'SASL password',
    kind: 'secret',
    group: 'Source',
    hint: 'Kept in the OS keychain (desktop app) or a file only you can read (serve), never in the settings file',
    enabledWhen: kafkaSasl
  },
  {
    path: 'source.kafka.shareGroup',
    label: 'Share through group',
    kind: 'optional-text',
    group: 'Source',
    hint: 'Consumer group shared with other pipelines (each with its own lake); this one reads only the partitions it is assigned. Empty = read every partition',
    enabledWhen: kafka
  },
  {
    path: 'source.kafka.shareSessionTimeoutMs',
    label: 'Group session timeout',
    kind: 'number',
    group: 'Source',
    unit: 's',
    scale: 1000,
    min: 1,
    max: 300,
    hint: 'How long the group waits for a silent pipeline before the others take its partitions',
    enabledWhen: (f) => kafka(f) && String(f['source.kafka.shareGroup'] ?? '').trim() !== ''
  },
  { path: 'lakePath', label: 'Lake folder', kind: 'text', group: 'Source', hint: 'Where the DuckDB lake is stored' },

  { path: 'pipeline.triggerMs', label: 'Trigger interval', kind: 'int', group: 'Pipeline', unit: 'ms', min: 50, max: 600_000, step: 50, hint: 'How often a micro-batch starts' },
  { path: 'pipeline.windowMinutes', label: 'Window size', kind: 'int', group: 'Pipeline', unit: 'min', min: 1, max: 1440 },
  { path: 'pipeline.watermarkMinutes', label: 'Watermark', kind: 'number', group: 'Pipeline', unit: 'min', min: 0, max: 7 * 1440, hint: 'Orders older than this behind the newest are late' },
  { path: 'pipeline.maxBatchBytes', label: 'Max batch size', kind: 'number', group: 'Pipeline', unit: 'MiB', scale: MiB, min: 0.0625, max: 4096, step: 1 },
  { path: 'pipeline.memoryLimitMB', label: 'DuckDB memory', kind: 'int', group: 'Pipeline', unit: 'MB', min: 256, max: 1024 * 1024, step: 64, hint: 'Working memory of the lake; beyond it DuckDB spills to disk' },
  {
    path: 'pipeline.maxFutureSkewMinutes',
    label: 'Future tolerance',
    kind: 'number',
    group: 'Pipeline',
    unit: 'min',
    min: 0,
    max: 7 * 1440,
    hint: "Events dated further ahead of this computer's clock are quarantined"
  },

  { path: 'fraud.threshold', label: 'Alert threshold', kind: 'number', group: 'Fraud detection', min: 0, max: 1000, step: 0.5, hint: "With the weights below, version 1 of a new lake's rules; after that, rules change in the Rules tab" },
  weight('amountOver5000', 'Amount over 5,000'),
  weight('amountOver3000', 'Amount over 3,000'),
  weight('amountOver2000', 'Amount over 2,000'),
  weight('cancelledOrRefunded', 'Cancelled or refunded'),
  weight('velocity', 'Order velocity'),
  weight('newAccountLargeOrder', 'New account, large order'),
  weight('countryMismatch', 'Shipping ≠ billing country'),
  { path: 'fraud.velocityWindowMinutes', label: 'Velocity window', kind: 'number', group: 'Fraud detection', unit: 'min', min: 1, max: 1440 },
  { path: 'fraud.velocityMinOrders', label: 'Velocity orders', kind: 'int', group: 'Fraud detection', min: 2, max: 1000, hint: 'Orders within the window that count as velocity' },
  { path: 'fraud.newAccountHours', label: 'New account age', kind: 'number', group: 'Fraud detection', unit: 'h', min: 0, max: 24 * 365 },
  { path: 'fraud.newAccountAmount', label: 'Large order for new account', kind: 'number', group: 'Fraud detection', min: 0 },

  {
    path: 'reporting.currency',
    label: 'Reporting currency',
    kind: 'select',
    group: 'Money',
    options: ISO_4217_CODES.map((c) => ({ value: c, label: c })),
    hint: 'Revenue, averages, windows and the fraud amount rules are in it; a lake keeps the currency of its first run'
  },
  {
    path: 'reporting.fxRates',
    label: 'Exchange rates',
    kind: 'rates',
    group: 'Money',
    hint: 'Units of the reporting currency per unit, e.g. EUR 1.08, GBP 1.27. Orders in a currency without a rate are quarantined; a change applies to new batches'
  },

  { path: 'dashboard.refreshSeconds', label: 'Refresh interval', kind: 'number', group: 'Dashboard', unit: 's', min: 0.5, max: 60, step: 0.5 },
  { path: 'dashboard.kpiMinutes', label: 'KPI period', kind: 'int', group: 'Dashboard', unit: 'min', min: 1, max: 1440 },
  { path: 'dashboard.notifications', label: 'Fraud notifications', kind: 'bool', group: 'Dashboard', hint: 'Notify when new alerts arrive' },
  {
    path: 'dashboard.theme',
    label: 'Theme',
    kind: 'select',
    group: 'Dashboard',
    options: choices({ system: 'Follow the system', light: 'Light', dark: 'Dark' })
  },

  { path: 'metrics.enabled', label: 'Prometheus metrics', kind: 'bool', group: 'Operations', hint: 'Serve /metrics on 127.0.0.1 while the app runs' },
  { path: 'metrics.port', label: 'Metrics port', kind: 'int', group: 'Operations', min: 1024, max: 65535, hint: 'http://127.0.0.1:PORT/metrics', enabledWhen: (f) => f['metrics.enabled'] === true },
  { path: 'mirror.enabled', label: 'Parquet mirror', kind: 'bool', group: 'Operations', hint: 'Copy silver, alerts and windows to Parquet after each batch, for Spark, Trino, pandas' },
  { path: 'mirror.path', label: 'Mirror folder', kind: 'text', group: 'Operations', hint: 'An empty or new folder, outside the lake and input folders', enabledWhen: (f) => f['mirror.enabled'] === true },
  { path: 'mirror.compactMinutes', label: 'Compaction interval', kind: 'number', group: 'Operations', unit: 'min', min: 1, max: 7 * 1440, hint: "Each day's small files are merged this often", enabledWhen: (f) => f['mirror.enabled'] === true },
  {
    path: 'alerts.sinks',
    label: 'Alert sinks',
    kind: 'sinks',
    group: 'Operations',
    hint:
      'One per line: webhook URL [secret=…], slack URL, kafka SERVERS TOPIC [tls=on tlsCa=FILE sasl=plain user=… password=…], file PATH; then minScore=, groupSeconds=, maxAlertsPerMessage=, name=. Secrets are stored apart and shown as ••••'
  },
  { path: 'alerts.health.enabled', label: 'Health alerts to sinks', kind: 'bool', group: 'Operations', hint: 'Send stuck, Kafka lag, quarantine share and source errors to the sinks above (the banner shows them either way)' },
  ...healthField('stuckSeconds', { label: 'Stuck after', kind: 'number', unit: 's', min: 5, max: 86_400, hint: 'Input waiting this long with no batch committed is stuck (idle, with nothing to read, never is)' }),
  ...healthField('kafkaLagMessages', { label: 'Kafka lag alert', kind: 'int', unit: 'messages', min: 1, hint: 'Messages not yet in the lake, over all partitions' }),
  ...healthField('quarantineShare', { label: 'Quarantine share alert', kind: 'number', min: 0, max: 1, step: 0.01, hint: '0–1 of the lines the last batches read; 0.2 = 20 %' }),
  ...healthField('quarantineBatches', { label: 'Quarantine share over', kind: 'int', unit: 'batches', min: 1, max: 1000 }),
  ...healthField('quarantineMinLines', { label: 'Quarantine share from', kind: 'int', unit: 'lines', min: 1, hint: 'Fewer lines are too few to judge' }),
  ...healthField('holdSeconds', { label: 'Resolve after clear for', kind: 'number', unit: 's', min: 0, max: 3600, hint: 'A condition that clears and comes back within this time stays one alert' }),
  ...healthField('checkSeconds', { label: 'Health check every', kind: 'number', unit: 's', min: 1, max: 600, hint: 'Besides after each batch' })
]

function healthField(key: string, def: Omit<FieldDef, 'path' | 'group'>): FieldDef[] {
  return [{ path: `alerts.health.${key}`, group: 'Operations', ...def }]
}

const FIELD_BY_PATH = new Map(FIELDS.map((f) => [f.path, f]))
export const fieldDef = (path: string): FieldDef | undefined => FIELD_BY_PATH.get(path)

/** True when a change to this field only applies after a pipeline restart. */
export function appliesOnRestart(path: string): boolean {
  return restartRequiredPaths.some((r) => path === r || path.startsWith(`${r}.`))
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let cur = obj
  for (const k of keys.slice(0, -1)) {
    const next = cur[k]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {}
    cur = cur[k] as Record<string, unknown>
  }
  cur[keys[keys.length - 1]] = value
}

function trimNumber(n: number): string {
  return String(Number.parseFloat(n.toPrecision(12)))
}

/** Settings -> form text. */
export function settingsToForm(settings: Settings): FormValues {
  const form: FormValues = {}
  for (const f of FIELDS) {
    const v = getPath(settings, f.path)
    switch (f.kind) {
      case 'bool':
        form[f.path] = v === true
        break
      case 'list':
        form[f.path] = Array.isArray(v) ? v.join(', ') : ''
        break
      case 'rates':
        form[f.path] = formatRates(v)
        break
      case 'sinks':
        form[f.path] = Array.isArray(v) ? formatSinks(v) : ''
        break
      case 'secret':
        form[f.path] = showSecret(v as SecretValue | '' | undefined)
        break
      case 'number':
      case 'int':
      case 'optional-int':
        form[f.path] = typeof v === 'number' ? trimNumber(v / (f.scale ?? 1)) : ''
        break
      default:
        form[f.path] = typeof v === 'string' ? v : ''
    }
  }
  return form
}

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

function formatRates(v: unknown): string {
  if (typeof v !== 'object' || v === null) return ''
  return Object.entries(v as Record<string, number>)
    .map(([c, r]) => `${c} ${trimNumber(r)}`)
    .join(', ')
}

/** "EUR 1.08, GBP: 1.27; cad=0.73" → { EUR: 1.08, GBP: 1.27, CAD: 0.73 }, or what is wrong, naming the entry. */
function parseRates(text: string): { value: Record<string, number> } | { error: string } {
  const rates: Record<string, number> = {}
  for (const entry of text.split(/[,;\n]+/).map((e) => e.trim()).filter(Boolean)) {
    const m = /^([A-Za-z]{3})\s*[:=]?\s*(\S+)$/.exec(entry)
    if (!m) return { error: `"${entry}": write a currency code and its rate, e.g. EUR 1.08` }
    const code = m[1].toUpperCase()
    if (!isCurrencyCode(code)) return { error: `${code} is not an ISO 4217 currency code` }
    if (!NUMBER_RE.test(m[2]) || !(Number(m[2]) > 0)) return { error: `the rate of ${code} must be a number above 0, got ${m[2]}` }
    if (code in rates) return { error: `${code} is given twice` }
    rates[code] = Number(m[2])
  }
  return { value: rates }
}

/** One field's form text -> stored value, or a message saying what is wrong. */
export function parseField(def: FieldDef, raw: FormValue): { value: unknown } | { error: string } {
  if (def.kind === 'bool') return { value: raw === true }
  const text = typeof raw === 'string' ? raw.trim() : String(raw)
  switch (def.kind) {
    case 'text':
      return text === '' ? { error: 'required' } : { value: text }
    case 'optional-text':
      return { value: text }
    case 'secret':
      return { value: readSecret(text) }
    case 'select':
      return def.options?.some((o) => o.value === text) ? { value: text } : { error: 'choose one of the options' }
    case 'list': {
      const items = text
        .split(/[,\s]+/)
        .map((s) => s.trim())
        .filter(Boolean)
      return items.length === 0 ? { error: 'enter at least one' } : { value: items }
    }
    case 'rates':
      return parseRates(text)
    case 'sinks':
      return parseSinks(text)
    case 'optional-int':
      if (text === '') return { value: null }
      if (!/^[+-]?\d+$/.test(text)) return { error: 'enter a whole number or leave empty' }
      return { value: Number(text) }
    case 'number':
    case 'int': {
      if (text === '') return { error: 'enter a number' }
      if (!NUMBER_RE.test(text)) return { error: 'not a number' }
      const shown = Number(text)
      if (def.kind === 'int' && !Number.isInteger(shown)) return { error: 'enter a whole number' }
      const unit = def.unit ? ` ${def.unit}` : ''
      if (def.min !== undefined && def.max !== undefined && (shown < def.min || shown > def.max)) {
        return { error: `must be between ${def.min} and ${def.max}${unit}` }
      }
      if (def.min !== undefined && shown < def.min) return { error: `must be at least ${def.min}${unit}` }
      if (def.max !== undefined && shown > def.max) return { error: `must be at most ${def.max}${unit}` }
      const value = def.scale ? Math.round(shown * def.scale) : shown
      return { value }
    }
  }
}

export interface FormCheck {
  /** Complete settings when the form is valid. */
  settings: Settings | null
  errors: Record<string, string>
}

/** Form -> Settings, checking each field and then the whole object with the shared schema. */
export function checkForm(form: FormValues, base: Settings): FormCheck {
  const errors: Record<string, string> = {}
  const candidate = structuredClone(base) as unknown as Record<string, unknown>
  for (const def of FIELDS) {
    const raw = form[def.path]
    if (raw === undefined) continue
    const parsed = parseField(def, raw)
    if ('error' in parsed) errors[def.path] = parsed.error
    else setPath(candidate, def.path, parsed.value)
  }
  if (Object.keys(errors).length > 0) return { settings: null, errors }
  try {
    return { settings: parseSettings(candidate, base), errors }
  } catch (err) {
    if (err instanceof SettingsError) {
      const mapped = mapFieldErrors(err.fields)
      return { settings: null, errors: { ...mapped.byField, ...(mapped.general.length ? { '': mapped.general.join('; ') } : {}) } }
    }
    throw err
  }
}

/** The smallest patch turning `base` into `next` (changed leaves only; arrays whole). */
export function diffPatch(base: Settings, next: Settings): DeepPartial<Settings> {
  const patch: Record<string, unknown> = {}
  for (const path of changedPaths(base, next)) setPath(patch, path, getPath(next, path))
  return patch as DeepPartial<Settings>
}

export interface MappedErrors {
  byField: Record<string, string>
  /** Errors that name no known field (shown above the form). */
  general: string[]
}

/**
 * Server (or schema) field errors -> form fields. Paths may be prefixed with the argument name
 * ("patch.pipeline.triggerMs") and may point inside a field ("source.kafka.servers.1"); each
 * lands on the longest known field path it starts with.
 */
export function mapFieldErrors(fields: readonly FieldError[] | undefined, known: readonly string[] = FIELDS.map((f) => f.path)): MappedErrors {
  const byField: Record<string, string> = {}
  const general: string[] = []
  for (const fe of fields ?? []) {
    const path = fe.field.replace(/^patch\./, '')
    let best: string | null = null
    for (const k of known) {
      if ((path === k || path.startsWith(`${k}.`)) && (best === null || k.length > best.length)) best = k
    }
    if (best === null) general.push(fe.field && !fe.field.startsWith('(') ? `${fe.field}: ${fe.message}` : fe.message)
    else byField[best] = byField[best] ? `${byField[best]}; ${fe.message}` : fe.message
  }
  return { byField, general }
}

/** An ApiError from settings.update -> form errors. */
export function errorsFromApi(err: ApiError | Error): MappedErrors {
  const fields = (err as ApiError).fields
  if (fields && fields.length > 0) return mapFieldErrors(fields)
  return { byField: {}, general: [err.message] }
}

/**
 * What a field set by this run's command line (serve --lake, --input-path) says under it: the
 * value shown is for this run only, and the file keeps another one, which the next start without
 * the option uses (a user who took the shown lake folder for the saved one would find another
 * lake there).
 */
export function overrideNote(def: FieldDef, saved: string | number | boolean | null): string {
  const shown = saved === null || saved === '' ? 'nothing' : (def.options?.find((o) => o.value === saved)?.label ?? String(saved))
  return `Given on the command line for this run only. The settings file says ${shown}, which StreamDesk uses when started without that option; save a value here to keep it in the file.`
}
