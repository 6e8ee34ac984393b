import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { EngineHost } from '../../src/main/api/host'
import type { HealthConditionName, HealthState } from '../../src/shared/health'
import { AlertReceiver } from '../support/alert-receiver'
import { spawnPipeline } from '../support/bulk-input'
import { cleanupTempDirs, makeTempDir, makeWorkspace, order, ts, writeLines, type Workspace } from '../support/lake-fixtures'
import { hostOverLake } from '../support/engine-host'
import { until } from '../support/wait'

// Pipeline health alerts on a real engine: a real folder, a real lake, a real webhook receiver.
// The monitor's clock is the test's: time thresholds are crossed by moving it, never by waiting.
// A pipeline is made stuck honestly: after its first batch its trigger interval (10 min) keeps the
// next batch from starting while input waits.

afterAll(cleanupTempDirs)

const STUCK_SECONDS = 60
const HOLD_SECONDS = 30

interface Rig {
  ws: Workspace
  host: EngineHost
  receiver: AlertReceiver
  clock: { t: number; now(): number }
  health(): Promise<HealthState>
  firing(c: HealthConditionName): Promise<boolean>
  gauge(c: HealthConditionName): Promise<string | undefined>
  /** Batches pushed (batch.progress comes after the source learned the batch's offsets). */
  batches(): number
  dispose(): Promise<void>
}

async function rig(pipeline: Record<string, unknown>, health: Record<string, unknown> = {}): Promise<Rig> {
  const ws = makeWorkspace()
  const receiver = new AlertReceiver()
  await receiver.listen()
  const clock = { t: 1_000_000, now() { return this.t } }
  const host = await hostOverLake(
    ws.lake,
    ws.input,
    {
      pipeline,
      alerts: {
        sinks: [{ kind: 'webhook', name: 'hook', url: receiver.url }],
        health: { stuckSeconds: STUCK_SECONDS, holdSeconds: HOLD_SECONDS, checkSeconds: 600, ...health }
      }
    },
    { controller: { healthClock: clock } }
  )
  const healthNow = () => host.handlers['query.health']({})
  let batches = 0
  host.events.subscribe('batch.progress', () => batches++)
  return {
    ws,
    host,
    receiver,
    clock,
    health: healthNow,
    firing: async (c) => (await healthNow()).firing.some((f) => f.condition === c),
    batches: () => batches,
    gauge: async (c) => new RegExp(`^streamdesk_health_condition_firing\\{condition="${c}"\\} (\\d+)$`, 'm').exec((await host.metrics()).text)?.[1],
    dispose: async () => {
      await host.dispose()
      await receiver.stop()
    }
  }
}

async function batchesCommitted(r: Rig, n: number): Promise<void> {
  await until(`batch ${n} committed`, () => r.batches() >= n)
}

describe('pipeline health alerts', () => {
  it('tells idle from stuck, and delivers stuck once to the webhook with one key per change', { timeout: 120_000 }, async () => {
    const r = await rig({ triggerMs: 600_000 })
    try {
      writeLines(r.ws.orders('1.jsonl'), [order({ order_id: 'a1', order_ts: ts(0) })])
      expect((await r.host.handlers['pipeline.start']({})).state).toBe('running')
      await batchesCommitted(r, 1)

      // nothing to read: idle however long it lasts, and nothing is sent
      r.clock.t += 3600_000
      expect(await r.health()).toMatchObject({ activity: 'idle', waiting: null, firing: [] })
      expect(await r.gauge('stuck')).toBe('0')

      // input arrives; the trigger interval holds the next batch back
      writeLines(r.ws.orders('2.jsonl'), [order({ order_id: 'a2', order_ts: ts(1000) })])
      expect(await r.health()).toMatchObject({ activity: 'working', waiting: expect.stringMatching(/^1 file, \d+ B$/), firing: [] })
      r.clock.t += (STUCK_SECONDS - 1) * 1000
      expect((await r.health()).activity).toBe('working')

      r.receiver.setMode('fail')
      r.clock.t += 1000
      const stuck = await r.health()
      expect(stuck.activity).toBe('stuck')
      expect(stuck.firing).toEqual([
        expect.objectContaining({ condition: 'stuck', value: STUCK_SECONDS, threshold: STUCK_SECONDS, cause: expect.stringContaining('this is not idle') })
      ])
      expect(await r.gauge('stuck')).toBe('1')
      // the receiver refuses: the sender retries the same event with the same key
      await until('a retry of the stuck event', () => r.receiver.healthRequests().length >= 2)
      r.receiver.setMode('ok')
      await until('the stuck event delivered', () => r.receiver.healthRequests().some((q) => q.answer === 'ok'))

      // more looks while it stays stuck send nothing more
      for (let i = 0; i < 3; i++) {
        r.clock.t += 10_000
        expect((await r.health()).activity).toBe('stuck')
      }
      const firing = r.receiver.healthRequests()
      expect(new Set(firing.map((q) => q.key)).size).toBe(1)
      expect(new Set(firing.map((q) => q.body)).size).toBe(1)
      expect(firing[0].health).toMatchObject({ condition: 'stuck', state: 'firing', source: r.ws.input })
      expect(firing.filter((q) => q.answer === 'ok')).toHaveLength(1)

      // stopping resolves what fires, delivered before the sinks close, under a key of its own
      await r.host.handlers['pipeline.stop']({})
      const all = r.receiver.healthRequests().filter((q) => q.answer === 'ok')
      expect(all.map((q) => q.health.state)).toEqual(['firing', 'resolved'])
      expect(all[1].health).toMatchObject({ condition: 'stuck', since: firing[0].health.since, resolution: 'the pipeline stopped' })
      expect(all[1].key).not.toBe(all[0].key)
      expect(await r.health()).toMatchObject({ activity: 'stopped', firing: [] })
      // the fraud alert contract is untouched: no health event counts as an alert delivery
      expect(r.receiver.byKey().size).toBe(0)
    } finally {
      await r.dispose()
    }
  })

  it('fires on the quarantine share of the last batches, equal to SQL over the lake, and resolves after the hold-down', { timeout: 120_000 }, async () => {
    const r = await rig({ triggerMs: 50 }, { quarantineShare: 0.5, quarantineBatches: 1, quarantineMinLines: 4 })
    try {
      expect((await r.host.handlers['pipeline.start']({})).state).toBe('running')
      writeLines(r.ws.orders('bad.jsonl'), ['not json', '{"order_id": 1}', 'nope', order({ order_id: 'q1', order_ts: ts(0) })])
      await until('the quarantine share firing', () => r.firing('quarantine-share'))
      const alert = (await r.health()).firing.find((f) => f.condition === 'quarantine-share')!
      const answer = await r.host.handlers['sql.run']({
        sql: `SELECT sum(quarantined) / sum(rows_read) AS share FROM (SELECT * FROM batches WHERE kind = 'live' ORDER BY batch_id DESC LIMIT 1)`,
        maxRows: 10
      })
      expect(answer.ok && Number(answer.rows[0][0])).toBe(alert.value)
      expect(alert.value).toBe(0.75)
      expect(alert.cause).toContain('75% of the 4 lines the last 1 batch read went to quarantine')
      expect(await r.gauge('quarantine-share')).toBe('1')
      await until('the firing event delivered', () => r.receiver.healthRequests().some((q) => q.answer === 'ok'))

      // still firing however long it lasts: no good batch has come
      r.clock.t += 3600_000
      expect(await r.firing('quarantine-share')).toBe(true)

      writeLines(r.ws.orders('good.jsonl'), [1, 2, 3, 4].map((i) => order({ order_id: `g${i}`, order_ts: ts(i * 1000) })))
      await batchesCommitted(r, 2)
      // clear now, but it resolves only once it has been clear for the hold-down
      await until('the condition clear and held', async () => {
        r.clock.t += (HOLD_SECONDS * 1000) / 3
        return !(await r.firing('quarantine-share'))
      })
      await until('the resolution delivered', () => r.receiver.healthRequests().filter((q) => q.answer === 'ok').length === 2)
      const [fired, resolved] = r.receiver.healthRequests().filter((q) => q.answer === 'ok')
      expect(fired.health).toMatchObject({ condition: 'quarantine-share', state: 'firing' })
      expect(resolved.health).toMatchObject({ condition: 'quarantine-share', state: 'resolved', since: fired.health.since, resolution: `clear for ${HOLD_SECONDS} s` })
      expect(Date.parse(String(resolved.health.at)) - Date.parse(String(fired.health.since))).toBeGreaterThanOrEqual(HOLD_SECONDS * 1000)
      expect(await r.gauge('quarantine-share')).toBe('0')
    } finally {
      await r.dispose()
    }
  })

  it('fires a source error while the input folder is gone, and resolves once it is back', { timeout: 120_000 }, async () => {
    const r = await rig({ triggerMs: 50 })
    try {
      expect((await r.host.handlers['pipeline.start']({})).state).toBe('running')
      // the monitor starts once the source has the lake's offsets
      await until('the monitor watching', async () => (await r.health()).activity === 'idle')
      const away = `${r.ws.input}-away`
      renameSync(r.ws.input, away)
      const gone = await r.health()
      expect(gone.firing).toEqual([expect.objectContaining({ condition: 'source-error', cause: `the input folder ${r.ws.input} is not there any more` })])
      expect(gone.activity).toBe('idle')
      renameSync(away, r.ws.input)
      expect(await r.firing('source-error')).toBe(true)
      r.clock.t += HOLD_SECONDS * 1000
      expect(await r.firing('source-error')).toBe(false)
      await until('firing and resolved delivered', () => r.receiver.healthRequests().filter((q) => q.answer === 'ok').length === 2)
      expect(r.receiver.healthRequests().map((q) => q.health.state)).toEqual(['firing', 'resolved'])
    } finally {
      await r.dispose()
    }
  })

  it('with health alerts off, the state still shows the condition and the sinks get nothing', { timeout: 120_000 }, async () => {
    const r = await rig({ triggerMs: 50 }, { enabled: false })
    try {
      writeLines(r.ws.orders('1.jsonl'), [order({ order_id: 'e1', total_amount: 6000, order_ts: ts(0) })])
      expect((await r.host.handlers['pipeline.start']({})).state).toBe('running')
      await batchesCommitted(r, 1)
      await until('the fraud alert delivered', () => r.receiver.deliveredOrders().has('e1'))
      renameSync(r.ws.input, `${r.ws.input}-away`)
      expect(await r.firing('source-error')).toBe(true)
      expect(await r.gauge('source-error')).toBe('1')
      await r.host.handlers['pipeline.stop']({})
      // the sink works (the fraud alert went out), yet no health event went, not even at the stop
      expect(r.receiver.healthRequests()).toEqual([])
    } finally {
      await r.dispose()
    }
  })

  it('`streamdesk pipeline` sends them too: a source error firing and resolved, each once', { timeout: 120_000 }, async () => {
    const ws = makeWorkspace()
    const receiver = new AlertReceiver()
    await receiver.listen()
    const settings = join(makeTempDir(), 'settings.json')
    writeFileSync(settings, JSON.stringify({ alerts: { sinks: [{ kind: 'webhook', url: receiver.url }], health: { checkSeconds: 1, holdSeconds: 0 } } }))
    const child = spawnPipeline(ws.input, ws.lake, ['--settings', settings])
    try {
      await child.waitFor('started')
      writeLines(ws.orders('1.jsonl'), [order({ order_id: 'c1', order_ts: ts(0) })])
      await child.waitFor('batch 1')
      const away = `${ws.input}-away`
      renameSync(ws.input, away)
      await child.waitFor('health: source-error firing')
      renameSync(away, ws.input)
      await child.waitFor('health: source-error resolved')
      await until('both delivered', () => receiver.healthRequests().filter((q) => q.answer === 'ok').length === 2, { detail: () => receiver.requests })
      child.proc.kill('SIGINT')
      expect((await child.exited).code).toBe(0)
      const sent = receiver.healthRequests()
      expect(sent.map((q) => [q.health.condition, q.health.state])).toEqual([
        ['source-error', 'firing'],
        ['source-error', 'resolved']
      ])
      expect(new Set(sent.map((q) => q.key)).size).toBe(2)
    } finally {
      if (child.proc.exitCode === null) child.proc.kill('SIGKILL')
      await receiver.stop()
    }
  })
})
