import type { Handlers } from '../../shared/api'
import type { EventBus } from './event-bus'
import type { MetricsText } from './metrics'
import type { ControllerOptions } from '../engine/pipeline-controller'

// The engine as a UI host sees it: the handler map (the contract), the event bus, and dispose.
// Electron's shell and `streamdesk serve` both create exactly one of these.

export interface EngineHostOptions {
  /** JSON file the settings are persisted in (userData/settings.json in the app). */
  settingsFile: string
  /** Relative paths in settings (input folder, lake) resolve against this folder. */
  baseDir: string
  /** Overrides applied on top of the persisted settings (CLI flags). */
  overrides?: Record<string, unknown>
  /** In-process hosts only (tests): the controller's options, e.g. the health monitor's clock. */
  controller?: ControllerOptions
}

export interface EngineHost {
  handlers: Handlers
  events: EventBus
  /** Prometheus text for GET /metrics (`serve`; the desktop app serves it itself, see the `metrics` setting). */
  metrics(): Promise<MetricsText>
  dispose(): Promise<void>
}

export { createEngineHost } from './engine-host'
export { createWorkerEngineHost } from './worker-engine-host'
