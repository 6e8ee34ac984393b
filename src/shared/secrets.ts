import { z } from 'zod'

// Secrets in settings (issue 13): a webhook's signing secret, a Slack incoming-webhook URL (the
// URL is the credential) and Kafka SASL passwords. A secret field holds either the secret itself
// (what a user's own settings file may say, the contract for scripts) or a reference to where
// StreamDesk keeps it (engine/secret-store.ts). The engine replaces every clear secret by a
// reference as soon as it reads it, so settings the API returns, logs and the settings file it
// writes never carry one; the secret is looked up only where it is used.

/** A stored secret: its id in the secret store, never the secret. */
export const secretRefSchema = z
  .object({ secretRef: z.string().regex(/^[0-9a-f]{16}$/, 'is not a stored secret reference') })
  .strict()
export type SecretRef = z.infer<typeof secretRefSchema>

/** A secret as settings hold it: the secret itself, or a reference to the stored one. */
export const secretValueSchema = z.union([z.string().min(1), secretRefSchema])
export type SecretValue = z.infer<typeof secretValueSchema>

/** What a secret is for: a stored secret is only handed out where the same kind is used. */
export type SecretKind = 'webhook-secret' | 'slack-url' | 'kafka-password'

export function isSecretRef(v: unknown): v is SecretRef {
  return typeof v === 'object' && v !== null && typeof (v as { secretRef?: unknown }).secretRef === 'string'
}

/** How the settings pane writes a stored secret: it shows that one is set, never what it is. */
export const STORED_SECRET_MARK = '••••'

export function showSecret(v: SecretValue | '' | undefined): string {
  if (v === undefined || v === '') return ''
  return isSecretRef(v) ? `${STORED_SECRET_MARK}${v.secretRef}` : v
}

/** The pane's text back to a secret value: the mark plus an id keeps the stored secret. */
export function readSecret(text: string): SecretValue | '' {
  if (text.startsWith(STORED_SECRET_MARK)) {
    const id = text.slice(STORED_SECRET_MARK.length)
    if (/^[0-9a-f]{16}$/.test(id)) return { secretRef: id }
  }
  return text
}

/**
 * Turns a secret into what the secrets file holds, and back: Electron's safeStorage in the
 * desktop app (main/shell), none in plain Node (main/engine/secret-store.ts).
 */
export interface SecretCodec {
  /** Written with each entry: an entry is read back only by a codec of the same name, or 'plain'. */
  readonly name: string
  /** Where the secrets are protected, in words for doctor and the docs. */
  readonly protection: string
  encode(secret: string): Promise<string>
  decode(stored: string): Promise<string>
}

/** Looks a secret value up (engine/secret-store.ts): the value itself when it is not a reference. */
export type Reveal = (value: SecretValue, kind: SecretKind, field: string) => Promise<string>

/** For settings that cannot hold references (command-line flags only). */
export const revealClearOnly: Reveal = async (value, _kind, field) => {
  if (isSecretRef(value)) throw new Error(`${field}: a stored secret, but no settings file was given to find it`)
  return value
}

/** One secret field of a settings object. */
export interface SecretSlot {
  /** Dotted path, e.g. "alerts.sinks.0.secret" (as validation errors name fields). */
  path: string
  kind: SecretKind
  value: SecretValue
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The places of a (possibly partial) settings object that hold a secret, with their containers. */
function slots(settings: unknown): { holder: Obj; key: string; path: string; kind: SecretKind }[] {
  const out: { holder: Obj; key: string; path: string; kind: SecretKind }[] = []
  if (!isObj(settings)) return out
  const source = settings.source
  if (isObj(source) && isObj(source.kafka) && isObj(source.kafka.sasl)) {
    out.push({ holder: source.kafka.sasl, key: 'password', path: 'source.kafka.sasl.password', kind: 'kafka-password' })
  }
  const alerts = settings.alerts
  const sinks = isObj(alerts) && Array.isArray(alerts.sinks) ? alerts.sinks : []
  sinks.forEach((sink: unknown, i) => {
    if (!isObj(sink)) return
    const at = `alerts.sinks.${i}`
    if (sink.kind === 'webhook') out.push({ holder: sink, key: 'secret', path: `${at}.secret`, kind: 'webhook-secret' })
    if (sink.kind === 'slack') out.push({ holder: sink, key: 'url', path: `${at}.url`, kind: 'slack-url' })
    if (sink.kind === 'kafka' && isObj(sink.sasl)) out.push({ holder: sink.sasl, key: 'password', path: `${at}.sasl.password`, kind: 'kafka-password' })
  })
  return out
}

/** Every secret a settings object holds (empty and absent fields left out). */
export function secretSlots(settings: unknown): SecretSlot[] {
  return slots(settings)
    .map((s) => ({ path: s.path, kind: s.kind, value: s.holder[s.key] as SecretValue }))
    .filter((s) => typeof s.value === 'string' ? s.value !== '' : isSecretRef(s.value))
}

/** A copy of `settings` with each secret replaced by `fn`'s answer. */
export function mapSecrets<T>(settings: T, fn: (slot: SecretSlot) => SecretValue): T {
  const copy = structuredClone(settings)
  for (const s of slots(copy)) {
    const value = s.holder[s.key]
    if (value === undefined || value === '') continue
    if (typeof value !== 'string' && !isSecretRef(value)) continue
    s.holder[s.key] = fn({ path: s.path, kind: s.kind, value })
  }
  return copy
}
