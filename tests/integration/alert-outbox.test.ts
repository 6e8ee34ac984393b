import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CliError } from '../../src/main/cli/errors'
import { SCHEMA_VERSION } from '../../src/main/lake/schema'
import { parseSettings } from '../../src/shared/settings'
import { AlertReceiver } from '../support/alert-receiver'
import { cleanupTempDirs, lakeFromFixture, makeWorkspace, order, query, runPipeline, ts, writeLines, type Workspace } from '../support/lake-fixtures'

// The outbox in the lake: a lake of the previous schema migrates to an empty one; each batch
// queues its alerts for every sink that takes them; an order alerts once per sink; --until-idle
// drains the outbox or exits 5 naming the sink that is behind, the alerts staying queued.

afterAll(cleanupTempDirs)

const sinksSettings = (sinks: unknown[]) => parseSettings({ alerts: { sinks } })

function readNdjson(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

// default rules: > 5000 scores 4, > 3000 scores 3 (threshold 3), 25 scores 0
const big = (id: string, amount = 6000, at = 0) => order({ order_id: id, total_amount: amount, order_ts: ts(at) })

describe('a schema-6 lake (before the outbox)', () => {
  it('migrates to an empty outbox; only alerts of later batches are sent', async () => {
    const ws: Workspace = lakeFromFixture('lake-v6.duckdb.gz')
    const before = await query(ws.lake, `SELECT count(*)::INTEGER AS n FROM fraud_alerts`)
    expect(before[0].n).toBe(7)
    const out = join(ws.root, 'alerts.ndjson')
    writeLines(ws.orders('new.jsonl'), [big('new-1'), big('new-2', 3500), order({ order_id: 'new-3', total_amount: 25 })])
    await runPipeline(ws, { baseSettings: sinksSettings([{ kind: 'file', path: out }]) })
    const meta = await query(ws.lake, `SELECT value FROM lake_meta WHERE key = 'schema_version'`)
    expect(meta[0].value).toBe(String(SCHEMA_VERSION))
    expect(SCHEMA_VERSION).toBe(7)
    expect(readNdjson(out).map((a) => a.order_id).sort()).toEqual(['new-1', 'new-2'])
    const rows = await query(ws.lake, `SELECT order_id, sink_id, delivered_at IS NOT NULL AS done FROM alert_outbox ORDER BY order_id`)
    expect(rows).toEqual([
      { order_id: 'new-1', sink_id: `file:${out}`, done: true },
      { order_id: 'new-2', sink_id: `file:${out}`, done: true }
    ])
    const after = await query(ws.lake, `SELECT count(*)::INTEGER AS n FROM fraud_alerts`)
    expect(after[0].n).toBe(9)
  })
})

describe('queueing', () => {
  it("queues each alert once per sink, by the sink's minScore, and never twice for one order", async () => {
    const ws = makeWorkspace()
    const all = join(ws.root, 'all.ndjson')
    const high = join(ws.root, 'high.ndjson')
    const settings = sinksSettings([
      { kind: 'file', path: all },
      { kind: 'file', name: 'high', path: high, minScore: 4 }
    ])
    writeLines(ws.orders('1.jsonl'), [big('a1'), big('a2', 3500), order({ order_id: 'p1', total_amount: 25 })])
    await runPipeline(ws, { baseSettings: settings })
    // the same order again (a duplicate) and a new one, in a later batch
    writeLines(ws.orders('2.jsonl'), [big('a1'), big('a3', 7000, 1000)])
    await runPipeline(ws, { baseSettings: settings })
    expect(readNdjson(all).map((a) => a.order_id).sort()).toEqual(['a1', 'a2', 'a3'])
    expect(readNdjson(high).map((a) => a.order_id).sort()).toEqual(['a1', 'a3'])
    const alert = readNdjson(all).find((a) => a.order_id === 'a2')!
    expect(alert).toMatchObject({ customer_id: expect.any(String), fraud_score: 3, total_amount: 3500, currency: 'USD', idempotency_key: expect.any(String) })
    expect(alert.reasons).toEqual([expect.stringContaining('3,000')])
    const rows = await query(ws.lake, `SELECT sink_id, count(*)::INTEGER AS n FROM alert_outbox GROUP BY sink_id ORDER BY sink_id`)
    expect(rows).toEqual([
      { sink_id: `file:${all}`, n: 3 },
      { sink_id: 'high', n: 2 }
    ])
  })
})

describe('pipeline --until-idle and a sink that is behind', () => {
  it('exits 5 naming the sink, keeps the alerts queued, and the next run delivers them', async () => {
    const ws = makeWorkspace()
    const receiver = new AlertReceiver()
    await receiver.listen()
    const url = receiver.url
    await receiver.stop()
    const settings = sinksSettings([{ kind: 'webhook', name: 'ops-hook', url }])
    writeLines(ws.orders('1.jsonl'), [big('w1'), big('w2', 4000)])
    const err = await runPipeline(ws, { baseSettings: settings, connectTimeout: 1500 }).then(
      () => null,
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(CliError)
    expect((err as CliError).exitCode).toBe(5)
    expect((err as CliError).message).toContain('ops-hook (2 alerts queued; last error: request failed: ECONNREFUSED)')
    const queued = await query(ws.lake, `SELECT count(*)::INTEGER AS n FROM alert_outbox WHERE delivered_at IS NULL`)
    expect(queued[0].n).toBe(2)

    await receiver.listen()
    try {
      await runPipeline(ws, { baseSettings: settings, connectTimeout: 60_000 })
      expect([...receiver.deliveredOrders()].sort()).toEqual(['w1', 'w2'])
      const body = JSON.parse(receiver.requests.at(-1)!.body) as { alerts: Record<string, unknown>[] }
      expect(Object.keys(body)).toEqual(['alerts'])
      expect(body.alerts[0]).toMatchObject({ order_id: 'w1', fraud_score: 4, reasons: expect.any(Array), customer_id: expect.any(String) })
      expect(receiver.requests.at(-1)!.signature).toBeUndefined()
    } finally {
      await receiver.stop()
    }
  })
})
