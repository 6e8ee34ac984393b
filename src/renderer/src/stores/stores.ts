import { createStore, type StoreApi } from 'zustand/vanilla'
import type { EngineClient, SettingsOverride } from '../../../shared/api'
import type {
  AlertRow,
  BatchProgress,
  BatchRow,
  DashboardSnapshot,
  ExportFormat,
  ExportNeedsOverwrite,
  ExportProgress,
  ExportResult,
  PipelineStatus,
  QuarantineRow,
  WindowRow
} from '../../../shared/dto'
import type { Settings } from '../../../shared/settings'
import type { Connection, ConnectionInfo } from '../client/bridge'
import { toApiError } from '../client/errors'
import { createThrottle } from '../lib/throttle'
import { createAlertBrowser, type AlertBrowserState } from './alert-browser'
import { createReplay, type ReplayState } from './replay'
import { createHealth, type HealthStore } from './health'
import { createRuleLists, type RuleListsState } from './rule-lists'
import { createRulesLab, type RulesLabState } from './rules-lab'
import { createHistoryRange, type HistoryRangeState } from './history-range'
import { createLiveUpdates, type LiveUpdatesState } from './live-updates'
import { createOrderSearch, type OrderSearchState } from './order-search'
import { mergeAlerts, mergeBatches, mergeWindows } from './history'
import { checkForm, diffPatch, errorsFromApi, settingsToForm, type FormValue, type FormValues } from './settings-form'

// Every store talks only to the EngineClient. Pushed events are buffered and committed at most
// once per dashboard refresh interval, so a fast pipeline cannot make React render faster than
// the user asked for; pipeline state changes are committed at once.

export interface PipelineState {
  status: PipelineStatus | null
  /** Start or stop in flight. */
  action: 'start' | 'stop' | null
  /** Why the last start/stop/status call failed. */
  error: string | null
  start(): Promise<void>
  stop(): Promise<void>
  refresh(): Promise<void>
}

export interface DashboardState {
  snapshot: DashboardSnapshot | null
  /** Epoch ms of the last commit. */
  updatedAt: number | null
  error: string | null
  refresh(): Promise<void>
}

export interface HistoryState {
  windows: WindowRow[]
  batches: BatchRow[]
  alerts: AlertRow[]
}

export interface SettingsState {
  settings: Settings | null
  form: FormValues
  /** Instant client-side validation, by field path ('' = whole form). */
  clientErrors: Record<string, string>
  /** Field errors from the last settings.update, by field path. */
  serverErrors: Record<string, string>
  generalError: string | null
  loadError: string | null
  saving: boolean
  dirty: boolean
  lastSave: { at: number; restartRequired: string[] } | null
  /** Settings this run took from its command line, by path (the Settings form says so on those fields). */
  overrides: Record<string, SettingsOverride>
  load(): Promise<void>
  setField(path: string, value: FormValue): void
  reset(): void
  save(): Promise<boolean>
}

export interface ExportState {
  format: ExportFormat
  outDir: string
  running: boolean
  progress: ExportProgress | null
  result: ExportResult | null
  error: string | null
  fieldError: string | null
  /** The folder is not empty: what an overwrite would replace, until the user answers. */
  confirm: ExportNeedsOverwrite | null
  setFormat(format: ExportFormat): void
  setOutDir(dir: string): void
  /** `overwrite` only after the user confirmed replacing the earlier export the engine named. */
  run(overwrite?: boolean): Promise<void>
  cancelOverwrite(): void
  clear(): void
}

export interface QuarantineState {
  rows: QuarantineRow[]
  total: number
  offset: number
  limit: number
  loading: boolean
  error: string | null
  loaded: boolean
  load(offset?: number): Promise<void>
  /** A re-validation in flight (the row id, or the reason), and what the last one did. */
  revalidating: string | null
  revalidated: { message: string; ok: boolean } | null
  revalidate(selector: { id: number } | { reason: string }): Promise<void>
}

export interface NoticeState {
  /** Newest fraud alerts pushed since the user last looked. */
  newAlerts: number
  lastAlertAt: number | null
  dismiss(): void
}

export interface AppStores {
  client: EngineClient
  connectionKind: Connection['kind']
  connection: StoreApi<ConnectionInfo>
  pipeline: StoreApi<PipelineState>
  dashboard: StoreApi<DashboardState>
  history: StoreApi<HistoryState>
  settings: StoreApi<SettingsState>
  exporter: StoreApi<ExportState>
  quarantine: StoreApi<QuarantineState>
  alertBrowser: StoreApi<AlertBrowserState>
  replay: StoreApi<ReplayState>
  health: StoreApi<HealthStore>
  rulesLab: StoreApi<RulesLabState>
  ruleLists: StoreApi<RuleListsState>
  notices: StoreApi<NoticeState>
  liveUpdates: StoreApi<LiveUpdatesState>
  historyRange: StoreApi<HistoryRangeState>
  orderSearch: StoreApi<OrderSearchState>
  /** Fetches everything the UI shows on start (and after a reconnect). */
  sync(): Promise<void>
  dispose(): void
}

export interface StoreOptions {
  /** Called with alerts pushed by alerts.new when notifications are on. */
  onNewAlerts?: (alerts: AlertRow[]) => void
  now?: () => number
}

const STATUS_RESYNC_MS = 5000

const message = (err: unknown): string => toApiError(err).message

/** Applies a committed batch to the status counters so the header moves between state pushes. */
export function applyBatchToStatus(status: PipelineStatus, batches: readonly BatchProgress[]): PipelineStatus {
  let next = status
  for (const b of batches) {
    if (next.lastBatchId !== null && b.batchId <= next.lastBatchId) continue
    next = {
      ...next,
      lastBatchId: b.batchId,
      lastBatchAt: b.committedAt,
      totals: {
        orders: next.totals.orders + b.valid,
        alerts: next.totals.alerts + b.alerts,
        quarantined: next.totals.quarantined + b.quarantined,
        late: next.totals.late + b.late,
        duplicates: next.totals.duplicates + b.duplicates
      }
    }
  }
  return next
}

export function createAppStores(client: EngineClient, connection: Connection, options: StoreOptions = {}): AppStores {
  const now = options.now ?? Date.now
  const offs: (() => void)[] = []

  const connectionStore = createStore<ConnectionInfo>(() => connection.get())
  offs.push(connection.onChange((info) => connectionStore.setState(info, true)))

  // ---- pipeline --------------------------------------------------------------------------------
  const pipeline = createStore<PipelineState>((set, get) => ({
    status: null,
    action: null,
    error: null,
    async start() {
      if (get().action) return
      set({ action: 'start', error: null })
      try {
        const status = await client.invoke('pipeline.start', {})
        set({ status, action: null })
      } catch (err) {
        set({ action: null, error: message(err) })
      }
    },
    async stop() {
      if (get().action) return
      set({ action: 'stop', error: null })
      try {
        const status = await client.invoke('pipeline.stop', {})
        set({ status, action: null })
      } catch (err) {
        set({ action: null, error: message(err) })
      }
    },
    async refresh() {
      try {
        const status = await client.invoke('pipeline.status', {})
        set({ status, error: null })
      } catch (err) {
        set({ error: message(err) })
      }
    }
  }))

  // ---- dashboard + history (throttled) ----------------------------------------------------------
  const history = createStore<HistoryState>(() => ({ windows: [], batches: [], alerts: [] }))
  const dashboard = createStore<DashboardState>((set) => ({
    snapshot: null,
    updatedAt: null,
    error: null,
    async refresh() {
      try {
        const snapshot = await client.invoke('query.dashboard', {})
        pendingSnapshot = snapshot
        throttle.request()
        throttle.flush()
        set({ error: null })
      } catch (err) {
        set({ error: message(err) })
      }
    }
  }))

  let pendingSnapshot: DashboardSnapshot | null = null
  let pendingBatches: BatchProgress[] = []
  let pendingAlerts: AlertRow[] = []

  const commit = () => {
    if (liveUpdates.getState().paused) {
      // Charts and tables hold still; the header's counters go on, as ingest does.
      const status = pipeline.getState().status
      if (status && pendingBatches.length > 0) pipeline.setState({ status: applyBatchToStatus(status, pendingBatches) })
      if (pendingSnapshot && !liveUpdates.getState().heldBack) liveUpdates.setState({ heldBack: true })
      return
    }
    const snapshot = pendingSnapshot
    const batches = pendingBatches
    const alerts = pendingAlerts
    pendingSnapshot = null
    pendingBatches = []
    pendingAlerts = []
    const h = history.getState()
    const nextHistory: HistoryState = {
      windows: snapshot ? mergeWindows(h.windows, snapshot.windows) : h.windows,
      batches: mergeBatches(h.batches, snapshot ? [...snapshot.batches, ...batches] : batches),
      alerts: mergeAlerts(h.alerts, snapshot ? [...snapshot.alerts, ...alerts] : alerts)
    }
    if (nextHistory.windows !== h.windows || nextHistory.batches !== h.batches || nextHistory.alerts !== h.alerts) {
      history.setState(nextHistory)
    }
    if (snapshot) dashboard.setState({ snapshot, updatedAt: now(), error: null })
    const status = pipeline.getState().status
    if (status && batches.length > 0) {
      pipeline.setState({ status: applyBatchToStatus(status, batches) })
      // Lag is not part of batch events: refresh it while batches flow, at most every 5 s.
      if (now() - lastStatusFetch >= STATUS_RESYNC_MS) {
        lastStatusFetch = now()
        void pipeline.getState().refresh()
      }
    }
  }
  let lastStatusFetch = -Infinity
  const throttle = createThrottle(commit, 1000, now)
  const liveUpdates = createLiveUpdates({
    lastBatchId: () => pipeline.getState().status?.lastBatchId ?? null,
    onResume: () => {
      throttle.request()
      throttle.flush()
    },
    now
  })

  // Views over the whole lake follow each committed snapshot, so they too hold still while paused.
  const historyRange = createHistoryRange(client)
  const orderSearch = createOrderSearch(client)
  offs.push(
    dashboard.subscribe((s, prev) => {
      if (s.updatedAt === prev.updatedAt) return
      void historyRange.getState().follow()
      void orderSearch.getState().follow()
    })
  )

  offs.push(
    client.subscribe('dashboard.snapshot', (snapshot) => {
      pendingSnapshot = snapshot
      throttle.request()
    }),
    client.subscribe('batch.progress', (batch) => {
      pendingBatches.push(batch)
      if (pendingBatches.length > 1000) pendingBatches.splice(0, pendingBatches.length - 1000)
      throttle.request()
    }),
    client.subscribe('alerts.new', (alerts) => {
      pendingAlerts.push(...alerts)
      if (pendingAlerts.length > 1000) pendingAlerts.splice(0, pendingAlerts.length - 1000)
      throttle.request()
      if (alerts.length > 0 && settings.getState().settings?.dashboard.notifications !== false) {
        notices.setState((s) => ({ newAlerts: s.newAlerts + alerts.length, lastAlertAt: now() }))
        options.onNewAlerts?.(alerts)
      }
    }),
    client.subscribe('pipeline.state', (status) => {
      // A pushed state is authoritative; counters of batches not yet committed to the UI are
      // already included in it.
      pipeline.setState({ status })
    })
  )

  // ---- settings ------------------------------------------------------------------------------
  /** The command-line overrides by path; `fallback` when the engine cannot say (the notes are an aid: the form works without them). */
  const fetchOverrides = (fallback: Record<string, SettingsOverride>): Promise<Record<string, SettingsOverride>> =>
    client.invoke('settings.overrides', {}).then((list) => Object.fromEntries(list.map((o) => [o.path, o])), () => fallback)
  const settings = createStore<SettingsState>((set, get) => ({
    settings: null,
    form: {},
    clientErrors: {},
    serverErrors: {},
    generalError: null,
    loadError: null,
    saving: false,
    dirty: false,
    lastSave: null,
    overrides: {},
    async load() {
      try {
        const [s, overrides] = await Promise.all([client.invoke('settings.get', {}), fetchOverrides({})])
        set({ overrides })
        applySettings(s)
        // A reload keeps the user's unsaved edits.
        if (!get().dirty) set({ form: settingsToForm(s), clientErrors: {}, serverErrors: {}, generalError: null })
        set({ loadError: null })
      } catch (err) {
        set({ loadError: message(err) })
      }
    },
    setField(path, value) {
      const base = get().settings
      const form = { ...get().form, [path]: value }
      const { [path]: _dropped, ...serverErrors } = get().serverErrors
      const clientErrors = base ? checkForm(form, base).errors : {}
      set({ form, clientErrors, serverErrors, dirty: true, generalError: null })
    },
    reset() {
      const s = get().settings
      set({ form: s ? settingsToForm(s) : {}, clientErrors: {}, serverErrors: {}, generalError: null, dirty: false })
    },
    async save() {
      const base = get().settings
      if (!base || get().saving) return false
      const check = checkForm(get().form, base)
      if (!check.settings) {
        set({ clientErrors: check.errors })
        return false
      }
      const patch = diffPatch(base, check.settings)
      if (Object.keys(patch).length === 0) {
        set({ dirty: false, clientErrors: {}, serverErrors: {}, generalError: null })
        return true
      }
      set({ saving: true, generalError: null })
      try {
        const result = await client.invoke('settings.update', { patch: patch as Record<string, unknown> })
        // a field saved over a command-line option is the file's value again
        set({ overrides: await fetchOverrides(get().overrides) })
        applySettings(result.settings)
        set({
          saving: false,
          dirty: false,
          form: settingsToForm(result.settings),
          clientErrors: {},
          serverErrors: {},
          lastSave: { at: now(), restartRequired: result.restartRequired }
        })
        return true
      } catch (err) {
        const mapped = errorsFromApi(toApiError(err))
        set({
          saving: false,
          serverErrors: mapped.byField,
          generalError: mapped.general.length > 0 ? mapped.general.join('; ') : Object.keys(mapped.byField).length > 0 ? 'Some settings were rejected; see the marked fields.' : null
        })
        return false
      }
    }
  }))

  function applySettings(s: Settings): void {
    settings.setState({ settings: s })
    throttle.setInterval(s.dashboard.refreshSeconds * 1000)
    const ex = exporter.getState()
    if (!ex.outDir) exporter.setState({ outDir: 'exports' })
  }

  // ---- export --------------------------------------------------------------------------------
  const exporter = createStore<ExportState>((set, get) => ({
    format: 'parquet',
    outDir: '',
    running: false,
    progress: null,
    result: null,
    error: null,
    fieldError: null,
    confirm: null,
    setFormat(format) {
      // a confirmation is for one folder and format: a change asks again
      set({ format, confirm: null })
    },
    setOutDir(outDir) {
      set({ outDir, fieldError: outDir.trim() === '' ? 'choose a folder' : null, confirm: null })
    },
    async run(overwrite = false) {
      const { outDir, format, running } = get()
      if (running) return
      if (outDir.trim() === '') {
        set({ fieldError: 'choose a folder' })
        return
      }
      set({ running: true, progress: null, result: null, error: null, fieldError: null, confirm: null })
      try {
        const answer = await client.invoke('lake.export', { outDir: outDir.trim(), format, overwrite })
        if (answer.status === 'needs-overwrite') set({ running: false, confirm: answer })
        else set({ running: false, result: answer })
      } catch (err) {
        const e = toApiError(err)
        const outDirError = e.fields?.find((f) => f.field === 'outDir')
        set({ running: false, error: outDirError ? null : e.message, fieldError: outDirError?.message ?? null })
      }
    },
    cancelOverwrite() {
      set({ confirm: null })
    },
    clear() {
      set({ progress: null, result: null, error: null, confirm: null })
    }
  }))
  offs.push(
    client.subscribe('export.progress', (progress) => {
      if (exporter.getState().running) exporter.setState({ progress })
    })
  )

  // ---- quarantine ----------------------------------------------------------------------------
  const quarantine = createStore<QuarantineState>((set, get) => ({
    rows: [],
    total: 0,
    offset: 0,
    limit: 50,
    loading: false,
    error: null,
    loaded: false,
    async load(offset = get().offset) {
      const limit = get().limit
      set({ loading: true })
      try {
        const page = await client.invoke('query.quarantine', { limit, offset: Math.max(0, offset) })
        set({ rows: page.rows, total: page.total, offset: Math.max(0, offset), loading: false, error: null, loaded: true })
      } catch (err) {
        set({ loading: false, error: message(err), loaded: true })
      }
    },
    revalidating: null,
    revalidated: null,
    async revalidate(selector) {
      if (get().revalidating) return
      set({ revalidating: 'id' in selector ? String(selector.id) : selector.reason, revalidated: null })
      try {
        const r = await client.invoke('quarantine.revalidate', selector)
        const text =
          r.batchId === null
            ? 'Nothing left to re-validate'
            : `Batch ${r.batchId}: ${r.valid} now valid, ${r.duplicates} duplicates, ${r.stillBad} still quarantined`
        set({ revalidating: null, revalidated: { message: text, ok: r.stillBad === 0 } })
        await get().load()
      } catch (err) {
        set({ revalidating: null, revalidated: { message: message(err), ok: false } })
      }
    }
  }))

  const notices = createStore<NoticeState>((set) => ({
    newAlerts: 0,
    lastAlertAt: null,
    dismiss() {
      set({ newAlerts: 0 })
    }
  }))

  const health = createHealth(client)
  offs.push(health.off)

  const sync = async () => {
    await Promise.all([settings.getState().load(), pipeline.getState().refresh(), dashboard.getState().refresh(), health.store.getState().refresh()])
  }

  // After a reconnect the engine may have moved on: refetch what the pushes would have told us.
  let lastReconnects = connection.get().reconnects
  offs.push(
    connection.onChange((info) => {
      if (info.state === 'open' && info.reconnects !== lastReconnects) {
        lastReconnects = info.reconnects
        void sync()
      }
    })
  )

  return {
    client,
    connectionKind: connection.kind,
    connection: connectionStore,
    pipeline,
    dashboard,
    history,
    settings,
    exporter,
    quarantine,
    alertBrowser: createAlertBrowser(client),
    // what the dashboard shows came from the rows a replay rewrote
    replay: createReplay(client, () => sync()),
    health: health.store,
    rulesLab: createRulesLab(client),
    ruleLists: createRuleLists(client),
    notices,
    liveUpdates,
    historyRange,
    orderSearch,
    sync,
    dispose() {
      throttle.cancel()
      for (const off of offs.splice(0)) off()
    }
  }
}
