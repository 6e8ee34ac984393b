import { afterAll, describe, expect, it } from 'vitest'
import type { AlertSinkStatus } from '../../src/shared/dto'
import { AlertReceiver } from '../support/alert-receiver'
import { cleanupTempDirs, makeWorkspace, order, ts, writeLines } from '../support/lake-fixtures'
import { hostOverLake } from '../support/engine-host'
import { until } from '../support/wait'

// What the Pipeline tab and /metrics say about an alert sink of the app's engine (serve and the
// desktop app share it): its backlog, its last error while the receiver is down, its last
// success.

afterAll(cleanupTempDirs)

describe('query.alertSinks and streamdesk_alert_sink_backlog', () => {
  it('shows a sink delivering, then failing with its backlog, then delivering again', { timeout: 120_000 }, async () => {
    const ws = makeWorkspace()
    const receiver = new AlertReceiver()
    await receiver.listen()
    const host = await hostOverLake(ws.lake, ws.input, { pipeline: { triggerMs: 50 }, alerts: { sinks: [{ kind: 'webhook', name: 'hook', url: receiver.url }] } })
    let sinks: AlertSinkStatus[] = []
    const sinksUntil = (what: string, ok: (s: AlertSinkStatus) => boolean) =>
      until(
        what,
        async () => {
          sinks = await host.handlers['query.alertSinks']({})
          return sinks.length === 1 && ok(sinks[0])
        },
        { detail: () => sinks }
      )
    const backlogGauge = async () => /^streamdesk_alert_sink_backlog\{sink="hook"\} (\d+)$/m.exec((await host.metrics()).text)?.[1]
    try {
      expect(await host.handlers['query.alertSinks']({})).toEqual([])
      expect((await host.handlers['pipeline.start']({})).state).toBe('running')
      writeLines(ws.orders('1.jsonl'), [order({ order_id: 's1', total_amount: 6000, order_ts: ts(0) })])
      await sinksUntil('the first alert delivered', (s) => s.backlog === 0 && s.lastSuccessAt !== null)
      expect(sinks[0]).toMatchObject({ id: 'hook', kind: 'webhook', lastError: null })
      expect(await backlogGauge()).toBe('0')

      await receiver.stop()
      writeLines(ws.orders('2.jsonl'), [order({ order_id: 's2', total_amount: 6000, order_ts: ts(1000) })])
      await sinksUntil('the receiver down shows as the last error', (s) => s.lastError !== null && s.backlog === 1)
      expect(sinks[0].lastError).toBe('request failed: ECONNREFUSED')
      expect(await backlogGauge()).toBe('1')

      await receiver.listen()
      await sinksUntil('the backlog delivered once the receiver is back', (s) => s.backlog === 0 && s.lastSuccessAt! > s.lastErrorAt!)
      expect([...receiver.deliveredOrders()].sort()).toEqual(['s1', 's2'])
      await host.handlers['pipeline.stop']({})
      expect(await host.handlers['query.alertSinks']({})).toEqual([])
    } finally {
      await host.dispose()
      await receiver.stop()
    }
  })
})
