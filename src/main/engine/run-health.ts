import type { HealthEvent, HealthState } from '../../shared/health'
import type { HealthSettings } from '../../shared/settings'
import type { AlertDelivery } from '../alerts/alert-delivery'
import { quarantineShare } from '../lake/health-figures'
import type { Lake } from '../lake/lake'
import type { Source } from '../sources/source'
import { HealthMonitor, type HealthClock } from './health-monitor'

// A run's health monitor over its source and lake, as the app's controller and the CLI's
// `pipeline` start it: events become a log line and, when health alerts are on, a message to
// every alert sink of the run.

export interface RunHealthOptions {
  lake: Lake
  source: Source
  sourceKind: 'folder' | 'generator' | 'kafka'
  settings: HealthSettings
  delivery: AlertDelivery | null
  log: (line: string) => void
  clock?: HealthClock
  onState?: (state: HealthState) => void
}

export function watchRunHealth(o: RunHealthOptions): HealthMonitor {
  const monitor = new HealthMonitor(
    {
      sourceKind: o.sourceKind,
      sourceLabel: o.source.description.label,
      backlog: () => o.source.backlog?.() ?? Promise.resolve({ waiting: false, description: null, messages: null, error: null }),
      quarantine: (batches) => o.lake.use((l) => quarantineShare(l.reader, batches))
    },
    o.settings,
    {
      clock: o.clock,
      onState: o.onState,
      onEvent: (event: HealthEvent) => {
        o.log(`health: ${event.condition} ${event.state}: ${event.cause}${event.resolution ? ` (${event.resolution})` : ''}`)
        if (o.settings.enabled) o.delivery?.notifyHealth(event)
      }
    }
  )
  monitor.start()
  return monitor
}
