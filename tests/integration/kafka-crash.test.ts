import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { cleanupTempDirs, makeTempDir, queries } from '../support/lake-fixtures'
import { killLeftovers, orderLine, rng, type Child } from '../support/bulk-input'
import { groupOffsets, highWatermarks, produce, startBroker, stopAllBrokers, type TestMessage } from '../support/kafka-broker'
import { spawnKafkaPipeline } from '../support/kafka-processes'
import { CONSISTENCY_SQL, expectConsistentLake, killAtRandom, runToEnd } from '../support/crash-runs'

// A real Kafka pipeline process is SIGKILLed several times while it ingests 100k+ messages from
// a real broker, restarted each time (more messages arrive between crashes), and finally run
// until idle. Whatever the kill points, bronze must hold every message exactly once, silver
// every valid order once, windows must agree with silver, and the lake's offsets must be the
// high-water marks.

const ORDERS_TOPIC = 'x_orders'
const CUSTOMERS_TOPIC = 'x_customers'
const CUSTOMERS = 1000
const BAD = ['{"order_id": "broken', '[1,2,3]', '{"order_id":"x","customer_id":"y"}', 'not json at all']

const children: Child[] = []
afterEach(() => killLeftovers(children))
afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

interface Expected {
  validOrderIds: Set<string>
  bad: number
  duplicates: number
  next: number
}

/** `count` order messages (about 1 in 400 bad, 1 in 300 a repeated order id, a few tombstones). */
function orderMessages(e: Expected, count: number, r: () => number, baseMs: number): TestMessage[] {
  const out: TestMessage[] = []
  for (let i = 0; i < count; i++) {
    const x = r()
    if (x < 0.0025) {
      out.push({ key: `bad-${i}`, value: BAD[Math.floor(r() * BAD.length)] })
      e.bad++
    } else if (x < 0.003) {
      out.push({ key: `cust-${i % CUSTOMERS}`, value: null })
      e.bad++
    } else if (x < 0.006 && e.next > 10) {
      const line = orderLine(e.next - 1 - Math.floor(r() * Math.min(e.next - 1, 5000)), r, baseMs, CUSTOMERS)
      out.push({ key: JSON.parse(line).customer_id, value: line })
      e.duplicates++
    } else {
      const line = orderLine(e.next, r, baseMs, CUSTOMERS)
      out.push({ key: JSON.parse(line).customer_id, value: line })
      e.validOrderIds.add(`ord-${e.next}`)
      e.next++
    }
  }
  return out
}

describe('Kafka exactly-once under SIGKILL', () => {
  it('holds every message once after repeated crashes and restarts', { timeout: 300_000 }, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000)
    const r = rng(seed)
    const broker = await startBroker({ [ORDERS_TOPIC]: 4, [CUSTOMERS_TOPIC]: 2 })
    const servers = broker.bootstrap
    const lake = makeTempDir()
    const baseMs = Date.parse('2024-03-01T00:00:00Z')
    const log: string[] = [`seed ${seed}`]

    const customers: TestMessage[] = []
    for (let i = 0; i < CUSTOMERS; i++) {
      customers.push({
        key: `cust-${i}`,
        value: JSON.stringify({
          customer_id: `cust-${i}`,
          name: `Customer ${i}`,
          email: `c${i}@example.com`,
          signup_ts: new Date(baseMs - Math.floor(r() * 48) * 3_600_000).toISOString(),
          country: ['DE', 'FR', 'US', 'GB', 'NL'][i % 5],
          segment: ['new', 'regular', 'vip'][i % 3]
        })
      })
    }
    const e: Expected = { validOrderIds: new Set(), bad: 0, duplicates: 0, next: 0 }
    const t0 = Date.now()
    await produce(servers, CUSTOMERS_TOPIC, customers)
    await produce(servers, ORDERS_TOPIC, orderMessages(e, 100_000, r, baseMs), 5000)
    log.push(`produced ${CUSTOMERS} customers and 100,000 order messages in ${Date.now() - t0} ms`)

    const batchArgs = ['--max-batch-bytes', String(2 * 1024 * 1024), '--orders-topic', ORDERS_TOPIC, '--customers-topic', CUSTOMERS_TOPIC]
    const spawn = (extra: string[] = []) => {
      const c = spawnKafkaPipeline(servers, lake, [...batchArgs, ...extra])
      children.push(c)
      return c
    }

    // kill points: right after spawn, 300–1500 ms after it started, 0–1200 ms after a batch committed
    const schedule = ['spawn', 'started', 'committed', 'started', 'committed', 'committed'] as const
    for (let k = 0; k < schedule.length; k++) {
      log.push(`run ${k}: ${await killAtRandom(() => spawn(), schedule[k], r)}`)
      // messages keep arriving between crashes
      await produce(servers, ORDERS_TOPIC, orderMessages(e, 1500, r, baseMs))
    }

    const final = await runToEnd(() => spawn(['--until-idle']))
    log.push(final.line)
    console.info(log.join('\n'))
    expect(final.code, final.stderr).toBe(0)

    const hwOrders = await highWatermarks(servers, ORDERS_TOPIC)
    const hwCustomers = await highWatermarks(servers, CUSTOMERS_TOPIC)
    const totalOrders = [...hwOrders.values()].reduce((a, b) => a + b, 0)
    expect(totalOrders).toBe(100_000 + 1500 * schedule.length)

    const res = await queries(lake, {
      ...CONSISTENCY_SQL,
      bronze: `SELECT source || '/' || kafka_partition AS key, count(*) AS n, count(DISTINCT kafka_offset) AS d, min(kafka_offset) AS lo, max(kafka_offset) AS hi
        FROM (SELECT source, kafka_partition, kafka_offset FROM bronze_orders UNION ALL SELECT source, kafka_partition, kafka_offset FROM bronze_customers)
        GROUP BY 1 ORDER BY 1`,
      quarantine: `SELECT kind, count(*) AS n, count(DISTINCT (source, kafka_partition, kafka_offset)) AS d FROM quarantine GROUP BY kind ORDER BY kind`,
      offsets: `SELECT key, next_offset FROM source_offsets WHERE source_kind = 'kafka' ORDER BY key`,
      customers: `SELECT count(*) AS n FROM customers`
    })

    // bronze: every offset of every partition exactly once
    const hw = new Map([...hwCustomers, ...hwOrders])
    expect(res.bronze).toEqual([...hw].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => ({ key, n, d: n, lo: 0, hi: n - 1 })))

    expectConsistentLake(res, e.validOrderIds)

    // quarantine: each bad message once
    expect(res.quarantine).toEqual([{ kind: 'order', n: e.bad, d: e.bad }])
    expect(res.customers[0].n).toBe(CUSTOMERS)

    // offsets: the high-water marks; batch totals add up
    expect(res.offsets).toEqual([...hw].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => ({ key, next_offset: n })))
    const b = res.batches[0]
    expect(b.rows_read).toBe(totalOrders + CUSTOMERS)
    expect(b.duplicates).toBe(e.duplicates)
    expect(b.quarantined).toBe(e.bad)

    // the consumer group trails the lake (committed after it), never ahead of it
    const group = await groupOffsets(servers, 'streamdesk', ORDERS_TOPIC)
    for (const [k, off] of group) expect(off, k).toBeLessThanOrEqual(hwOrders.get(k)!)
  })
})
