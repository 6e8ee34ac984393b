import { describe, expect, it } from 'vitest'
import { HealthMonitor } from '../../src/main/engine/health-monitor'
import type { HealthEvent } from '../../src/shared/health'
import { healthSettingsSchema, parseSettings, SettingsError } from '../../src/shared/settings'
import type { InputBacklog } from '../../src/main/sources/source'
import type { QuarantineShare } from '../../src/main/lake/health-figures'

// The monitor's state machine over figures the test sets (the real source and lake are in
// tests/integration/health-alerts.test.ts): when each condition fires and resolves, on a clock
// the test moves.

function setup(over: Record<string, unknown> = {}) {
  const settings = healthSettingsSchema.parse({ stuckSeconds: 60, holdSeconds: 30, kafkaLagMessages: 1000, ...over })
  const figures: { backlog: InputBacklog; quarantine: QuarantineShare } = {
    backlog: { waiting: false, description: null, messages: null, error: null },
    quarantine: { batches: 0, lines: 0, quarantined: 0 }
  }
  const clock = { t: 0, now() { return this.t } }
  const events: HealthEvent[] = []
  const monitor = new HealthMonitor(
    { sourceKind: 'kafka', sourceLabel: 'kafka test', backlog: async () => figures.backlog, quarantine: async () => figures.quarantine },
    settings,
    { clock, onEvent: (e) => events.push(e) }
  )
  const at = async (seconds: number) => {
    clock.t = seconds * 1000
    return monitor.check()
  }
  return { figures, monitor, events, at }
}

const waiting = (messages: number): InputBacklog => ({ waiting: messages > 0, description: `${messages} Kafka messages`, messages, error: null })

describe('HealthMonitor', () => {
  it('a run that commits under a backlog is working, never stuck; one that stops committing is', async () => {
    const { figures, monitor, events, at } = setup()
    figures.backlog = waiting(500)
    expect((await at(0)).activity).toBe('working')
    // a batch every 50 s: the wait starts again at each commit
    for (let s = 50; s <= 500; s += 50) {
      await at(s)
      await monitor.afterBatch()
      expect(monitor.state().activity).toBe('working')
    }
    expect(events).toEqual([])
    expect((await at(559)).activity).toBe('working')
    expect((await at(560)).activity).toBe('stuck')
    expect(events.map((e) => [e.condition, e.state])).toEqual([['stuck', 'firing']])
    figures.backlog = waiting(0)
    expect((await at(561)).activity).toBe('idle')
  })

  it('fires once and resolves once, however often the condition flaps inside the hold-down', async () => {
    // messages wait all along: stuck is kept out of this by its own threshold
    const { figures, events, at } = setup({ stuckSeconds: 86_400 })
    figures.backlog = waiting(5000)
    await at(0)
    expect(events.map((e) => [e.condition, e.state])).toEqual([['kafka-lag', 'firing']])
    // clear for less than the hold-down each time, then over the threshold again
    for (let s = 10; s < 200; s += 20) {
      figures.backlog = waiting(10)
      await at(s)
      await at(s + 15)
      figures.backlog = waiting(5000)
      await at(s + 19)
    }
    expect(events).toHaveLength(1)
    figures.backlog = waiting(10)
    await at(300)
    expect((await at(329)).firing.map((f) => f.condition)).toEqual(['kafka-lag'])
    expect((await at(330)).firing).toEqual([])
    expect(events.map((e) => [e.condition, e.state])).toEqual([
      ['kafka-lag', 'firing'],
      ['kafka-lag', 'resolved']
    ])
    expect(events[1]).toMatchObject({ since: events[0].since, value: 5000, threshold: 1000, resolution: 'clear for 30 s', source: 'kafka test' })
  })

  it('judges the quarantine share only on enough lines', async () => {
    const { figures, monitor, at } = setup({ quarantineShare: 0.1, quarantineMinLines: 100 })
    figures.quarantine = { batches: 2, lines: 99, quarantined: 99 }
    expect((await at(0)).firing).toEqual([])
    figures.quarantine = { batches: 3, lines: 1000, quarantined: 101 }
    // the lake's figures are read again only after a batch
    expect((await at(1)).firing).toEqual([])
    await monitor.afterBatch()
    expect(monitor.state().firing).toEqual([expect.objectContaining({ condition: 'quarantine-share', value: 0.101, threshold: 0.1 })])
  })

  it('stopping resolves every firing condition', async () => {
    const { figures, monitor, events, at } = setup()
    figures.backlog = { ...waiting(0), error: 'waiting for Kafka at localhost:9 (ECONNREFUSED)' }
    await at(0)
    await monitor.stop()
    expect(events.map((e) => [e.condition, e.state, e.resolution])).toEqual([
      ['source-error', 'firing', undefined],
      ['source-error', 'resolved', 'the pipeline stopped']
    ])
    expect(events[0].action).toContain('broker')
  })
})

describe('alerts.health settings', () => {
  it('has defaults and names what is wrong', () => {
    expect(parseSettings({}).alerts.health).toMatchObject({ enabled: true, stuckSeconds: 120, quarantineShare: 0.2, holdSeconds: 60 })
    try {
      parseSettings({ alerts: { health: { stuckSeconds: 1, quarantineShare: 2, kafkaLagMessages: 0.5, hold: 3 } } })
      expect.unreachable()
    } catch (err) {
      expect((err as SettingsError).fields).toEqual(
        expect.arrayContaining([
          { field: 'alerts.health.stuckSeconds', message: 'must be at least 5' },
          { field: 'alerts.health.quarantineShare', message: 'must be at most 1' },
          { field: 'alerts.health.kafkaLagMessages', message: 'must be a whole number' },
          { field: 'alerts.health', message: 'unknown setting: hold' }
        ])
      )
    }
  })
})
