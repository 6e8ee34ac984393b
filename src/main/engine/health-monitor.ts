import type { HealthAlert, HealthConditionName, HealthEvent, HealthState } from '../../shared/health'
import { HEALTH_CONDITIONS } from '../../shared/health'
import type { HealthSettings } from '../../shared/settings'
import type { QuarantineShare } from '../lake/health-figures'
import type { InputBacklog } from '../sources/source'

// The health of one run (docs/OPERATIONS.md, *Health alerts*, defines each condition): looks at
// the source's backlog and the lake's last batches on a timer and after each batch, and turns
// each condition into a state that fires once when it starts and resolves once when it has been
// clear for the hold-down time, whatever happens in between.
//
// Stuck is told apart from idle by what waits: idle has nothing to read; stuck has had input
// waiting for `stuckSeconds` with no batch committed since it was first seen waiting. A run that
// commits batches under a backlog is neither: each commit starts the wait again.
//
// Time comes from `clock`, so tests move it instead of waiting for it.

export interface HealthClock {
  now(): number
}

/** What the monitor reads; every call only looks. */
export interface HealthProbe {
  sourceKind: 'folder' | 'generator' | 'kafka'
  sourceLabel: string
  backlog(): Promise<InputBacklog>
  quarantine(batches: number): Promise<QuarantineShare>
}

export interface HealthMonitorOptions {
  clock?: HealthClock
  /** The state changed (the banner). */
  onState?: (state: HealthState) => void
  /** A condition started or resolved (the sinks). */
  onEvent?: (event: HealthEvent) => void
}

interface Tracked {
  firing: HealthAlert | null
  /** Since when the condition has been clear while still firing (the hold-down). */
  clearSince: number | null
}

type Candidate = Omit<HealthAlert, 'since'>

export class HealthMonitor {
  private readonly clock: HealthClock
  private readonly tracked = new Map<HealthConditionName, Tracked>(HEALTH_CONDITIONS.map((c) => [c, { firing: null, clearSince: null }]))
  /** When input was first seen waiting since the last commit (null: nothing waits). */
  private waitingSince: number | null = null
  /** The lake's figures and the batch generation they were read in (a read races a commit). */
  private quarantineFigures: { generation: number; figures: QuarantineShare } | null = null
  private generation = 0
  /** The input as the last look saw it (a look after a batch reuses it: see afterBatch). */
  private lastBacklog: InputBacklog | null = null
  private current: HealthState = { activity: 'idle', waiting: null, firing: [], checkedAt: null }
  private timer: NodeJS.Timeout | null = null
  private evaluating: Promise<HealthState> = Promise.resolve(this.current)
  private stopped = false

  constructor(
    private readonly probe: HealthProbe,
    private readonly settings: HealthSettings,
    private readonly opts: HealthMonitorOptions = {}
  ) {
    this.clock = opts.clock ?? { now: () => Date.now() }
  }

  /** Looks now and then every `checkSeconds`. */
  start(): void {
    // a look that fails is one missed look; the next one tries again
    void this.check().catch(() => undefined)
    this.timer = setInterval(() => void this.check().catch(() => undefined), this.settings.checkSeconds * 1000)
    this.timer.unref?.()
  }

  /**
   * A batch committed: the wait starts again and the quarantine share may have changed. The input
   * is not looked at again here (the timer does): a folder's look stats every file in it, which
   * after every batch of a busy pipeline would cost more than the batches; and right after a
   * commit nothing can be stuck.
   */
  afterBatch(): Promise<HealthState> {
    this.waitingSince = null
    this.generation++
    return this.check(false)
  }

  state(): HealthState {
    return this.current
  }

  /** Looks once (one look at a time, in call order); `lookAtInput` false reuses the last look at the input. */
  check(lookAtInput = true): Promise<HealthState> {
    const next = this.evaluating.then(() => this.evaluate(lookAtInput))
    this.evaluating = next.catch(() => this.current)
    return next
  }

  /** Ends the monitor; every firing condition resolves because the pipeline stopped. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.evaluating
    this.stopped = true
    const at = new Date(this.clock.now()).toISOString()
    for (const [, t] of this.tracked) {
      if (!t.firing) continue
      this.emit({ ...t.firing, state: 'resolved', at, resolution: 'the pipeline stopped' })
      t.firing = null
    }
  }

  private async evaluate(lookAtInput: boolean): Promise<HealthState> {
    if (this.stopped) return this.current
    const s = this.settings
    let backlog: InputBacklog
    if (!lookAtInput && this.lastBacklog) backlog = this.lastBacklog
    else {
      try {
        backlog = await this.probe.backlog()
      } catch (err) {
        backlog = { waiting: false, description: null, messages: null, error: `the input cannot be looked at (${(err as Error).message})` }
      }
      this.lastBacklog = backlog
    }
    if (this.quarantineFigures?.generation !== this.generation) {
      // read before a commit that lands meanwhile, they are read again at the next look; a read
      // that fails is tried again at the next look too
      const generation = this.generation
      const figures = await this.probe.quarantine(s.quarantineBatches).catch(() => null)
      this.quarantineFigures = figures === null ? null : { generation, figures }
    }
    const now = this.clock.now()
    if (!backlog.waiting) this.waitingSince = null
    else this.waitingSince ??= now
    const waitedMs = this.waitingSince === null ? 0 : now - this.waitingSince
    const stuck = backlog.waiting && waitedMs >= s.stuckSeconds * 1000

    const candidates = new Map<HealthConditionName, Candidate | null>([
      ['stuck', stuck ? this.stuckAlert(backlog, waitedMs) : null],
      ['kafka-lag', backlog.messages !== null && backlog.messages > s.kafkaLagMessages ? this.lagAlert(backlog.messages) : null],
      ['quarantine-share', this.quarantineAlert(this.quarantineFigures?.figures ?? null)],
      ['source-error', backlog.error !== null ? this.sourceErrorAlert(backlog.error) : null]
    ])
    for (const [name, candidate] of candidates) this.transition(name, candidate, now)
    const firing = HEALTH_CONDITIONS.flatMap((c) => this.tracked.get(c)!.firing ?? [])
    const next: HealthState = {
      activity: stuck ? 'stuck' : backlog.waiting ? 'working' : 'idle',
      waiting: backlog.description,
      firing,
      checkedAt: new Date(now).toISOString()
    }
    const changed = JSON.stringify({ ...next, checkedAt: null }) !== JSON.stringify({ ...this.current, checkedAt: null })
    this.current = next
    if (changed) this.opts.onState?.(next)
    return next
  }

  /** Fires when a condition starts; resolves once it has been clear for `holdSeconds`. */
  private transition(name: HealthConditionName, candidate: Candidate | null, now: number): void {
    const t = this.tracked.get(name)!
    if (candidate) {
      t.clearSince = null
      if (t.firing) {
        // the same episode: its figures move on, its start and key do not
        t.firing = { ...candidate, since: t.firing.since }
        return
      }
      t.firing = { ...candidate, since: new Date(now).toISOString() }
      this.emit({ ...t.firing, state: 'firing', at: t.firing.since })
      return
    }
    if (!t.firing) return
    t.clearSince ??= now
    if (now - t.clearSince < this.settings.holdSeconds * 1000) return
    const resolved = t.firing
    t.firing = null
    t.clearSince = null
    this.emit({ ...resolved, state: 'resolved', at: new Date(now).toISOString(), resolution: `clear for ${this.settings.holdSeconds} s` })
  }

  private emit(event: Omit<HealthEvent, 'source'>): void {
    this.opts.onEvent?.({ ...event, source: this.probe.sourceLabel })
  }

  private stuckAlert(backlog: InputBacklog, waitedMs: number): Candidate {
    const waited = Math.floor(waitedMs / 1000)
    return {
      condition: 'stuck',
      cause: `${backlog.description ?? 'input'} waiting to be read, and no batch committed for ${duration(waited)}; this is not idle: there is input`,
      action:
        'Look at the log and the Pipeline tab for a batch that fails or runs long; check the lake folder (free disk, permissions) and pipeline.triggerMs; stop and start the pipeline if it does not recover.',
      value: waited,
      threshold: this.settings.stuckSeconds
    }
  }

  private lagAlert(messages: number): Candidate {
    return {
      condition: 'kafka-lag',
      cause: `${messages.toLocaleString('en-US')} Kafka messages are not in the lake yet (more than ${this.settings.kafkaLagMessages.toLocaleString('en-US')})`,
      action:
        'The pipeline reads slower than messages arrive, or was down: it catches up by itself while batches commit (watch the batch duration). Raise pipeline.maxBatchBytes, or share the partitions between pipelines (docs/SCALING.md).',
      value: messages,
      threshold: this.settings.kafkaLagMessages
    }
  }

  private quarantineAlert(q: QuarantineShare | null): Candidate | null {
    const s = this.settings
    if (!q || q.lines < s.quarantineMinLines) return null
    const share = q.quarantined / q.lines
    if (share <= s.quarantineShare) return null
    return {
      condition: 'quarantine-share',
      cause: `${percent(share)} of the ${q.lines.toLocaleString('en-US')} lines the last ${q.batches} batch${q.batches === 1 ? '' : 'es'} read went to quarantine (more than ${percent(s.quarantineShare)})`,
      action:
        'Open the quarantine on the Pipeline tab for the reasons; fix the producer of the input, and re-validate the lines if a setting (currencies, clock skew) was what was wrong (docs/LAKE.md).',
      value: share,
      threshold: s.quarantineShare
    }
  }

  private sourceErrorAlert(error: string): Candidate {
    return {
      condition: 'source-error',
      cause: error,
      action:
        this.probe.sourceKind === 'kafka'
          ? 'Check that the broker runs and that the Kafka servers setting is right; the pipeline reconnects by itself.'
          : 'Put the input folder back or give this user access to it; the pipeline reads it again by itself.',
      value: null,
      threshold: null
    }
  }
}

function percent(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`
  return `${(seconds / 3600).toFixed(1)} h`
}
