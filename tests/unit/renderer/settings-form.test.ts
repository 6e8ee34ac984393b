import { describe, expect, it } from 'vitest'
import { ApiError } from '../../../src/shared/api'
import { defaultSettings, parseSettings, replacedWhole, settingsSchema } from '../../../src/shared/settings'
import {
  appliesOnRestart,
  checkForm,
  diffPatch,
  errorsFromApi,
  FIELDS,
  mapFieldErrors,
  overrideNote,
  parseField,
  settingsToForm
} from '../../../src/renderer/src/stores/settings-form'

/** Fields of Settings; a map whose keys are data (the exchange rates) is one field. */
const leafPaths = (obj: unknown, prefix = ''): string[] =>
  typeof obj === 'object' && obj !== null && !Array.isArray(obj) && !replacedWhole.includes(prefix)
    ? Object.entries(obj).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k))
    : [prefix]

describe('settings form', () => {
  it('has a field for every leaf of Settings', () => {
    const fieldPaths = new Set(FIELDS.map((f) => f.path))
    expect(leafPaths(settingsSchema.parse({})).filter((p) => !fieldPaths.has(p))).toEqual([])
  })

  it('round-trips the defaults unchanged', () => {
    const s = defaultSettings()
    const check = checkForm(settingsToForm(s), s)
    expect(check.errors).toEqual({})
    expect(check.settings).toEqual(s)
    expect(diffPatch(s, check.settings!)).toEqual({})
  })

  it('turns on /metrics and the Parquet mirror from the Operations fields, the mirror at the next start', () => {
    const s = defaultSettings()
    const form = { ...settingsToForm(s), 'metrics.enabled': true, 'metrics.port': '9500', 'mirror.enabled': true, 'mirror.path': '/data/mirror' }
    const check = checkForm(form, s)
    expect(check.errors).toEqual({})
    expect(diffPatch(s, check.settings!)).toEqual({ metrics: { enabled: true, port: 9500 }, mirror: { enabled: true, path: '/data/mirror' } })
    expect(appliesOnRestart('mirror.path')).toBe(true)
    expect(appliesOnRestart('metrics.port')).toBe(false)
    expect(checkForm({ ...form, 'metrics.port': '80' }, s).errors['metrics.port']).toBeDefined()
  })

  it('edits alert sinks one per line, and names the line that is wrong', () => {
    const s = defaultSettings()
    const text = [
      'webhook https://fraud.example.com/hook secret=s3cret minScore=5',
      '',
      'slack https://hooks.slack.com/services/T/B/X groupSeconds=60 maxAlertsPerMessage=10',
      'kafka b1:9092,b2:9092 fraud-alerts name=bus',
      'file alerts.ndjson'
    ].join('\n')
    const check = checkForm({ ...settingsToForm(s), 'alerts.sinks': text }, s)
    expect(check.errors).toEqual({})
    const sinks = [
      { kind: 'webhook', url: 'https://fraud.example.com/hook', secret: 's3cret', minScore: 5, groupSeconds: 0 },
      { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X', minScore: 0, groupSeconds: 60, maxAlertsPerMessage: 10 },
      { kind: 'kafka', servers: ['b1:9092', 'b2:9092'], topic: 'fraud-alerts', name: 'bus', minScore: 0, groupSeconds: 0 },
      { kind: 'file', path: 'alerts.ndjson', minScore: 0, groupSeconds: 0 }
    ]
    expect(diffPatch(s, check.settings!)).toEqual({ alerts: { sinks } })
    // and back: the form shows what it was given (without the blank line), defaults left out
    expect(settingsToForm(check.settings!)['alerts.sinks']).toBe(text.replace('\n\n', '\n'))
    expect(appliesOnRestart('alerts.sinks')).toBe(true)

    const error = (t: string) => checkForm({ ...settingsToForm(s), 'alerts.sinks': t }, s).errors['alerts.sinks']
    expect(error('file a.ndjson\nsmtp mail.example.com')).toBe('line 2: "smtp" is not a sink kind (webhook, slack, kafka or file)')
    expect(error('kafka localhost:9092')).toBe('line 1: write kafka SERVERS TOPIC, e.g. kafka localhost:9092 fraud-alerts')
    expect(error('webhook ftp://x')).toBe('line 1: the URL must start with http:// or https://')
    expect(error('slack https://h/x secret=1')).toBe('line 1: only a webhook takes a secret')
    expect(error('file a minScore=high')).toBe('line 1: minScore must be a number, got "high"')
    expect(error('file a colour=red')).toMatch(/^line 1: "colour=red" is not an option/)
    // what the form cannot know, the shared schema says on the same field
    expect(error('file a maxAlertsPerMessage=0')).toBe('must be at least 1')
  })

  it('edits the exchange rates as "CODE rate" pairs: a rate can be added, changed and removed', () => {
    const s = defaultSettings()
    const form = settingsToForm(s)
    expect(form['reporting.fxRates']).toBe('AUD 0.66, CAD 0.73, EUR 1.08, GBP 1.27')
    const check = checkForm({ ...form, 'reporting.fxRates': 'eur: 1.1; GBP=1.27\nsek 0.095' }, s)
    expect(check.errors).toEqual({})
    expect(check.settings?.reporting.fxRates).toEqual({ EUR: 1.1, GBP: 1.27, SEK: 0.095 })
    // the whole map goes to the engine, so AUD and CAD are gone there too
    const patch = diffPatch(s, check.settings!)
    expect(patch).toEqual({ reporting: { fxRates: { EUR: 1.1, GBP: 1.27, SEK: 0.095 } } })
    expect(parseSettings(patch, s).reporting.fxRates).toEqual({ EUR: 1.1, GBP: 1.27, SEK: 0.095 })

    const bad = (text: string) => checkForm({ ...form, 'reporting.fxRates': text }, s).errors['reporting.fxRates']
    expect(bad('XYZ 2')).toBe('XYZ is not an ISO 4217 currency code')
    expect(bad('EUR 0')).toBe('the rate of EUR must be a number above 0, got 0')
    expect(bad('EUR one')).toBe('the rate of EUR must be a number above 0, got one')
    expect(bad('1.08 EUR')).toMatch(/write a currency code and its rate/)
    expect(bad('EUR 1, eur 2')).toBe('EUR is given twice')
    // the reporting currency's own rate is 1: the schema says so next to the rates
    expect(checkForm({ ...form, 'reporting.currency': 'EUR' }, s).errors['reporting.fxRates']).toBe(
      'EUR is the reporting currency: its rate is 1 (got 1.08)'
    )
  })

  it('shows scaled values and stores them unscaled', () => {
    const s = defaultSettings()
    const form = settingsToForm(s)
    expect(form['pipeline.maxBatchBytes']).toBe('256')
    const check = checkForm({ ...form, 'pipeline.maxBatchBytes': '1' }, s)
    expect(check.settings?.pipeline.maxBatchBytes).toBe(1024 * 1024)
  })

  it('gives instant per-field errors', () => {
    const s = defaultSettings()
    const form = {
      ...settingsToForm(s),
      'pipeline.triggerMs': '10',
      'dashboard.refreshSeconds': 'abc',
      'pipeline.windowMinutes': '1.5',
      'source.inputPath': '  ',
      'generator.seed': 'x'
    }
    const { settings, errors } = checkForm(form, s)
    expect(settings).toBeNull()
    expect(errors['pipeline.triggerMs']).toMatch(/between 50 and 600000 ms/)
    expect(errors['dashboard.refreshSeconds']).toBe('not a number')
    expect(errors['pipeline.windowMinutes']).toBe('enter a whole number')
    expect(errors['source.inputPath']).toBe('required')
    expect(errors['generator.seed']).toMatch(/whole number/)
  })

  it('falls back to the shared schema for rules the form does not know', () => {
    const s = defaultSettings()
    const { errors } = checkForm({ ...settingsToForm(s), 'source.kafka.servers': 'localhost:9092, nope' }, s)
    expect(errors['source.kafka.servers']).toBe('expected HOST:PORT')
  })

  it('builds a minimal patch', () => {
    const s = defaultSettings()
    const form = { ...settingsToForm(s), 'fraud.weights.velocity': '5', 'source.kafka.servers': 'a:1, b:2', 'generator.seed': '42' }
    const { settings } = checkForm(form, s)
    expect(diffPatch(s, settings!)).toEqual({
      fraud: { weights: { velocity: 5 } },
      source: { kafka: { servers: ['a:1', 'b:2'] } },
      generator: { seed: 42 }
    })
  })

  it('parses booleans and selects', () => {
    const bool = FIELDS.find((f) => f.path === 'generator.enabled')!
    expect(parseField(bool, false)).toEqual({ value: false })
    const select = FIELDS.find((f) => f.path === 'dashboard.theme')!
    expect(parseField(select, 'dark')).toEqual({ value: 'dark' })
    expect(parseField(select, 'pink')).toHaveProperty('error')
  })

  it('greys out the generator unless it is the source: with a folder or Kafka it does nothing', () => {
    const generatorFields = FIELDS.filter((f) => f.group === 'Generator')
    expect(generatorFields.length).toBeGreaterThan(5)
    const form = settingsToForm(defaultSettings())
    for (const kind of ['folder', 'kafka']) {
      const off = { ...form, 'source.kind': kind }
      expect(generatorFields.filter((f) => f.enabledWhen?.(off) ?? true).map((f) => f.path)).toEqual([])
    }
    const on = { ...form, 'source.kind': 'generator', 'generator.pace': 'rate' }
    const enabled = generatorFields.filter((f) => f.enabledWhen?.(on) ?? true).map((f) => f.path)
    expect(enabled).toContain('generator.enabled')
    expect(enabled).toContain('generator.ratePerSecond')
    expect(enabled).not.toContain('generator.intervalSeconds')
  })

  it('marks fields that apply on restart', () => {
    expect(appliesOnRestart('source.kind')).toBe(true)
    expect(appliesOnRestart('source.kafka.servers')).toBe(true)
    expect(appliesOnRestart('pipeline.windowMinutes')).toBe(true)
    expect(appliesOnRestart('pipeline.triggerMs')).toBe(false)
    expect(appliesOnRestart('dashboard.theme')).toBe(false)
  })
})

describe('server field errors', () => {
  it('maps dotted paths, patch prefixes and array indexes onto fields', () => {
    const mapped = mapFieldErrors([
      { field: 'pipeline.triggerMs', message: 'too small' },
      { field: 'patch.dashboard.refreshSeconds', message: 'too big' },
      { field: 'source.kafka.servers.1', message: 'expected HOST:PORT' },
      { field: 'source.kafka.servers.2', message: 'expected HOST:PORT again' },
      { field: 'patch', message: 'expected an object' },
      { field: '(settings)', message: 'broken' }
    ])
    expect(mapped.byField).toEqual({
      'pipeline.triggerMs': 'too small',
      'dashboard.refreshSeconds': 'too big',
      'source.kafka.servers': 'expected HOST:PORT; expected HOST:PORT again'
    })
    expect(mapped.general).toEqual(['patch: expected an object', 'broken'])
  })

  it('turns an ApiError without fields into a general error', () => {
    expect(errorsFromApi(new ApiError('engine', 'disk full'))).toEqual({ byField: {}, general: ['disk full'] })
    expect(errorsFromApi(new ApiError('validation', 'bad', [{ field: 'lakePath', message: 'required' }])).byField).toEqual({
      lakePath: 'required'
    })
  })

  it('shows stored secrets as •••• with their reference, keeps them when left alone and takes a new one when typed', () => {
    const ref = { secretRef: '0123456789abcdef' }
    const s = parseSettings({
      source: { kind: 'kafka', kafka: { tls: { enabled: true, caFile: 'ca.pem' }, sasl: { mechanism: 'plain', username: 'bob', password: ref } } },
      alerts: {
        sinks: [
          { kind: 'webhook', url: 'https://h/x', secret: ref },
          { kind: 'slack', url: { secretRef: 'fedcba9876543210' } },
          { kind: 'kafka', servers: ['b:9093'], topic: 't', tls: { enabled: true, caFile: 'ca.pem' }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: ref } }
        ]
      }
    })
    const form = settingsToForm(s)
    expect(form['source.kafka.sasl.password']).toBe('••••0123456789abcdef')
    expect(form['alerts.sinks']).toBe(
      [
        'webhook https://h/x secret=••••0123456789abcdef',
        'slack ••••fedcba9876543210',
        'kafka b:9093 t tls=on tlsCa=ca.pem sasl=scram-sha-512 user=u password=••••0123456789abcdef'
      ].join('\n')
    )
    // left as shown: nothing changes, no secret is sent
    const same = checkForm(form, s)
    expect(same.errors).toEqual({})
    expect(diffPatch(s, same.settings!)).toEqual({})
    // a new password typed: sent once, as typed (the engine stores it and answers a reference)
    const typed = checkForm({ ...form, 'source.kafka.sasl.password': 'new-pw' }, s)
    expect(diffPatch(s, typed.settings!)).toEqual({ source: { kafka: { sasl: { password: 'new-pw' } } } })
    // a mechanism without a password: said on the password field
    const none = checkForm({ ...form, 'source.kafka.sasl.password': '' }, s)
    expect(none.errors['source.kafka.sasl.password']).toBe('SASL PLAIN needs a password')
    const error = (t: string) => checkForm({ ...form, 'alerts.sinks': t }, s).errors['alerts.sinks']
    expect(error('webhook https://h/x tls=on')).toBe('line 1: tls= is for a kafka sink')
    expect(error('kafka b:1 t tls=maybe')).toBe('line 1: tls must be on or off, got "maybe"')
  })
})

describe('a field this run took from the command line', () => {
  const def = (path: string) => FIELDS.find((f) => f.path === path)!
  it("names the settings file's value, a choice by its label", () => {
    expect(overrideNote(def('lakePath'), '/saved/lake')).toMatch(/for this run only\. The settings file says \/saved\/lake, which StreamDesk uses when started without/)
    expect(overrideNote(def('source.kind'), 'generator')).toContain(`says ${def('source.kind').options!.find((o) => o.value === 'generator')!.label},`)
    expect(overrideNote(def('source.inputPath'), '')).toContain('says nothing,')
  })
})
