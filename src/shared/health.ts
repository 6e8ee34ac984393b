// Pipeline health (docs/OPERATIONS.md, *Health alerts*): what the engine's health monitor says
// about a run, for the app's banner, the alert sinks and /metrics. A health event is not an
// order: sinks send it apart from fraud alerts (a webhook gets {"health": {...}}).

/** The conditions the monitor watches; each is firing or not. */
export type HealthConditionName = 'stuck' | 'kafka-lag' | 'quarantine-share' | 'source-error'

export const HEALTH_CONDITIONS: readonly HealthConditionName[] = ['stuck', 'kafka-lag', 'quarantine-share', 'source-error']

/**
 * What the running pipeline is doing: `idle` has nothing to read (not an alert), `working` has
 * input waiting and commits batches, `stuck` has had input waiting for longer than the threshold
 * with no batch committed.
 */
export type PipelineActivity = 'stopped' | 'idle' | 'working' | 'stuck'

export interface HealthAlert {
  condition: HealthConditionName
  /** When the condition started firing (ISO). */
  since: string
  /** The cause in plain words, with the figures that make it so. */
  cause: string
  /** What to do about it. */
  action: string
  /** The measured figure and the threshold it crossed (null where a condition has none). */
  value: number | null
  threshold: number | null
}

/** One change of a condition, as the sinks deliver it. */
export interface HealthEvent extends HealthAlert {
  state: 'firing' | 'resolved'
  /** When this change happened (ISO); for a firing event, `since`. */
  at: string
  /** The source the pipeline reads (its label). */
  source: string
  /** Why a resolved condition resolved: clear for the hold-down time, or the pipeline stopped. */
  resolution?: string
}

export interface HealthState {
  activity: PipelineActivity
  /** What input is waiting to be read, in words (null: nothing, or not known). */
  waiting: string | null
  /** The conditions firing now, in HEALTH_CONDITIONS order. */
  firing: HealthAlert[]
  /** When the monitor last looked (ISO; null while stopped). */
  checkedAt: string | null
}

export const STOPPED_HEALTH: HealthState = { activity: 'stopped', waiting: null, firing: [], checkedAt: null }
