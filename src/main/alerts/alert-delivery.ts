import type { AlertSinkStatus } from '../../shared/dto'
import type { AlertSinkSettings } from '../../shared/settings'
import { outboxBacklogs, SinkOutbox, type OutboxTarget } from '../lake/alert-outbox'
import type { Lake } from '../lake/lake'
import { revealClearOnly, type Reveal } from '../../shared/secrets'
import { openSink, revealSink } from './open-sink'
import { sinkId } from './sink'
import { SinkSender, systemClock } from './sink-sender'
import { HealthSender } from './health-sender'
import type { HealthEvent } from '../../shared/health'

// The alert sinks of one running pipeline: a sender per sink, woken when a batch commits and by
// its own retry and grouping times. A failing sink only grows its backlog: the pipeline never
// waits for it, except `--until-idle`, which drains (drain()). Health events (health-sender.ts)
// go to the same sinks through a queue of their own, so a backlog of alerts never holds them up.

export type SinkStatus = AlertSinkStatus

/** A step that failed on the lake (not the sink) is tried again after this long. */
const LAKE_RETRY_MS = 1000

interface Running {
  sender: SinkSender
  kind: AlertSinkSettings['kind']
  wake: () => void
  done: Promise<void>
}

export class AlertDelivery {
  private readonly running: Running[] = []
  private readonly health: { sender: HealthSender; wake: () => void; done: Promise<void> }[] = []
  private closed = false
  /** Called after every step of any sender (drain() listens). */
  private readonly stepListeners = new Set<() => void>()

  private readonly clock = systemClock

  private constructor(
    private readonly lake: Lake,
    readonly targets: readonly OutboxTarget[],
    private readonly log: (line: string) => void
  ) {}

  /** Opens a sender per sink and starts them. */
  static async start(
    lake: Lake,
    sinks: readonly AlertSinkSettings[],
    opts: { log: (line: string) => void; resolvePath?: (p: string) => string; reveal?: Reveal }
  ): Promise<AlertDelivery> {
    const reveal = opts.reveal ?? revealClearOnly
    // the id of a Slack sink is made from its URL: the secret is looked up first
    const revealed = await Promise.all(sinks.map((s, i) => revealSink(s, `alerts.sinks.${i}`, reveal)))
    const ids = revealed.map(sinkId)
    const dup = ids.find((id, i) => ids.indexOf(id) !== i)
    if (dup !== undefined) throw new Error(`alerts.sinks: two sinks are both called ${dup}; give one a different "name"`)
    const targets = sinks.map((s, i) => ({ sinkId: ids[i], minScore: s.minScore }))
    const delivery = new AlertDelivery(lake, targets, opts.log)
    for (const [i, s] of revealed.entries()) {
      const sink = await openSink(s, `alerts.sinks.${i}`, { resolvePath: opts.resolvePath, reveal })
      const outbox = await SinkOutbox.open(lake, sink.id)
      const options = { groupSeconds: s.groupSeconds, maxAlertsPerMessage: s.maxAlertsPerMessage }
      delivery.launch(new SinkSender(sink, outbox, options, delivery.clock, opts.log), s.kind)
      const health = new HealthSender(sink, delivery.clock, opts.log)
      delivery.health.push({ sender: health, ...delivery.loop(() => health.step(), `alert sink ${sink.id}: health events`) })
    }
    return delivery
  }

  private launch(sender: SinkSender, kind: AlertSinkSettings['kind']): void {
    this.running.push({ sender, kind, ...this.loop(() => sender.step(), `alert sink ${sender.sink.id}: the outbox`) })
  }

  /** Runs `step` until closed: again at once, at the time it returns, or when woken. */
  private loop(step: () => Promise<number | null>, what: string): { wake: () => void; done: Promise<void> } {
    let wakeUp: () => void = () => undefined
    let woken = false
    const wake = () => {
      woken = true
      wakeUp()
    }
    const done = (async () => {
      while (!this.closed) {
        woken = false
        let next: number | null
        try {
          next = await step()
        } catch (err) {
          this.log(`${what} could not be read or updated (${(err as Error).message}); trying again`)
          next = this.clock.now() + LAKE_RETRY_MS
        }
        for (const l of this.stepListeners) l()
        // a wake during the step may have queued alerts the step did not see
        if (next === 0 || woken || this.closed) continue
        await new Promise<void>((resolve) => {
          const timer = next === null ? null : setTimeout(resolve, Math.max(0, next - this.clock.now()))
          wakeUp = () => {
            if (timer) clearTimeout(timer)
            resolve()
          }
        })
        wakeUp = () => undefined
      }
    })()
    return { wake, done }
  }

  /** A health condition started or resolved: every sink gets it. */
  notifyHealth(event: HealthEvent): void {
    for (const h of this.health) {
      h.sender.push(event)
      h.wake()
    }
  }

  /** A batch committed: its alerts may be queued. */
  wake(): void {
    for (const r of this.running) r.wake()
  }

  async status(): Promise<SinkStatus[]> {
    const backlogs = await outboxBacklogs(this.lake.reader)
    return this.running.map(({ sender, kind }) => {
      const b = backlogs.get(sender.sink.id)
      return {
        id: sender.sink.id,
        kind,
        orphaned: false,
        backlog: b?.backlog ?? 0,
        lastError: sender.state.lastError,
        lastErrorAt: sender.state.lastErrorAt,
        lastSuccessAt: sender.state.lastSuccessAt ?? b?.lastSuccessAt ?? null
      }
    })
  }

  /**
   * Waits until every sink has delivered all queued alerts, or until `timeoutMs` has passed or
   * `stop` is aborted; returns the sinks still behind (none when drained).
   */
  async drain(timeoutMs: number, stop?: AbortSignal): Promise<SinkStatus[]> {
    const deadline = Date.now() + timeoutMs
    for (const r of this.running) r.sender.flushGroups()
    this.wake()
    const onAbort = () => {
      for (const l of this.stepListeners) l()
    }
    stop?.addEventListener('abort', onAbort)
    try {
      return await this.drainUntil(deadline, stop)
    } finally {
      stop?.removeEventListener('abort', onAbort)
    }
  }

  private async drainUntil(deadline: number, stop?: AbortSignal): Promise<SinkStatus[]> {
    for (;;) {
      const behind = (await this.status()).filter((s) => s.backlog > 0)
      const left = deadline - Date.now()
      if (behind.length === 0 || left <= 0 || stop?.aborted) return behind
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          this.stepListeners.delete(done)
          resolve()
        }
        const timer = setTimeout(done, Math.min(left, LAKE_RETRY_MS))
        this.stepListeners.add(done)
      })
    }
  }

  /**
   * Lets the queued health events (the resolutions a stop just made) go out: waits until each
   * sink has sent its queue or failed once. A request's own timeout bounds the wait, and a sink
   * that fails keeps the stop no longer (best effort: see health-sender.ts).
   */
  private async settleHealth(): Promise<void> {
    for (const h of this.health) h.wake()
    while (!this.health.every((h) => h.sender.settled)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stepListeners.delete(done)
          resolve()
        }
        this.stepListeners.add(done)
      })
    }
  }

  /** Stops the senders after their step in flight and closes the sinks and connections. */
  async close(): Promise<void> {
    await this.settleHealth()
    this.closed = true
    this.wake()
    for (const h of this.health) h.wake()
    await Promise.all([...this.running, ...this.health].map((r) => r.done))
    for (const r of this.running) {
      await r.sender.sink.close()
      r.sender.outbox.close()
    }
  }
}
