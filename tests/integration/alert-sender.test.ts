import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SinkOutbox, type OutboxMessage } from '../../src/main/lake/alert-outbox'
import { openLake, sqlString, type Lake } from '../../src/main/lake/lake'
import type { AlertSink } from '../../src/main/alerts/sink'
import { BACKOFF_BASE_MS, SinkSender, type Clock, type SenderOptions } from '../../src/main/alerts/sink-sender'
import { slackText } from '../../src/main/alerts/slack-sink'
import { cleanupTempDirs, makeWorkspace } from '../support/lake-fixtures'

// The sender's decisions (grouping, "+N more", backoff, re-sending a claimed message) on a real
// lake's outbox, with time driven by a clock the test sets: nothing here waits for time to pass.

afterAll(cleanupTempDirs)

const SINK = 'test-sink'

/** A sink that records what it is given and fails while `failing` is set. */
class RecordingSink implements AlertSink {
  readonly id = SINK
  readonly sent: { message: OutboxMessage; resend: boolean }[] = []
  failing = false
  async send(message: OutboxMessage, resend: boolean): Promise<void> {
    this.sent.push({ message, resend })
    if (this.failing) throw new Error('receiver down')
  }
  async sendHealth(): Promise<void> {
    throw new Error('the outbox sender never sends health events')
  }
  async close(): Promise<void> {}
}

let lake: Lake
let outbox: SinkOutbox
let batch = 0
const clock = { t: 1_000_000, now() { return this.t } } satisfies Clock & { t: number }

beforeEach(async () => {
  lake = await openLake(makeWorkspace().lake, { create: true })
  outbox = await SinkOutbox.open(lake, SINK)
})
afterEach(async () => {
  outbox.close()
  await lake.close()
})

/** Queues alerts as a batch would: [order id, score]. */
async function queue(...alerts: [string, number][]): Promise<void> {
  batch++
  const values = alerts.map(
    ([id, score]) => `(${sqlString(SINK)}, ${sqlString(id)}, ${batch}, ${score}, ${sqlString(JSON.stringify({ order_id: id, customer_id: 'c', fraud_score: score, reasons: [] }))}, now())`
  )
  await lake.writer.run(`INSERT INTO alert_outbox (sink_id, order_id, batch_id, fraud_score, alert, queued_at) VALUES ${values.join(', ')}`)
}

const ids = (m: OutboxMessage) => m.alerts.map((a) => a.order_id)
const logged: string[] = []
const sender = (sink: AlertSink, opts: Partial<SenderOptions> = {}) => new SinkSender(sink, outbox, { groupSeconds: 0, ...opts }, clock, (l) => logged.push(l))

describe('grouping', () => {
  it('sends at most one message per groupSeconds, listing the alerts queued meanwhile', async () => {
    const sink = new RecordingSink()
    const s = sender(sink, { groupSeconds: 60 })
    await queue(['o1', 5])
    expect(await s.step()).toBe(0)
    expect(sink.sent.map((x) => ids(x.message))).toEqual([['o1']])
    await queue(['o2', 5])
    clock.t += 10_000
    await queue(['o3', 7])
    const sentAt = clock.t - 10_000
    // the interval is not over: nothing sent, and the sender says when to come back
    expect(await s.step()).toBe(sentAt + 60_000)
    expect(sink.sent).toHaveLength(1)
    clock.t = sentAt + 60_000
    expect(await s.step()).toBe(0)
    expect(sink.sent.map((x) => ids(x.message))).toEqual([['o1'], ['o3', 'o2']])
    expect(await s.step()).toBeNull()
  })

  it('sends what an interval holds at once when flushing (a process about to exit)', async () => {
    const sink = new RecordingSink()
    const s = sender(sink, { groupSeconds: 60 })
    await queue(['f1', 5])
    expect(await s.step()).toBe(0)
    await queue(['f2', 5])
    expect(await s.step()).toBe(clock.t + 60_000)
    s.flushGroups()
    expect(await s.step()).toBe(0)
    expect(sink.sent.map((x) => ids(x.message))).toEqual([['f1'], ['f2']])
  })
})

describe('rate limit', () => {
  it('lists the highest scores up to maxAlertsPerMessage and counts the rest as "+N more"', async () => {
    const sink = new RecordingSink()
    const s = sender(sink, { maxAlertsPerMessage: 2 })
    await queue(['a', 3], ['b', 9], ['c', 4], ['d', 8], ['e', 3])
    expect(await s.step()).toBe(0)
    expect(sink.sent).toHaveLength(1)
    const m = sink.sent[0].message
    expect(ids(m)).toEqual(['b', 'd'])
    expect(m.more).toBe(3)
    expect(slackText(m).split('\n').at(-1)).toBe('+3 more')
    // the counted ones went with that message: nothing is left to send
    expect(await s.step()).toBeNull()
    const r = await lake.reader.runAndReadAll(`SELECT order_id, listed, delivered_at IS NOT NULL FROM alert_outbox ORDER BY order_id`)
    expect(r.getRows()).toEqual([
      ['a', false, true],
      ['b', true, true],
      ['c', false, true],
      ['d', true, true],
      ['e', false, true]
    ])
  })
})

describe('retries', () => {
  it('retries the same message with exponential backoff and marks it delivered once it goes through', async () => {
    const sink = new RecordingSink()
    sink.failing = true
    const s = sender(sink)
    await queue(['x', 5])
    const t0 = clock.t
    expect(await s.step()).toBe(t0 + BACKOFF_BASE_MS)
    clock.t = t0 + BACKOFF_BASE_MS - 1
    expect(await s.step()).toBe(t0 + BACKOFF_BASE_MS)
    expect(sink.sent).toHaveLength(1)
    clock.t = t0 + BACKOFF_BASE_MS
    expect(await s.step()).toBe(clock.t + 2 * BACKOFF_BASE_MS)
    await queue(['y', 6])
    sink.failing = false
    clock.t += 2 * BACKOFF_BASE_MS
    expect(await s.step()).toBe(0)
    expect(await s.step()).toBe(0)
    expect(await s.step()).toBeNull()
    // x three times under one key (re-sends flagged), then y in a message of its own
    expect(sink.sent.map((x) => [ids(x.message), x.resend])).toEqual([
      [['x'], false],
      [['x'], true],
      [['x'], true],
      [['y'], false]
    ])
    expect(new Set(sink.sent.slice(0, 3).map((x) => x.message.key)).size).toBe(1)
    expect(s.state.lastError).toBe('receiver down')
    expect(logged.filter((l) => l.includes('delivery failed'))).toHaveLength(1)
    const r = await lake.reader.runAndReadAll(`SELECT order_id, attempts, delivered_at IS NOT NULL FROM alert_outbox ORDER BY order_id`)
    expect(r.getRows()).toEqual([
      ['x', 3, true],
      ['y', 1, true]
    ])
  })

  it('a new sender (a restarted process) re-sends a claimed, undelivered message first, with the same key and alerts', async () => {
    const sink = new RecordingSink()
    sink.failing = true
    await queue(['p', 5], ['q', 4])
    await sender(sink).step()
    await queue(['r', 9])
    sink.failing = false
    const again = sender(sink)
    expect(await again.step()).toBe(0)
    expect(await again.step()).toBe(0)
    expect(sink.sent.map((x) => [ids(x.message), x.resend])).toEqual([
      [['p', 'q'], false],
      [['p', 'q'], true],
      [['r'], false]
    ])
    expect(sink.sent[1].message).toEqual(sink.sent[0].message)
  })
})
