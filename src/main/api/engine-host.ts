import type { Handlers } from '../../shared/api'
import type { DashboardSnapshot } from '../../shared/dto'
import { PipelineController } from '../engine/pipeline-controller'
import { SettingsStore } from '../engine/settings-store'
import { exportLake } from '../lake/export'
import * as q from '../lake/queries'
import { committedOffsets } from '../lake/batch-writer'
import { KAFKA_SOURCE_KIND } from '../sources/kafka-source'
import { EventBus } from './event-bus'
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
          .lake()
          .then((lake) => q.alertsOfBatch(lake.reader, batch.batchId))
          .then((alerts) => alerts.length && events.emit('alerts.new', alerts))
          .catch(() => undefined)
      }
      scheduleSnapshot()
    }
  })

  async function snapshot(): Promise<DashboardSnapshot> {
    const lake = await controller.lake()
    return q.dashboard(lake.reader, store.get().dashboard.kpiMinutes)
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
        console.error('dashboard snapshot failed:', (err as Error).message)
      }
    }, wait)
  }

  const withReader = async <T>(fn: (c: Awaited<ReturnType<typeof controller.lake>>['reader']) => Promise<T>) =>
    fn((await controller.lake()).reader)

  const handlers: Handlers = {
    'pipeline.start': () => controller.start(),
    'pipeline.stop': () => controller.stop(),
    'pipeline.status': () => controller.getStatus(),
    'settings.get': async () => store.get(),
    'settings.update': async ({ patch }) => {
      const result = store.update(patch)
      scheduleSnapshot()
      return result
    },
    'lake.export': async ({ outDir, format }) =>
      exportLake(await controller.lake(), controller.resolvePath(outDir), format, (p) => events.emit('export.progress', p)),
    'query.dashboard': () => snapshot(),
    'query.kpis': ({ minutes }) => withReader((c) => q.kpis(c, minutes)),
    'query.windows': ({ limit }) => withReader((c) => q.windows(c, limit)),
    'query.alerts': ({ limit }) => withReader((c) => q.alerts(c, limit)),
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
      const offsets = await committedOffsets(await controller.lake(), KAFKA_SOURCE_KIND)
      return [...offsets]
        .map(([key, offset]) => {
          const i = key.lastIndexOf('/')
          return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)), highWatermark: null, lakeOffset: Number(offset), lag: null }
        })
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    }
  }

  // Open the lake now so a locked or unreadable lake is reported at start, not on first click.
  await controller.lake()
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
