import type { AlertSinkSettings } from '../../../shared/settings'

// Alert sinks in the settings pane: one sink per line, "KIND TARGET key=value …", e.g.
//   webhook https://fraud.example.com/hook secret=s3cret minScore=5
//   slack https://hooks.slack.com/services/… groupSeconds=60 maxAlertsPerMessage=10
//   kafka broker1:9092,broker2:9092 fraud-alerts
//   file alerts.ndjson name=audit
// The same fields as the settings file (docs/OPERATIONS.md, "Alert sinks"); the shared schema
// still checks the result.

const NUMERIC = ['minScore', 'groupSeconds', 'maxAlertsPerMessage'] as const
const OPTIONS = ['name', 'secret', ...NUMERIC] as const
type Option = (typeof OPTIONS)[number]

/** Settings → one line per sink (defaults left out). */
export function formatSinks(sinks: readonly AlertSinkSettings[]): string {
  return sinks
    .map((s) => {
      const target = s.kind === 'kafka' ? `${s.servers.join(',')} ${s.topic}` : s.kind === 'file' ? s.path : s.url
      const opts: string[] = []
      if (s.name) opts.push(`name=${s.name}`)
      if (s.kind === 'webhook' && s.secret) opts.push(`secret=${s.secret}`)
      if (s.minScore) opts.push(`minScore=${s.minScore}`)
      if (s.groupSeconds) opts.push(`groupSeconds=${s.groupSeconds}`)
      if (s.maxAlertsPerMessage !== undefined) opts.push(`maxAlertsPerMessage=${s.maxAlertsPerMessage}`)
      return [s.kind, target, ...opts].join(' ')
    })
    .join('\n')
}

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
    if (positional.length < targets || positional.some((p) => p.includes('='))) {
      return bad(kind === 'kafka' ? 'write kafka SERVERS TOPIC, e.g. kafka localhost:9092 fraud-alerts' : `write ${kind} ${kind === 'file' ? 'PATH' : 'URL'}`)
    }
    const sink: Record<string, unknown> = { kind }
    if (kind === 'kafka') {
      sink.servers = positional[0].split(',').filter(Boolean)
      sink.topic = positional[1]
    } else if (kind === 'file') sink.path = positional[0]
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
      if ((NUMERIC as readonly string[]).includes(key)) {
        if (!/^\d+(\.\d+)?$/.test(value)) return bad(`${key} must be a number, got "${value}"`)
        sink[key] = Number(value)
      } else sink[key] = value
    }
    sinks.push(sink)
  }
  return { value: sinks }
}
