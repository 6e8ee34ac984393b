import { readSecret, showSecret, STORED_SECRET_MARK, type SecretValue } from '../../../shared/secrets'
import type { AlertSinkSettings, KafkaSaslSettings, KafkaTlsSettings } from '../../../shared/settings'

// Alert sinks in the settings pane: one sink per line, "KIND TARGET key=value …", e.g.
//   webhook https://fraud.example.com/hook secret=s3cret minScore=5
//   slack https://hooks.slack.com/services/… groupSeconds=60 maxAlertsPerMessage=10
//   kafka broker1:9092,broker2:9092 fraud-alerts tls=on sasl=scram-sha-256 user=alerts password=…
//   file alerts.ndjson name=audit
// The same fields as the settings file (docs/OPERATIONS.md, "Alert sinks"); the shared schema
// still checks the result. A stored secret (a webhook's secret, a Slack URL, a Kafka password)
// comes back from the engine as a reference and is written ••••ID: left as it is, the stored
// secret is kept; replaced, the new one is stored.

const NUMERIC = ['minScore', 'groupSeconds', 'maxAlertsPerMessage'] as const
const KAFKA = ['tls', 'tlsCa', 'tlsCert', 'tlsKey', 'tlsServername', 'tlsInsecure', 'sasl', 'user', 'password'] as const
const OPTIONS = ['name', 'secret', ...NUMERIC, ...KAFKA] as const
type Option = (typeof OPTIONS)[number]

const TLS_KEYS: [Option, keyof KafkaTlsSettings][] = [
  ['tlsCa', 'caFile'],
  ['tlsCert', 'certFile'],
  ['tlsKey', 'keyFile'],
  ['tlsServername', 'servername']
]

function kafkaOptions(tls: KafkaTlsSettings | undefined, sasl: KafkaSaslSettings | undefined): string[] {
  const out: string[] = []
  if (tls) {
    out.push(`tls=${tls.enabled ? 'on' : 'off'}`)
    for (const [opt, key] of TLS_KEYS) if (tls[key]) out.push(`${opt}=${tls[key]}`)
    if (tls.insecure) out.push('tlsInsecure=on')
  }
  if (sasl) {
    out.push(`sasl=${sasl.mechanism}`)
    if (sasl.username) out.push(`user=${sasl.username}`)
    if (sasl.password) out.push(`password=${showSecret(sasl.password)}`)
  }
  return out
}

/** Settings → one line per sink (defaults left out). */
export function formatSinks(sinks: readonly AlertSinkSettings[]): string {
  return sinks
    .map((s) => {
      const target = s.kind === 'kafka' ? `${s.servers.join(',')} ${s.topic}` : s.kind === 'file' ? s.path : showSecret(s.url)
      const opts: string[] = []
      if (s.name) opts.push(`name=${s.name}`)
      if (s.kind === 'webhook' && s.secret) opts.push(`secret=${showSecret(s.secret)}`)
      if (s.kind === 'kafka') opts.push(...kafkaOptions(s.tls, s.sasl))
      if (s.minScore) opts.push(`minScore=${s.minScore}`)
      if (s.groupSeconds) opts.push(`groupSeconds=${s.groupSeconds}`)
      if (s.maxAlertsPerMessage !== undefined) opts.push(`maxAlertsPerMessage=${s.maxAlertsPerMessage}`)
      return [s.kind, target, ...opts].join(' ')
    })
    .join('\n')
}

const onOff = (v: string): boolean | null => (v === 'on' || v === 'true' ? true : v === 'off' || v === 'false' ? false : null)

/** Lines → sinks, or what is wrong with the first bad line (numbered from 1). */
export function parseSinks(text: string): { value: unknown[] } | { error: string } {
  const sinks: unknown[] = []
  const lines = text.split('\n')
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const bad = (msg: string) => ({ error: `line ${i + 1}: ${msg}` })
    const [kind, ...rest] = line.split(/\s+/)
    const targets = kind === 'kafka' ? 2 : 1
    const positional = rest.slice(0, targets)
    if (!['webhook', 'slack', 'kafka', 'file'].includes(kind)) return bad(`"${kind}" is not a sink kind (webhook, slack, kafka or file)`)
    if (positional.length < targets || positional.some((p) => p.includes('=') && !p.startsWith('http'))) {
      return bad(kind === 'kafka' ? 'write kafka SERVERS TOPIC, e.g. kafka localhost:9092 fraud-alerts' : `write ${kind} ${kind === 'file' ? 'PATH' : 'URL'}`)
    }
    const sink: Record<string, unknown> = { kind }
    let tls: Record<string, unknown> | undefined
    let sasl: Record<string, unknown> | undefined
    if (kind === 'kafka') {
      sink.servers = positional[0].split(',').filter(Boolean)
      sink.topic = positional[1]
    } else if (kind === 'file') sink.path = positional[0]
    else if (kind === 'slack' && positional[0].startsWith(STORED_SECRET_MARK)) sink.url = readSecret(positional[0])
    else {
      if (!/^https?:\/\//.test(positional[0])) return bad('the URL must start with http:// or https://')
      sink.url = positional[0]
    }
    for (const opt of rest.slice(targets)) {
      const eq = opt.indexOf('=')
      const key = opt.slice(0, eq) as Option
      const value = opt.slice(eq + 1)
      if (eq < 1 || !OPTIONS.includes(key)) return bad(`"${opt}" is not an option (${OPTIONS.map((o) => `${o}=…`).join(', ')})`)
      if (key === 'secret' && kind !== 'webhook') return bad('only a webhook takes a secret')
      if ((KAFKA as readonly string[]).includes(key)) {
        if (kind !== 'kafka') return bad(`${key}= is for a kafka sink`)
        if (key === 'tls' || key === 'tlsInsecure') {
          const b = onOff(value)
          if (b === null) return bad(`${key} must be on or off, got "${value}"`)
          tls = { ...tls, [key === 'tls' ? 'enabled' : 'insecure']: b }
        } else if (key.startsWith('tls')) {
          tls = { enabled: true, ...tls, [TLS_KEYS.find(([o]) => o === key)![1]]: value }
        } else if (key === 'sasl') sasl = { ...sasl, mechanism: value.toLowerCase() }
        else if (key === 'user') sasl = { ...sasl, username: value }
        else sasl = { ...sasl, password: readSecret(value) as SecretValue }
      } else if ((NUMERIC as readonly string[]).includes(key)) {
        if (!/^\d+(\.\d+)?$/.test(value)) return bad(`${key} must be a number, got "${value}"`)
        sink[key] = Number(value)
      } else sink[key] = key === 'secret' ? readSecret(value) : value
    }
    if (tls) sink.tls = tls
    if (sasl) sink.sasl = sasl
    sinks.push(sink)
  }
  return { value: sinks }
}
