import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { signature } from '../../src/main/alerts/webhook-sink'
import { killLeftovers, spawnPipeline, type Child } from '../support/bulk-input'
import { AlertReceiver } from '../support/alert-receiver'
import { cleanupTempDirs, makeWorkspace, order, query, ts, writeLines, type Workspace } from '../support/lake-fixtures'
import { until } from '../support/wait'

// A webhook receiver gets every alert of the input exactly once by idempotency key, while the
// pipeline process is SIGKILLed twice with a delivery in flight (the receiver holding the request
// unanswered) and the receiver is down, then failing, for a while. Every kill and every outage
// is placed by a condition the test waits for, never by a delay.

afterAll(cleanupTempDirs)

const SECRET = 'receiver-shared-secret'
const children: Child[] = []
const receivers: AlertReceiver[] = []
afterEach(async () => {
  killLeftovers(children)
  for (const r of receivers.splice(0)) await r.stop()
})

let fileNo = 0
/** An orders file of `alerts` orders scoring over the threshold (amount > 5000) and `plain` ones that do not. */
function writeOrders(ws: Workspace, tag: string, alerts: number, plain: number): string[] {
  const alerting = Array.from({ length: alerts }, (_, i) => order({ order_id: `alert-${tag}-${i}`, order_ts: ts(fileNo * 60_000 + i), total_amount: 6000 + i }))
  const others = Array.from({ length: plain }, (_, i) => order({ order_id: `plain-${tag}-${i}`, order_ts: ts(fileNo * 60_000 + i), total_amount: 20 }))
  writeLines(ws.orders(`orders-${++fileNo}.jsonl`), [...alerting, ...others])
  return alerting.map((o) => String(o.order_id))
}

describe('webhook delivery across SIGKILLs and a receiver outage', () => {
  it('delivers every alert exactly once by idempotency key, re-sent with the same key and alerts', { timeout: 240_000 }, async () => {
    const ws = makeWorkspace()
    const receiver = new AlertReceiver()
    receivers.push(receiver)
    await receiver.listen()
    const settings = join(ws.root, 'settings.json')
    writeFileSync(settings, JSON.stringify({ alerts: { sinks: [{ kind: 'webhook', name: 'hook', url: receiver.url, secret: SECRET }] } }))
    const spawn = (extra: string[] = []) => {
      const c = spawnPipeline(ws.input, ws.lake, ['--settings', settings, ...extra])
      children.push(c)
      return c
    }
    const expected = new Set<string>()
    const requestWith = (orderId: string) => receiver.requests.find((r) => r.body.includes(`"${orderId}"`))

    // 1. a delivery in flight (held by the receiver) when the process is killed
    receiver.setMode('hold')
    for (const id of writeOrders(ws, 'a', 10, 5)) expected.add(id)
    const first = spawn()
    await until('the first delivery reaches the receiver', () => receiver.requests.length >= 1, { detail: first.stderr })
    const firstKey = receiver.requests[0].key!
    first.proc.kill('SIGKILL')
    await first.exited

    // 2. restarted: the held delivery is re-sent first, with the same key
    receiver.setMode('ok')
    const second = spawn()
    await until('file 1 delivered', () => [...expected].every((id) => receiver.deliveredOrders().has(id)), { detail: second.stderr })
    const resent = receiver.requests.filter((r) => r.key === firstKey)
    expect(resent.length).toBeGreaterThanOrEqual(2)
    expect(new Set(resent.map((r) => r.body)).size).toBe(1)

    // 3. killed again with a delivery of new alerts in flight
    receiver.setMode('hold')
    const second2 = writeOrders(ws, 'b', 10, 5)
    for (const id of second2) expected.add(id)
    await until('a delivery of file 2 reaches the receiver', () => requestWith(second2[0]) !== undefined, { detail: second.stderr })
    const heldKey = requestWith(second2[0])!.key!
    second.proc.kill('SIGKILL')
    await second.exited

    // 4. the receiver is down (connections refused) while new alerts are committed, then fails
    // three requests, then comes back
    await receiver.stop()
    receiver.setMode('fail')
    for (const id of writeOrders(ws, 'c', 10, 5)) expected.add(id)
    const third = spawn()
    await third.waitFor('alert sink hook: delivery failed (request failed: ECONNREFUSED)')
    const failedBefore = receiver.requests.length
    await receiver.listen()
    await until('three failed attempts after the receiver is back', () => receiver.requests.length >= failedBefore + 3, { detail: third.stderr })
    receiver.setMode('ok')
    await until('every alert delivered', () => [...expected].every((id) => receiver.deliveredOrders().has(id)), { detail: third.stderr })
    expect(receiver.requests.filter((r) => r.key === heldKey).length).toBeGreaterThanOrEqual(2)
    third.proc.kill('SIGTERM')
    expect((await third.exited).code).toBe(0)

    // 5. a last run until idle has nothing left to send and exits 0
    const last = spawn(['--until-idle'])
    expect((await last.exited).code).toBe(0)

    // exactly once by key: each alert under one key only, a key always with the same body
    const keysOf = new Map<string, Set<string>>()
    for (const [key, ids] of receiver.byKey()) for (const id of ids) keysOf.set(id, (keysOf.get(id) ?? new Set()).add(key))
    expect([...keysOf.keys()].sort()).toEqual([...expected].sort())
    for (const [id, keys] of keysOf) expect(keys.size, id).toBe(1)
    const bodies = new Map<string, Set<string>>()
    for (const r of receiver.requests) if (r.key) bodies.set(r.key, (bodies.get(r.key) ?? new Set()).add(r.body))
    for (const [key, b] of bodies) expect(b.size, key).toBe(1)
    // every request is signed with the shared secret
    for (const r of receiver.requests) expect(r.signature).toBe(signature(SECRET, r.body))

    // and the lake says the same: one outbox row per alert, all delivered
    const rows = await query(ws.lake, `SELECT count(*)::INTEGER AS n, count(delivered_at)::INTEGER AS done, count(DISTINCT order_id)::INTEGER AS orders FROM alert_outbox`)
    expect(rows[0]).toEqual({ n: expected.size, done: expected.size, orders: expected.size })
  })

  it('--until-idle waiting for a sink stops at Ctrl+C with exit 5, the alerts kept queued', { timeout: 120_000 }, async () => {
    const ws = makeWorkspace()
    const receiver = new AlertReceiver()
    await receiver.listen()
    const url = receiver.url
    await receiver.stop()
    const settings = join(ws.root, 'settings.json')
    writeFileSync(settings, JSON.stringify({ alerts: { sinks: [{ kind: 'webhook', name: 'hook', url }] } }))
    writeOrders(ws, 'd', 3, 2)
    // a wait far longer than the test: only the signal can end it
    const child = spawnPipeline(ws.input, ws.lake, ['--settings', settings, '--until-idle', '--connect-timeout', String(3_600_000)])
    children.push(child)
    await child.waitFor('alert sink hook: delivery failed (request failed: ECONNREFUSED)')
    child.proc.kill('SIGINT')
    expect((await child.exited).code).toBe(5)
    expect(child.stderr()).toContain('alert sink behind when stopped: hook (3 alerts queued; last error: request failed: ECONNREFUSED)')
    const rows = await query(ws.lake, `SELECT count(*)::INTEGER AS n FROM alert_outbox WHERE delivered_at IS NULL`)
    expect(rows[0].n).toBe(3)
  })
})
