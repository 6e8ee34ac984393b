import type { Handlers } from '../../shared/api'
import type { DashboardSnapshot } from '../../shared/dto'
import { PipelineController } from '../engine/pipeline-controller'
import { SettingsStore } from '../engine/settings-store'
import { plainFileCodec, SecretStore, secretsFileFor, type SecretCodec } from '../engine/secret-store'
import { exportLake, ExportError } from '../lake/export'
import { ApiError } from '../../shared/api'
import type { ExportAnswer } from '../../shared/dto'
import type { Lake } from '../lake/lake'
import { inspectLakeFolder } from '../lake/lake-folder'
import * as q from '../lake/queries'
import { SqlConsole, sqlSchema } from '../lake/sql-console'
import { parquetFileIn, ParquetTargetError } from '../lake/sql-parquet'
import { listSavedQueries, readSavedQuery, saveQuery, SavedQueryError } from '../engine/saved-queries'
import { committedOffsets } from '../lake/batch-writer'
import { sourceOffsets } from '../lake/checkpoints'
import { KAFKA_SOURCE_KIND } from '../sources/kafka-source'
import { EventBus } from './event-bus'
import { rulesHandlers } from './rules-handlers'
import { lakeFigures } from '../lake/metrics-figures'
import { outboxBacklogs } from '../lake/alert-outbox'
import { EngineMetrics } from './metrics'
import { MetricsEndpoint } from './metrics-server'
import { doctorInputFor, runDoctor } from '../engine/doctor'
import { readLakeHealth } from '../lake/lake-check'
import { canonicalDir } from '../lake/lake-folder'
import { rederiveHandlers } from './rederive-handlers'
import type { EngineHost, EngineHostOptions } from './host'

// The handler map (the contract's implementation) over one engine: settings store, pipeline
// controller and lake queries. Pushes state, batch progress, new alerts and dashboard
// snapshots; snapshots are throttled to the dashboard refresh interval.

/** `codec`: how secrets are kept; the desktop app's safeStorage, else a 0600 file (plainFileCodec). */
export async function createEngineHost(opts: EngineHostOptions, codec?: SecretCodec): Promise<EngineHost> {
  const secrets = new SecretStore(secretsFileFor(opts.settingsFile), codec ?? plainFileCodec)
  const store = new SettingsStore(opts.settingsFile, opts.overrides, secrets)
  const events = new EventBus()
  let snapshotTimer: NodeJS.Timeout | null = null
  let lastSnapshotAt = 0
  let disposed = false
  let running = false

  const controller = new PipelineController(opts.baseDir, () => store.get(), {
    onState: (status) => {
      running = status.state === 'running'
      events.emit('pipeline.state', status)
      scheduleSnapshot()
    },
    onBatch: (batch) => {
      metrics.observeBatch(batch.durationMs)
      events.emit('batch.progress', batch)
      // The header's counters come with the state, cheaply and right away; the full dashboard
      // snapshot follows at the refresh interval.
      void controller
        .getStatus()
        .then((status) => !disposed && events.emit('pipeline.state', status))
        .catch(() => undefined)
      if (batch.alerts > 0) {
        void controller
          .withLake((lake) => q.alertsOfBatch(lake.reader, batch.batchId))
          .then((alerts) => alerts.length && events.emit('alerts.new', alerts))
          .catch(() => undefined)
      }
      scheduleSnapshot()
    },
    onHealth: (state) => events.emit('health.state', state)
  }, opts.controller, secrets.reveal)

  function snapshot(): Promise<DashboardSnapshot> {
    return controller.withLake((lake) => q.dashboard(lake.reader, store.get().dashboard.kpiMinutes))
  }

  function scheduleSnapshot(): void {
    if (snapshotTimer || disposed) return
    const every = store.get().dashboard.refreshSeconds * 1000
    const wait = Math.max(0, lastSnapshotAt + every - Date.now())
    snapshotTimer = setTimeout(async () => {
      lastSnapshotAt = Date.now()
      try {
        const snap = await snapshot()
        snapshotTimer = null
        if (!disposed) {
          events.emit('dashboard.snapshot', snap)
          events.emit('pipeline.state', await controller.getStatus())
        }
      } catch (err) {
        snapshotTimer = null
        if (!disposed) console.error('dashboard snapshot failed:', (err as Error).message)
      }
    }, wait)
  }

  const metrics = new EngineMetrics({
    figures: () => controller.withLake((lake) => lakeFigures(lake.reader)),
    kafkaLag: () => controller.kafkaLag(),
    alertBacklogs: async () => {
      const perSink = await controller.withLake((lake) => outboxBacklogs(lake.reader))
      const orphaned = new Set((await controller.alertSinks()).filter((s) => s.orphaned).map((s) => s.id))
      return new Map([...perSink].map(([sink, b]) => [sink, { backlog: b.backlog, orphaned: orphaned.has(sink) }]))
    },
    running: () => running,
    health: () => controller.health()
  })
  const metricsEndpoint = new MetricsEndpoint(() => metrics.scrape())
  const applyMetricsSetting = async () => {
    try {
      await metricsEndpoint.apply(store.get().metrics)
    } catch (err) {
      const message = (err as Error).message
      throw new ApiError('validation', message, [{ field: 'metrics.port', message }])
    }
  }

  const withReader = <T>(fn: (c: Lake['reader']) => Promise<T>) => controller.withLake((lake) => fn(lake.reader))
  const sql = new SqlConsole()

  const handlers: Handlers = {
    'pipeline.start': () => controller.start(),
    'pipeline.stop': () => controller.stop(),
    'pipeline.status': () => controller.getStatus(),
    'settings.get': async () => store.get(),
    'settings.overrides': async () => store.overrides(),
    // validates and saves; opens nothing (a new lake path takes effect at the next Start)
    'settings.update': async ({ patch }) => {
      checkLakePath(patch, controller)
      const result = await store.update(patch)
      scheduleSnapshot()
      await applyMetricsSetting()
      return result
    },
    'lake.export': ({ outDir, format, overwrite }) =>
      controller.withExistingLake(async (lake): Promise<ExportAnswer> => {
        const dir = controller.resolvePath(outDir)
        try {
          return await exportLake(lake, dir, format, {
            overwrite,
            protectedDirs: [{ dir: controller.resolvePath(store.get().source.inputPath), what: 'the input folder' }],
            onProgress: (p) => events.emit('export.progress', p)
          })
        } catch (err) {
          if (!(err instanceof ExportError)) throw err
          // an answer, not an error: the dialog asks the user and calls again with overwrite
          if (err.code === 'needs-overwrite' && err.conflict) return { status: 'needs-overwrite', message: err.message, ...err.conflict }
          // the folder is what is wrong: shown next to it
          if (err.code === 'refused') throw new ApiError('validation', err.message, [{ field: 'outDir', message: err.message }])
          throw err
        }
      }),
    'query.dashboard': () => snapshot(),
    'query.kpis': ({ minutes }) => withReader((c) => q.kpis(c, minutes)),
    'query.windows': ({ limit }) => withReader((c) => q.windows(c, limit)),
    'query.alerts': ({ limit }) => withReader((c) => q.alerts(c, limit)),
    'query.alertPage': (page) => withReader((c) => q.alertPage(c, page)),
    'query.recentOrders': ({ limit }) => withReader((c) => q.recentOrders(c, limit)),
    'query.statusDistribution': () => withReader((c) => q.statusDistribution(c)),
    'query.fraudHistogram': () => withReader((c) => q.fraudHistogram(c)),
    'query.batches': ({ limit }) => withReader((c) => q.batches(c, limit)),
    'query.quarantine': ({ limit, offset }) => withReader((c) => q.quarantine(c, limit, offset)),
    'query.kafkaLag': async () => {
      const num = (v: string | null) => (v === null ? null : Number(v))
      const live = controller.kafkaLag()
      if (live) {
        return live.map((l) => ({ ...l, highWatermark: num(l.highWatermark), lakeOffset: num(l.lakeOffset), lag: num(l.lag) }))
      }
      // not reading Kafka now: what the lake holds, without the broker's side
      const offsets = await controller.withLake((lake) => committedOffsets(lake, KAFKA_SOURCE_KIND))
      return [...offsets]
        .map(([key, offset]) => {
          const i = key.lastIndexOf('/')
          return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)), highWatermark: null, lakeOffset: Number(offset), lag: null }
        })
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    },
    'query.alertSinks': () => controller.alertSinks(),
    'query.health': () => controller.checkHealth(),
    'alerts.discardOrphaned': async ({ sinkId }) => ({ discarded: await controller.discardOrphaned(sinkId) }),
    'query.history': (req) =>
      withReader((c) => q.history(c, req.range === 'custom' ? { range: 'custom', from: req.from!, to: req.to! } : { range: req.range })),
    'query.orderSearch': (req) => withReader((c) => q.orderSearch(c, req)),
    'query.sourceOffsets': () => {
      const ends = new Map<string, number>()
      for (const l of controller.kafkaLag() ?? []) if (l.highWatermark !== null) ends.set(`${l.topic}/${l.partition}`, Number(l.highWatermark))
      return withReader((c) => sourceOffsets(c, ends))
    },
    'ops.doctor': async () => {
      const input = await doctorInputFor(store.get(), (p) => controller.resolvePath(p), secrets)
      // the lake this engine holds is read through it (one instance per file and process,
      // lake-registry.ts); any other lake is opened read-only by the doctor itself
      const health = await controller
        .withLake((lake) => (lake.dir === canonicalDir(input.lakeDir) ? readLakeHealth(lake.reader, lake.dir, lake.file) : Promise.resolve(undefined)))
        .catch(() => undefined)
      return runDoctor({ ...input, health })
    },
    // before the first Start this reads the empty in-memory lake: the tables are there, no rows
    'sql.run': (req) => controller.withLake((lake) => sql.run(lake, req)),
    'sql.exportParquet': ({ sql: text, dir, name, queryId }) =>
      controller.withLake((lake) =>
        parquetTarget(() => sql.exportParquet(lake, { sql: text, file: parquetFileIn(controller.resolvePath(dir), name), queryId }))
      ),
    'sql.cancel': async ({ queryId }) => ({ cancelled: sql.cancel(queryId) }),
    'sql.schema': () => withReader((c) => sqlSchema(c)),
    'sql.savedList': async ({ dir }) => {
      const abs = controller.resolvePath(dir)
      return { dir: abs, queries: savedQueries(() => listSavedQueries(abs)) }
    },
    'sql.savedRead': async ({ dir, name }) => ({ name, sql: savedQueries(() => readSavedQuery(controller.resolvePath(dir), name)) }),
    'sql.savedWrite': async ({ dir, name, sql: text, overwrite }) => ({
      name,
      status: savedQueries(() => saveQuery(controller.resolvePath(dir), name, text, overwrite))
    }),
    ...rulesHandlers(controller, () => store.get()),
    ...rederiveHandlers(controller, () => store.get(), events)
  }

  // Open an existing lake now so a locked or foreign lake is reported at start, not on first
  // click; a missing one is created by Start, not here.
  await controller.openExisting()
  if (store.loadWarning) console.error(store.loadWarning)
  // a port taken at start is said, not fatal: the app and serve work without their /metrics
  await applyMetricsSetting().catch((err: Error) => console.error(`metrics: ${err.message}`))

  return {
    handlers,
    events,
    metrics: () => metrics.scrape(),
    async dispose() {
      disposed = true
      if (snapshotTimer) clearTimeout(snapshotTimer)
      await metricsEndpoint.close()
      await controller.dispose()
    }
  }
}

/** A saved-query problem is the user's to fix, shown next to the folder or the name. */
function savedQueries<T>(work: () => T): T {
  try {
    return work()
  } catch (err) {
    if (err instanceof SavedQueryError) throw new ApiError('validation', err.message, [{ field: err.field, message: err.message }])
    throw err
  }
}

/** A Parquet target that exists or has no folder is the user's to fix, next to its field. */
async function parquetTarget<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof ParquetTargetError) throw new ApiError('validation', err.message, [{ field: err.field, message: err.message }])
    throw err
  }
}

/**
 * A lake path that can never hold a lake (the root folder, a file, another program's database,
 * a folder with other things in it) is refused when it is saved, next to its field; looking is
 * all this does — the lake is opened, or created, at the next Start.
 */
function checkLakePath(patch: unknown, controller: PipelineController): void {
  const lakePath = (patch as { lakePath?: unknown } | null)?.lakePath
  if (typeof lakePath !== 'string' || lakePath.length === 0) return
  const where = inspectLakeFolder(controller.resolvePath(lakePath), true)
  if (where.kind === 'refused') throw new ApiError('validation', where.reason, [{ field: 'lakePath', message: where.reason }])
}
