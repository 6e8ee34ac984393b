import type { Handlers } from '../../shared/api'
import type { DashboardSnapshot } from '../../shared/dto'
import { PipelineController } from '../engine/pipeline-controller'
import { SettingsStore } from '../engine/settings-store'
import { exportLake, ExportError } from '../lake/export'
import { ApiError } from '../../shared/api'
import type { ExportAnswer } from '../../shared/dto'
import type { Lake } from '../lake/lake'
import { inspectLakeFolder } from '../lake/lake-folder'
import * as q from '../lake/queries'
import { committedOffsets } from '../lake/batch-writer'
import { KAFKA_SOURCE_KIND } from '../sources/kafka-source'
import { EventBus } from './event-bus'
import { rulesHandlers } from './rules-handlers'
import { rederiveHandlers } from './rederive-handlers'
import type { EngineHost, EngineHostOptions } from './host'

// The handler map (the contract's implementation) over one engine: settings store, pipeline
// controller and lake queries. Pushes state, batch progress, new alerts and dashboard
// snapshots; snapshots are throttled to the dashboard refresh interval.

export async function createEngineHost(opts: EngineHostOptions): Promise<EngineHost> {
  const store = new SettingsStore(opts.settingsFile, opts.overrides)
  const events = new EventBus()
  let snapshotTimer: NodeJS.Timeout | null = null
  let lastSnapshotAt = 0
  let disposed = false

  const controller = new PipelineController(opts.baseDir, () => store.get(), {
    onState: (status) => {
      events.emit('pipeline.state', status)
      scheduleSnapshot()
    },
    onBatch: (batch) => {
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
    }
  })

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

  const withReader = <T>(fn: (c: Lake['reader']) => Promise<T>) => controller.withLake((lake) => fn(lake.reader))

  const handlers: Handlers = {
    'pipeline.start': () => controller.start(),
    'pipeline.stop': () => controller.stop(),
    'pipeline.status': () => controller.getStatus(),
    'settings.get': async () => store.get(),
    // validates and saves; opens nothing (a new lake path takes effect at the next Start)
    'settings.update': async ({ patch }) => {
      checkLakePath(patch, controller)
      const result = store.update(patch)
      scheduleSnapshot()
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
    ...rulesHandlers(controller, () => store.get()),
    ...rederiveHandlers(controller, () => store.get(), events)
  }

  // Open an existing lake now so a locked or foreign lake is reported at start, not on first
  // click; a missing one is created by Start, not here.
  await controller.openExisting()
  if (store.loadWarning) console.error(store.loadWarning)

  return {
    handlers,
    events,
    async dispose() {
      disposed = true
      if (snapshotTimer) clearTimeout(snapshotTimer)
      await controller.dispose()
    }
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
