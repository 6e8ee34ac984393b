import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, type EngineClient, type EventName, type HandlerName, type ServerEvents, type SettingsOverride } from '../../../src/shared/api'
import type { BatchProgress, DashboardSnapshot, PipelineStatus } from '../../../src/shared/dto'
import { defaultSettings, parseSettings } from '../../../src/shared/settings'
import type { Connection, ConnectionInfo } from '../../../src/renderer/src/client/bridge'
import { applyBatchToStatus, createAppStores, type AppStores } from '../../../src/renderer/src/stores/stores'

const status = (state: PipelineStatus['state'], orders = 0, lastBatchId: number | null = null): PipelineStatus => ({
  state,
  message: null,
  source: { kind: 'generator', label: 'gen' },
  startedAt: null,
  lastBatchId,
  lastBatchAt: null,
  totals: { orders, alerts: 0, quarantined: 0, late: 0, duplicates: 0 },
  lagSeconds: 1,
  generator: { running: true, produced: 0 }
})

const snapshot = (n: number): DashboardSnapshot => ({
  at: new Date(n * 1000).toISOString(),
  kpis: {
    minutes: 1,
    completeMinutes: 1,
    periodStart: new Date(n * 1000 - 60_000).toISOString(),
    periodEnd: new Date(n * 1000).toISOString(),
    firstCompleteAt: null,
    orders: n,
    ordersPerMinute: n,
    revenue: n * 10,
    avgOrderValue: 10,
    uniqueCustomers: n,
    asOf: new Date(n * 1000).toISOString()
  },
  windows: [
    {
      windowStart: new Date(Date.UTC(2025, 0, 1, 0, n)).toISOString(),
      windowEnd: new Date(Date.UTC(2025, 0, 1, 0, n + 1)).toISOString(),
      orders: n,
      revenueOrders: n,
      revenue: n,
      avgOrderValue: 1,
      uniqueCustomers: 1,
      partial: false
    }
  ],
  alerts: [],
  recentOrders: [],
  statusDistribution: [],
  fraudHistogram: [],
  batches: [],
  summary: { orders: n, revenue: n, avgOrderValue: 1 },
  currency: 'USD',
  currencies: []
})

const batch = (id: number, valid: number): BatchProgress => ({
  batchId: id,
  startedAt: new Date(id * 1000).toISOString(),
  committedAt: new Date(id * 1000 + 100).toISOString(),
  durationMs: 100,
  rowsRead: valid,
  valid,
  quarantined: 1,
  late: 0,
  duplicates: 0,
  alerts: 0,
  inputRate: 1,
  processingRate: 1,
  watermark: null
})

/** A scripted EngineClient + Connection. */
class FakeEngine implements EngineClient, Connection {
  readonly kind = 'ws' as const
  calls: { name: string; args: unknown }[] = []
  listeners = new Map<string, Set<(p: unknown) => void>>()
  connListeners = new Set<(i: ConnectionInfo) => void>()
  info: ConnectionInfo = { state: 'open', error: null, retryAt: null, reconnects: 0 }
  handlers: Partial<Record<HandlerName, (args: unknown) => unknown>> = {}

  async invoke(name: HandlerName, args?: unknown): Promise<never> {
    this.calls.push({ name, args })
    const h = this.handlers[name]
    if (!h) throw new ApiError('unknown-method', `no fake for ${name}`)
    return (await h(args)) as never
  }
  subscribe<E extends EventName>(event: E, listener: (payload: ServerEvents[E]) => void): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as (p: unknown) => void)
    return () => set.delete(listener as (p: unknown) => void)
  }
  push<E extends EventName>(event: E, payload: ServerEvents[E]) {
    for (const l of this.listeners.get(event) ?? []) l(payload)
  }
  get() {
    return this.info
  }
  onChange(l: (i: ConnectionInfo) => void) {
    this.connListeners.add(l)
    return () => this.connListeners.delete(l)
  }
  setConn(info: Partial<ConnectionInfo>) {
    this.info = { ...this.info, ...info }
    for (const l of this.connListeners) l(this.info)
  }
  count(name: string) {
    return this.calls.filter((c) => c.name === name).length
  }
}

describe('app stores', () => {
  let engine: FakeEngine
  let stores: AppStores
  let settings = defaultSettings()
  let overrides: SettingsOverride[] = []

  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(0)
    settings = defaultSettings()
    overrides = []
    engine = new FakeEngine()
    engine.handlers = {
      'settings.get': () => settings,
      'settings.overrides': () => overrides,
      'pipeline.status': () => status('stopped'),
      'query.dashboard': () => snapshot(1),
      'pipeline.start': () => status('running'),
      'settings.update': (args) => {
        const next = parseSettings((args as { patch: unknown }).patch, settings)
        settings = next
        return { settings: next, restartRequired: [] }
      }
    }
    stores = createAppStores(engine, engine)
  })
  afterEach(() => {
    stores.dispose()
    vi.useRealTimers()
  })

  it('syncs status, settings and a first snapshot on start', async () => {
    await stores.sync()
    expect(stores.pipeline.getState().status?.state).toBe('stopped')
    expect(stores.settings.getState().settings).toEqual(settings)
    expect(stores.dashboard.getState().snapshot?.kpis.orders).toBe(1)
    expect(stores.history.getState().windows).toHaveLength(1)
  })

  it('commits pushed snapshots at most once per refresh interval, keeping the latest', async () => {
    await stores.sync() // refreshSeconds = 1
    const renders = vi.fn()
    stores.dashboard.subscribe(renders)
    vi.advanceTimersByTime(1000)
    for (let i = 2; i <= 21; i++) {
      engine.push('dashboard.snapshot', snapshot(i))
      vi.advanceTimersByTime(50) // 20 pushes in one second
    }
    vi.advanceTimersByTime(1000)
    expect(renders.mock.calls.length).toBeLessThanOrEqual(2)
    expect(stores.dashboard.getState().snapshot?.kpis.orders).toBe(21)
    // history got every window even though intermediate snapshots were never rendered
    expect(stores.history.getState().windows.length).toBeGreaterThanOrEqual(2)
  })

  it('uses the refresh interval from settings', async () => {
    settings = parseSettings({ dashboard: { refreshSeconds: 5 } })
    await stores.sync()
    vi.advanceTimersByTime(5000)
    const renders = vi.fn()
    stores.dashboard.subscribe(renders)
    engine.push('dashboard.snapshot', snapshot(2)) // leading edge
    engine.push('dashboard.snapshot', snapshot(3))
    vi.advanceTimersByTime(4000)
    expect(renders).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1000)
    expect(renders).toHaveBeenCalledTimes(2)
  })

  it('applies pipeline.state at once and batch counters on commit', async () => {
    await stores.sync()
    engine.push('pipeline.state', status('running', 100, 7))
    expect(stores.pipeline.getState().status?.state).toBe('running')
    vi.advanceTimersByTime(2000)
    engine.push('batch.progress', batch(7, 50)) // already counted in the state push
    engine.push('batch.progress', batch(8, 5))
    vi.advanceTimersByTime(2000)
    const s = stores.pipeline.getState().status!
    expect(s.totals.orders).toBe(105)
    expect(s.totals.quarantined).toBe(1)
    expect(s.lastBatchId).toBe(8)
    expect(stores.history.getState().batches.map((b) => b.batchId)).toEqual([7, 8])
  })

  it('start/stop record the result or the error', async () => {
    await stores.sync()
    await stores.pipeline.getState().start()
    expect(stores.pipeline.getState().status?.state).toBe('running')
    engine.handlers['pipeline.stop'] = () => {
      throw new ApiError('engine', 'stuck')
    }
    await stores.pipeline.getState().stop()
    expect(stores.pipeline.getState()).toMatchObject({ action: null, error: 'stuck' })
  })

  it('validates settings on edit and saves only the changed fields', async () => {
    await stores.sync()
    const s = stores.settings.getState()
    s.setField('pipeline.triggerMs', '5')
    expect(stores.settings.getState().clientErrors['pipeline.triggerMs']).toMatch(/between/)
    expect(await stores.settings.getState().save()).toBe(false)
    expect(engine.count('settings.update')).toBe(0)

    stores.settings.getState().setField('pipeline.triggerMs', '1000')
    expect(stores.settings.getState().clientErrors).toEqual({})
    expect(await stores.settings.getState().save()).toBe(true)
    expect(engine.calls.find((c) => c.name === 'settings.update')?.args).toEqual({ patch: { pipeline: { triggerMs: 1000 } } })
    expect(stores.settings.getState()).toMatchObject({ dirty: false, lastSave: { restartRequired: [] } })
  })

  it("knows the fields this run's command line set, and drops one once a save puts it in the file", async () => {
    overrides = [{ path: 'lakePath', value: '/run/lake', saved: 'lake' }]
    await stores.sync()
    expect(stores.settings.getState().overrides).toEqual({ lakePath: overrides[0] })
    overrides = []
    stores.settings.getState().setField('lakePath', '/chosen')
    expect(await stores.settings.getState().save()).toBe(true)
    expect(stores.settings.getState().overrides).toEqual({})
  })

  it('shows server field errors next to the fields', async () => {
    await stores.sync()
    engine.handlers['settings.update'] = () => {
      throw new ApiError('validation', 'rejected', [{ field: 'patch.source.inputPath', message: 'folder does not exist' }])
    }
    stores.settings.getState().setField('source.inputPath', '/nope')
    expect(await stores.settings.getState().save()).toBe(false)
    const st = stores.settings.getState()
    expect(st.serverErrors).toEqual({ 'source.inputPath': 'folder does not exist' })
    expect(st.generalError).toMatch(/rejected/)
    // editing the field clears its server error
    st.setField('source.inputPath', 'data')
    expect(stores.settings.getState().serverErrors).toEqual({})
  })

  it('tracks export progress and maps an outDir error onto the field', async () => {
    let finish!: (v: unknown) => void
    engine.handlers['lake.export'] = () => new Promise((r) => (finish = r))
    const ex = stores.exporter
    ex.getState().setOutDir('out')
    const run = ex.getState().run()
    expect(ex.getState().running).toBe(true)
    engine.push('export.progress', { table: 'silver_orders', done: 1, total: 4 })
    expect(ex.getState().progress).toEqual({ table: 'silver_orders', done: 1, total: 4 })
    finish({ outDir: '/x/out', format: 'parquet', tables: [{ name: 'silver_orders', rows: 3, file: 'a' }], manifestPath: '/x/out/m.json' })
    await run
    expect(ex.getState()).toMatchObject({ running: false, result: { outDir: '/x/out' } })

    engine.handlers['lake.export'] = () => {
      throw new ApiError('validation', 'bad', [{ field: 'outDir', message: 'not writable' }])
    }
    await ex.getState().run()
    expect(ex.getState()).toMatchObject({ fieldError: 'not writable', error: null })
  })

  it('asks before replacing an earlier export and sends overwrite only after the user confirmed', async () => {
    const asked = { status: 'needs-overwrite', outDir: '/x/out', message: 'not empty', replaces: ['customers.csv', 'manifest.json'], others: ['notes.txt'] }
    const done = { status: 'exported', outDir: '/x/out', format: 'csv', tables: [], files: [], manifestPath: '/x/out/manifest.json', replaced: ['customers.csv'] }
    engine.handlers['lake.export'] = (args) => ((args as { overwrite: boolean }).overwrite ? done : asked)
    const ex = stores.exporter
    ex.getState().setOutDir('out')
    ex.getState().setFormat('csv')
    await ex.getState().run()
    expect(engine.calls.at(-1)).toMatchObject({ name: 'lake.export', args: { outDir: 'out', format: 'csv', overwrite: false } })
    expect(ex.getState()).toMatchObject({ running: false, result: null, error: null, confirm: asked })

    // cancelling, or changing the folder or format, drops the question without exporting
    ex.getState().cancelOverwrite()
    expect(ex.getState().confirm).toBeNull()
    await ex.getState().run()
    ex.getState().setFormat('parquet')
    expect(ex.getState().confirm).toBeNull()
    ex.getState().setFormat('csv')
    await ex.getState().run()
    ex.getState().setOutDir('other')
    expect(ex.getState().confirm).toBeNull()
    expect(engine.calls.filter((c) => c.name === 'lake.export').every((c) => (c.args as { overwrite: boolean }).overwrite === false)).toBe(true)

    ex.getState().setOutDir('out')
    await ex.getState().run()
    await ex.getState().run(true)
    expect(engine.calls.at(-1)).toMatchObject({ name: 'lake.export', args: { outDir: 'out', format: 'csv', overwrite: true } })
    expect(ex.getState()).toMatchObject({ confirm: null, result: done })
  })

  it('pages through the quarantine', async () => {
    engine.handlers['query.quarantine'] = (args) => {
      const { offset } = args as { offset: number }
      return { rows: [{ id: offset + 1 }], total: 120 }
    }
    await stores.quarantine.getState().load(50)
    expect(engine.calls.at(-1)?.args).toEqual({ limit: 50, offset: 50 })
    expect(stores.quarantine.getState()).toMatchObject({ offset: 50, total: 120, loaded: true })
  })

  it('re-validates a quarantined line, says what happened, and reloads the page; a refusal is shown', async () => {
    let page = 0
    engine.handlers['query.quarantine'] = () => ({ rows: [], total: ++page })
    engine.handlers['quarantine.revalidate'] = () => ({ batchId: 7, lines: 3, valid: 2, duplicates: 1, stillBad: 0, alerts: 0 })
    await stores.quarantine.getState().revalidate({ reason: 'no exchange rate for SEK' })
    expect(engine.calls.find((c) => c.name === 'quarantine.revalidate')?.args).toEqual({ reason: 'no exchange rate for SEK' })
    expect(stores.quarantine.getState()).toMatchObject({
      revalidating: null,
      revalidated: { ok: true, message: 'Batch 7: 2 now valid, 1 duplicates, 0 still quarantined' },
      total: 1
    })
    engine.handlers['quarantine.revalidate'] = () => {
      throw new ApiError('validation', 'stop the pipeline first')
    }
    await stores.quarantine.getState().revalidate({ id: 3 })
    expect(stores.quarantine.getState().revalidated).toEqual({ ok: false, message: 'stop the pipeline first' })
  })

  it('replays with progress pushed per chunk, then fetches the dashboard again', async () => {
    let finish: (v: unknown) => void = () => undefined
    engine.handlers['lake.replay'] = () => new Promise((resolve) => (finish = resolve))
    const run = stores.replay.getState().run()
    expect(stores.replay.getState().running).toBe(true)
    const chunk = { replayId: 5, chunk: 1, chunks: 2, batchId: 5, batches: [1, 2] as [number, number], lines: 10, valid: 9, quarantined: 1, late: 0, duplicates: 0, alerts: 0 }
    engine.push('replay.progress', chunk)
    expect(stores.replay.getState().progress).toEqual(chunk)
    const syncsBefore = engine.count('query.dashboard')
    finish({ replayId: 5, chunks: 2, batches: 4, lines: 20, valid: 18 })
    await run
    expect(stores.replay.getState()).toMatchObject({ running: false, outcome: { ok: true, message: 'Replayed 4 batches in 2 chunks: 20 orders read, 18 valid' } })
    expect(engine.count('query.dashboard')).toBeGreaterThan(syncsBefore)
    // no longer listening once the call is done
    engine.push('replay.progress', { ...chunk, chunk: 2 })
    expect(stores.replay.getState().progress?.chunk).toBe(1)
  })

  it('pages and searches the alerts; a slow answer to an older search never replaces a newer one', async () => {
    const answers: { args: { search: string; offset: number }; resolve: (v: unknown) => void }[] = []
    engine.handlers['query.alertPage'] = (args) =>
      new Promise((resolve) => answers.push({ args: args as { search: string; offset: number }, resolve }))
    const browser = stores.alertBrowser.getState()
    const older = browser.setSearch('cus')
    const newer = stores.alertBrowser.getState().setSearch('cus_42')
    expect(answers.map((a) => a.args)).toEqual([
      { limit: 50, offset: 0, search: 'cus' },
      { limit: 50, offset: 0, search: 'cus_42' }
    ])
    answers[1].resolve({ rows: [{ orderId: 'o-42' }], total: 1, all: 420 })
    await newer
    answers[0].resolve({ rows: [{ orderId: 'o-1' }, { orderId: 'o-42' }], total: 2, all: 420 })
    await older
    expect(stores.alertBrowser.getState()).toMatchObject({ search: 'cus_42', rows: [{ orderId: 'o-42' }], total: 1, all: 420, offset: 0 })

    const next = stores.alertBrowser.getState().load(50)
    answers[2].resolve({ rows: [], total: 1, all: 420 })
    await next
    expect(answers[2].args).toEqual({ limit: 50, offset: 50, search: 'cus_42' })
  })

  it('shows the label of each alert on the page, and labels one (pressing it again withdraws it)', async () => {
    engine.handlers['query.alertPage'] = () => ({ rows: [{ orderId: 'o-1' }, { orderId: 'o-2' }], total: 2, all: 2 })
    engine.handlers['labels.list'] = (args) => {
      expect(args).toEqual({ limit: 2, orderIds: ['o-1', 'o-2'] })
      return [{ orderId: 'o-2', label: 'legit', author: 'ana', labelledAt: 't', note: '' }]
    }
    await stores.alertBrowser.getState().load(0)
    expect(stores.alertBrowser.getState().labels).toEqual({ 'o-2': 'legit' })
    engine.handlers['labels.set'] = (args) => {
      const { orderId, label } = args as { orderId: string; label: string }
      return label === 'cleared' ? null : { orderId, label, author: 'ana', labelledAt: 't', note: '' }
    }
    await stores.alertBrowser.getState().label('o-1', 'fraud')
    await stores.alertBrowser.getState().label('o-2', 'cleared')
    expect(stores.alertBrowser.getState().labels).toEqual({ 'o-1': 'fraud' })
    engine.handlers['labels.set'] = () => {
      throw new ApiError('validation', 'there is no order "o-9" in the lake')
    }
    await stores.alertBrowser.getState().label('o-9', 'fraud')
    expect(stores.alertBrowser.getState().labelError).toBe('there is no order "o-9" in the lake')
  })

  it('keeps the alerts when their labels cannot be read, and says so', async () => {
    engine.handlers['query.alertPage'] = () => ({ rows: [{ orderId: 'o-1' }], total: 1, all: 1 })
    await stores.alertBrowser.getState().load(0)
    expect(stores.alertBrowser.getState()).toMatchObject({ rows: [{ orderId: 'o-1' }], error: null, labels: {} })
    expect(stores.alertBrowser.getState().labelError).toMatch(/labels could not be read: no fake for labels.list/)
  })

  it('rules lab: loads the active ruleset into the editor, keeps only the latest check, promotes and reloads', async () => {
    const v1 = { threshold: 3, rules: [{ id: 'big', description: '', when: 'amount > 5000', points: 4 }] }
    let active = { version: 1, ruleset: v1 }
    engine.handlers['rules.active'] = () => active
    engine.handlers['rules.versions'] = () => [{ version: active.version, ruleset: active.ruleset, promotedBy: 'app', promotedAt: 't', note: '', restoredFrom: null }]
    engine.handlers['rules.shadow'] = () => null
    const lab = () => stores.rulesLab.getState()
    await lab().load()
    expect(JSON.parse(lab().text)).toEqual(v1)
    const checks: { text: string; resolve: (v: unknown) => void }[] = []
    engine.handlers['rules.check'] = (args) => new Promise((resolve) => checks.push({ text: (args as { text: string }).text, resolve }))
    lab().setText('{"threshold": 3, "rules": [{"id": "x", "when": "amount >", "points": 1}]}')
    const older = lab().check()
    lab().setText(JSON.stringify({ ...v1, threshold: 4 }))
    const newer = lab().check()
    checks[1].resolve({ ok: true, ruleset: { ...v1, threshold: 4 } })
    await newer
    checks[0].resolve({ ok: false, issues: [{ path: 'rules[0].when (x)', message: 'line 1, column 9: expected a value' }] })
    await older
    expect(lab().issues).toEqual([])
    engine.handlers['rules.promote'] = (args) => {
      active = { version: 2, ruleset: JSON.parse((args as { text: string }).text) }
      return { version: 2, ruleset: active.ruleset, promotedBy: 'app', promotedAt: 't', note: 'up', restoredFrom: null }
    }
    await lab().promote('up')
    expect(lab()).toMatchObject({ busy: null, error: null, active: { version: 2 }, notice: expect.stringMatching(/version 2 is active/) })
    expect(JSON.parse(lab().text).threshold).toBe(4)
    const run = { shadowId: 1, ruleset: v1, startedBy: 'app', startedAt: 't', note: 'try', endedAt: null as string | null, outcome: null as string | null }
    engine.handlers['rules.shadowStart'] = () => run
    engine.handlers['rules.shadow'] = () => ({ run, orders: 0, live_alerts: 0, shadow_alerts: 0, both: 0, live_only: 0, shadow_only: 0, samples: { live_only: [], shadow_only: [] }, per_rule: [] })
    await lab().startShadow('try')
    expect(lab()).toMatchObject({ busy: null, shadow: { run: { shadowId: 1, endedAt: null } }, notice: 'shadow 1 scores the next batches beside version 2' })
    engine.handlers['rules.shadowEnd'] = (args) => {
      expect(args).toEqual({ action: 'drop', note: '' })
      Object.assign(run, { endedAt: 'later', outcome: 'dropped' })
      return { shadow: run, version: null }
    }
    await lab().endShadow('drop')
    expect(lab()).toMatchObject({ busy: null, shadow: { run: { outcome: 'dropped' } }, notice: 'shadow 1 dropped' })
    engine.handlers['rules.promote'] = () => {
      throw new ApiError('validation', 'there is no ruleset version 9 in this lake')
    }
    await lab().restore(9, '')
    expect(lab()).toMatchObject({ busy: null, error: 'there is no ruleset version 9 in this lake' })
  })

  it('rule lists: create one from typed or imported text, read as list-import reads a file; refusals land on their field', async () => {
    const lake = new Map<string, { name: string; description: string; values: string[] }>([['blocked', { name: 'blocked', description: 'block list', values: ['c-1', 'c-2'] }]])
    engine.handlers['lists.get'] = () => [...lake.values()]
    engine.handlers['lists.set'] = (args) => {
      const list = args as { name: string; description: string; values: string[] }
      if (!/^[a-z]/.test(list.name)) throw new ApiError('validation', 'name: must start with a lower-case letter', [{ field: 'name', message: 'must start with a lower-case letter' }])
      lake.set(list.name, list)
      return list
    }
    const lists = () => stores.ruleLists.getState()
    await lists().load()
    lists().open('blocked')
    expect(lists().draft).toEqual({ name: 'blocked', description: 'block list', text: 'c-1\nc-2', isNew: false })

    lists().create()
    lists().edit({ name: 'blocked' })
    expect(await lists().save()).toBe(false)
    expect(lists().errors.name).toMatch(/a list named blocked exists/)
    expect(engine.count('lists.set')).toBe(0)

    lists().edit({ name: 'Vip', description: ' big spenders ' })
    expect(lists().errors).toEqual({})
    lists().importText('\uFEFF# exported\r\n cus_9 \r\n\r\ncus_8\r\ncus_9\r\n')
    expect(lists().draft?.text).toBe('cus_9\ncus_8')
    expect(await lists().save()).toBe(false)
    expect(lists()).toMatchObject({ errors: { name: 'must start with a lower-case letter' }, error: null, saving: false })

    lists().importText(`ok\n${'x'.repeat(1001)}`)
    expect(lists().errors.values).toMatch(/line 2: a value is at most 1000 characters/)
    expect(lists().draft?.text).toBe('cus_9\ncus_8')

    lists().edit({ name: 'vip', text: 'cus_9\ncus_8\n\ncus_7' })
    expect(await lists().save()).toBe(true)
    expect(engine.calls.filter((c) => c.name === 'lists.set').at(-1)?.args).toEqual({ name: 'vip', description: 'big spenders', values: ['cus_9', 'cus_8', 'cus_7'] })
    expect(lists()).toMatchObject({ errors: {}, notice: 'list vip saved: 3 values', draft: { name: 'vip', isNew: false, text: 'cus_9\ncus_8\ncus_7' } })
    expect(lists().lists.map((l) => [l.name, l.values.length])).toEqual([
      ['blocked', 2],
      ['vip', 3]
    ])

    engine.handlers['lists.set'] = () => {
      throw new ApiError('engine', 'no lake yet: start the pipeline once')
    }
    expect(await lists().save()).toBe(false)
    expect(lists()).toMatchObject({ errors: {}, error: 'no lake yet: start the pipeline once' })
  })

  it('counts new alerts when notifications are on', async () => {
    const onNewAlerts = vi.fn()
    stores.dispose()
    stores = createAppStores(engine, engine, { onNewAlerts })
    await stores.sync()
    engine.push('alerts.new', [{ orderId: 'a' } as never, { orderId: 'b' } as never])
    expect(stores.notices.getState().newAlerts).toBe(2)
    expect(onNewAlerts).toHaveBeenCalledTimes(1)
  })

  it('resyncs after a reconnect', async () => {
    await stores.sync()
    const before = engine.count('query.dashboard')
    engine.setConn({ state: 'reconnecting' })
    engine.setConn({ state: 'open', reconnects: 1 })
    expect(engine.count('query.dashboard')).toBe(before + 1)
    expect(stores.connection.getState().reconnects).toBe(1)
  })
})

describe('applyBatchToStatus', () => {
  it('adds only batches newer than the status', () => {
    const s = applyBatchToStatus(status('running', 10, 3), [batch(2, 100), batch(4, 5)])
    expect(s.totals.orders).toBe(15)
    expect(s.lastBatchId).toBe(4)
  })
})

describe('analyst workbench stores: pause, history range, order search', () => {
  let engine: FakeEngine
  let stores: AppStores
  const settings = defaultSettings() // refreshSeconds = 1

  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(0)
    engine = new FakeEngine()
    engine.handlers = {
      'settings.get': () => settings,
      'settings.overrides': () => [],
      'pipeline.status': () => status('running', 0, 1),
      'query.dashboard': () => snapshot(1)
    }
    stores = createAppStores(engine, engine)
  })
  afterEach(() => {
    stores.dispose()
    vi.useRealTimers()
  })

  it('while paused, charts and tables hold still and the counters go on; resume shows the latest at once', async () => {
    await stores.sync()
    vi.advanceTimersByTime(1000)
    stores.liveUpdates.getState().pause()
    expect(stores.liveUpdates.getState()).toMatchObject({ paused: true, pausedAt: 1000, batchAtPause: 1, heldBack: false })
    const shown = stores.dashboard.getState().snapshot
    const windows = stores.history.getState().windows
    engine.push('dashboard.snapshot', snapshot(5))
    engine.push('batch.progress', batch(2, 30))
    engine.push('dashboard.snapshot', snapshot(6))
    vi.advanceTimersByTime(5000)
    expect(stores.dashboard.getState().snapshot).toBe(shown)
    expect(stores.history.getState().windows).toBe(windows)
    expect(stores.pipeline.getState().status).toMatchObject({ lastBatchId: 2, totals: { orders: 30 } })
    expect(stores.liveUpdates.getState().heldBack).toBe(true)

    stores.liveUpdates.getState().resume()
    expect(stores.liveUpdates.getState()).toMatchObject({ paused: false, heldBack: false })
    expect(stores.dashboard.getState().snapshot?.kpis.orders).toBe(6)
    expect(stores.history.getState().batches.map((b) => b.batchId)).toEqual([2])
    // the batch is counted once, though the paused commit already applied it to the counters
    expect(stores.pipeline.getState().status?.totals.orders).toBe(30)
  })

  it('a relative range is fetched, follows committed snapshots but not while paused; live drops it', async () => {
    await stores.sync()
    let n = 0
    engine.handlers['query.history'] = () => ({ n: ++n })
    await stores.historyRange.getState().select('24h')
    expect(engine.calls.at(-1)).toEqual({ name: 'query.history', args: { range: '24h' } })
    expect(stores.historyRange.getState()).toMatchObject({ range: '24h', view: { n: 1 }, loading: false })

    vi.advanceTimersByTime(1000)
    engine.push('dashboard.snapshot', snapshot(2))
    await vi.advanceTimersByTimeAsync(1000)
    expect(engine.count('query.history')).toBe(2)

    stores.liveUpdates.getState().pause()
    engine.push('dashboard.snapshot', snapshot(3))
    await vi.advanceTimersByTimeAsync(3000)
    expect(engine.count('query.history')).toBe(2)
    stores.liveUpdates.getState().resume()
    await vi.advanceTimersByTimeAsync(0)
    expect(engine.count('query.history')).toBe(3)

    await stores.historyRange.getState().select('live')
    expect(stores.historyRange.getState()).toMatchObject({ range: 'live', view: null })
    expect(engine.count('query.history')).toBe(3)
  })

  it('a custom range is sent as chosen, stays fixed, and shows the engine’s refusal', async () => {
    await stores.sync()
    engine.handlers['query.history'] = () => {
      throw new ApiError('validation', 'the end must come after the start')
    }
    await stores.historyRange.getState().selectCustom('2024-03-02T00:00:00.000Z', '2024-03-01T00:00:00.000Z')
    expect(engine.calls.at(-1)?.args).toEqual({ range: 'custom', from: '2024-03-02T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' })
    expect(stores.historyRange.getState()).toMatchObject({ range: 'custom', view: null, error: 'the end must come after the start' })
    vi.advanceTimersByTime(1000)
    engine.push('dashboard.snapshot', snapshot(2))
    await vi.advanceTimersByTimeAsync(1000)
    expect(engine.count('query.history')).toBe(1)
  })

  it('order filters search the lake from the first page; clearing them returns to the live list; old answers lose', async () => {
    await stores.sync()
    const answers: { args: Record<string, unknown>; resolve: (v: unknown) => void }[] = []
    engine.handlers['query.orderSearch'] = (args) => new Promise((resolve) => answers.push({ args: args as Record<string, unknown>, resolve }))
    const older = stores.orderSearch.getState().setFilters({ customer: ' cus ' })
    const newer = stores.orderSearch.getState().setFilters({ status: 'paid', minScore: 3 })
    expect(answers.map((a) => a.args)).toEqual([
      { limit: 100, offset: 0, orderId: '', customer: 'cus', status: '', currency: '', minScore: null, late: 'any' },
      { limit: 100, offset: 0, orderId: '', customer: 'cus', status: 'paid', currency: '', minScore: 3, late: 'any' }
    ])
    answers[1].resolve({ rows: [{ orderId: 'o-2' }], total: 1 })
    await newer
    answers[0].resolve({ rows: [{ orderId: 'o-1' }, { orderId: 'o-2' }], total: 2 })
    await older
    expect(stores.orderSearch.getState()).toMatchObject({ active: true, rows: [{ orderId: 'o-2' }], total: 1, offset: 0 })

    await stores.orderSearch.getState().setFilters({ customer: '', status: '', minScore: null })
    expect(stores.orderSearch.getState()).toMatchObject({ active: false, rows: [], offset: 0 })
    expect(answers).toHaveLength(2)
  })

  it('showing one order (a backtest sample) searches for that id alone, whatever filters were set', async () => {
    await stores.sync()
    engine.handlers['query.orderSearch'] = (args) => ({ rows: [{ orderId: (args as { orderId: string }).orderId }], total: 1 })
    await stores.orderSearch.getState().setFilters({ customer: 'cus', status: 'paid', late: 'late' })
    await stores.orderSearch.getState().showOrder('ord-7')
    expect(engine.calls.filter((c) => c.name === 'query.orderSearch').at(-1)?.args).toEqual({
      limit: 100,
      offset: 0,
      orderId: 'ord-7',
      customer: '',
      status: '',
      currency: '',
      minScore: null,
      late: 'any'
    })
    expect(stores.orderSearch.getState()).toMatchObject({ active: true, rows: [{ orderId: 'ord-7' }], total: 1 })
    stores.orderSearch.getState().clear()
    expect(stores.orderSearch.getState().filters.orderId).toBe('')
  })

  it('the next page of the unfiltered list is a search; a filtered first page follows commits, a later page stays put', async () => {
    await stores.sync()
    engine.handlers['query.orderSearch'] = (args) => ({ rows: [], total: 500, args })
    await stores.orderSearch.getState().load(100)
    expect(stores.orderSearch.getState()).toMatchObject({ active: true, offset: 100 })
    vi.advanceTimersByTime(1000)
    engine.push('dashboard.snapshot', snapshot(2))
    await vi.advanceTimersByTimeAsync(1000)
    expect(engine.count('query.orderSearch')).toBe(1)

    await stores.orderSearch.getState().setFilters({ late: 'late' })
    engine.push('dashboard.snapshot', snapshot(3))
    await vi.advanceTimersByTimeAsync(1000)
    expect(engine.count('query.orderSearch')).toBe(3)
    await stores.orderSearch.getState().load(0)
    expect(stores.orderSearch.getState().active).toBe(true)
  })
})
