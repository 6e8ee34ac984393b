import { afterAll, describe, expect, it } from 'vitest'
import type { AlertSinkStatus } from '../../src/shared/dto'
import { AlertReceiver } from '../support/alert-receiver'
import { cleanupTempDirs, makeWorkspace, order, ts, writeLines } from '../support/lake-fixtures'
import { hostOverLake } from '../support/engine-host'
import { until } from '../support/wait'

// A sink removed from the settings: its undelivered alerts stay in the outbox, shown as orphaned
// (query.alertSinks, /metrics), delivered when the same sink comes back, deleted only when the
// user asks (alerts.discardOrphaned), and then only the undelivered ones.

afterAll(cleanupTempDirs)

describe('orphaned alert sinks', () => {
  it('keeps, shows, re-attaches and, on request, discards the alerts of a removed sink', { timeout: 180_000 }, async () => {
    const ws = makeWorkspace()
    const receiver = new AlertReceiver()
    await receiver.listen()
    const hook = { kind: 'webhook', name: 'hook', url: receiver.url }
    const gone = { kind: 'webhook', name: 'gone', url: receiver.url }
    const host = await hostOverLake(ws.lake, ws.input, { pipeline: { triggerMs: 50 }, alerts: { sinks: [hook, gone] } })
    let sinks: AlertSinkStatus[] = []
    const sinksUntil = (what: string, ok: (all: AlertSinkStatus[]) => boolean) =>
      until(
        what,
        async () => {
          sinks = await host.handlers['query.alertSinks']({})
          return ok(sinks)
        },
        { detail: () => sinks }
      )
    const count = async (sql: string) => {
      const r = await host.handlers['sql.run']({ sql, maxRows: 10 })
      if (!('rows' in r)) throw new Error(JSON.stringify(r))
      return Number(r.rows[0][0])
    }
    try {
      await host.handlers['pipeline.start']({})
      writeLines(ws.orders('1.jsonl'), [order({ order_id: 'o1', total_amount: 6000, order_ts: ts(0) })])
      await sinksUntil('o1 delivered to both sinks', (all) => all.length === 2 && all.every((s) => s.backlog === 0 && s.lastSuccessAt !== null))

      receiver.setMode('fail')
      writeLines(ws.orders('2.jsonl'), [order({ order_id: 'o2', total_amount: 6000, order_ts: ts(1000) })])
      await sinksUntil('o2 failing on both sinks', (all) => all.length === 2 && all.every((s) => s.backlog === 1 && s.lastError !== null))
      await host.handlers['pipeline.stop']({})

      // both sinks removed: their undelivered alert is kept and shown, not dropped
      await host.handlers['settings.update']({ patch: { alerts: { sinks: [] } } })
      expect(await host.handlers['query.alertSinks']({})).toEqual([
        { id: 'gone', kind: null, orphaned: true, backlog: 1, lastError: null, lastErrorAt: null, lastSuccessAt: expect.any(String) },
        { id: 'hook', kind: null, orphaned: true, backlog: 1, lastError: null, lastErrorAt: null, lastSuccessAt: expect.any(String) }
      ])
      const metrics = (await host.metrics()).text
      expect(metrics).toMatch(/^streamdesk_alert_orphaned_backlog\{sink="gone"\} 1$/m)
      expect(metrics).toMatch(/^streamdesk_alert_orphaned_backlog\{sink="hook"\} 1$/m)

      // discarding: only on request, only an orphan, only what was not delivered
      await expect(host.handlers['alerts.discardOrphaned']({ sinkId: 'nope' })).rejects.toThrow('no undelivered alerts are queued for nope')
      expect(await host.handlers['alerts.discardOrphaned']({ sinkId: 'gone' })).toEqual({ discarded: 1 })
      expect(await count(`SELECT count(*) FROM alert_outbox WHERE sink_id = 'gone' AND delivered_at IS NOT NULL`)).toBe(1)
      expect(await count(`SELECT count(*) FROM alert_outbox WHERE sink_id = 'gone' AND delivered_at IS NULL`)).toBe(0)
      expect((await host.handlers['query.alertSinks']({})).map((s) => s.id)).toEqual(['hook'])

      // the same sink back (same name): it delivers what waited for it, with its own key
      receiver.setMode('ok')
      await host.handlers['settings.update']({ patch: { alerts: { sinks: [hook] } } })
      await expect(host.handlers['alerts.discardOrphaned']({ sinkId: 'hook' })).rejects.toThrow(/alert sink hook is configured/)
      await host.handlers['pipeline.start']({})
      await sinksUntil('o2 delivered by the returning sink', (all) => all.length === 1 && all[0].backlog === 0 && !all[0].orphaned && all[0].lastError === null)
      await host.handlers['pipeline.stop']({})
      const o2 = [...receiver.byKey().values()].filter((ids) => ids.has('o2'))
      expect(o2).toHaveLength(1)
      expect(await count(`SELECT count(*) FROM alert_outbox WHERE delivered_at IS NULL`)).toBe(0)
      expect((await host.metrics()).text).not.toMatch(/^streamdesk_alert_orphaned_backlog\{/m)
    } finally {
      await host.dispose()
      await receiver.stop()
    }
  })
})
