import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { parseGenerateOptions, runGenerate } from '../../src/main/cli/commands/generate'
import { runKafkaPipeline, type PipelineFlags } from '../../src/main/cli/commands/pipeline'
import { PipelineController } from '../../src/main/engine/pipeline-controller'
import { createEngineHost } from '../../src/main/api/engine-host'
import { join } from 'node:path'
import { KafkaSource } from '../../src/main/sources/kafka-source'
import { parseSettings } from '../../src/shared/settings'
import type { PipelineStatus } from '../../src/shared/dto'
import { MAX_LINE_BYTES } from '../../src/shared/events'
import { cleanupTempDirs, customer, makeTempDir, order, queries, type Row } from '../support/lake-fixtures'
import { freePort, groupOffsets, highWatermarks, kafkaClient, produce, startBroker, stopAllBrokers, type TestMessage } from '../support/kafka-broker'
import { spawnCli } from '../support/kafka-processes'
import { until } from '../support/wait'

// Generator → Kafka → pipeline → lake against a real Kafka wire-protocol broker (librdkafka's
// mock cluster, tests/support/kafka-mock-broker.c): exact counts, provenance of every message,
// partitions, bad messages of every kind, restarts from the lake's offsets and
// --starting-offsets.

afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

function kafkaFlags(servers: string, lake: string, over: Partial<PipelineFlags> = {}): PipelineFlags {
  return { mode: 'kafka', inputPath: '', lake, trigger: 50, untilIdle: true, quiet: true, kafkaServers: servers, ...over }
}

async function generate(servers: string, count: number, seed: number) {
  const config = parseGenerateOptions({ mode: 'kafka', kafkaServers: servers, rate: 'max', count: String(count), seed: String(seed), quiet: true })
  return runGenerate(config, { log: () => undefined, signal: new AbortController().signal })
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)

describe('generator → Kafka → pipeline → lake', () => {
  it('ingests every message exactly once with its provenance, from a 3-partition topic', { timeout: 120_000 }, async () => {
    const broker = await startBroker({ ecommerce_orders: 3, ecommerce_customers: 2 })
    const lake = makeTempDir()
    const gen = await generate(broker.bootstrap, 3000, 11)
    expect(gen.orders).toBe(3000)

    const hwOrders = await highWatermarks(broker.bootstrap, 'ecommerce_orders')
    const hwCustomers = await highWatermarks(broker.bootstrap, 'ecommerce_customers')
    expect(sum(hwOrders)).toBe(3000)
    expect(sum(hwCustomers)).toBe(gen.customers)
    expect([...hwOrders.values()].every((n) => n > 0), 'every orders partition holds messages').toBe(true)

    await runKafkaPipeline(kafkaFlags(broker.bootstrap, lake))

    const r = await queries(lake, {
      bronze: `SELECT source, kafka_partition AS p, count(*) AS n, count(DISTINCT kafka_offset) AS d, min(kafka_offset) AS lo, max(kafka_offset) AS hi,
          count(*) FILTER (WHERE kafka_key IS NULL OR kafka_timestamp IS NULL OR byte_offset IS NOT NULL) AS missing
        FROM (SELECT * FROM bronze_orders UNION ALL SELECT * FROM bronze_customers) GROUP BY ALL ORDER BY ALL`,
      keyMismatch: `SELECT count(*) AS n FROM bronze_orders WHERE kafka_key IS DISTINCT FROM (raw::JSON->>'customer_id')`,
      keySpread: `SELECT count(*) AS n FROM (SELECT kafka_key FROM bronze_orders GROUP BY 1 HAVING count(DISTINCT kafka_partition) > 1)`,
      silver: `SELECT count(*) AS n, count(DISTINCT order_id) AS d, count(*) FILTER (WHERE source_position NOT LIKE 'partition % offset %') AS badpos,
          count(DISTINCT source) AS sources FROM silver_orders`,
      quarantine: `SELECT count(*) AS n FROM quarantine`,
      customers: `SELECT count(*) AS n FROM customers`,
      distinctCustomers: `SELECT count(DISTINCT (raw::JSON->>'customer_id')) AS n FROM bronze_customers`,
      alerts: `SELECT count(*) AS n, (SELECT count(*) FROM silver_orders WHERE fraud_score >= 3) AS expected FROM fraud_alerts`,
      offsets: `SELECT source_kind, key, next_offset FROM source_offsets ORDER BY key`,
      ts: `SELECT count(*) AS n FROM bronze_orders WHERE kafka_timestamp < now() - INTERVAL 1 HOUR OR kafka_timestamp > now()`
    })

    // bronze: each partition's offsets 0..hwm-1 exactly once, with key and timestamp
    const expected: Row[] = []
    for (const [topic, hw] of [
      ['ecommerce_customers', hwCustomers],
      ['ecommerce_orders', hwOrders]
    ] as const) {
      for (const [k, n] of [...hw].sort()) {
        expected.push({ source: topic, p: Number(k.split('/')[1]), n, d: n, lo: 0, hi: n - 1, missing: 0 })
      }
    }
    expect(r.bronze).toEqual(expected)
    expect(r.keyMismatch[0].n, 'the key is the customer_id').toBe(0)
    expect(r.keySpread[0].n, "one customer's orders are all in one partition").toBe(0)
    expect(r.ts[0].n, 'message timestamps are the produce times').toBe(0)

    // silver: every generated order once; customers; alerts
    expect(r.silver[0]).toEqual({ n: 3000, d: 3000, badpos: 0, sources: 1 })
    expect(r.quarantine[0].n).toBe(0)
    expect(r.customers[0].n).toBe(r.distinctCustomers[0].n)
    expect(r.alerts[0].n).toBe(r.alerts[0].expected)

    // offsets: the high-water mark of every partition, in the lake
    expect(r.offsets).toEqual(
      [...hwCustomers, ...hwOrders].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => ({ source_kind: 'kafka', key, next_offset: n }))
    )
    // ...and, for Kafka's lag tools, in the consumer group (never read back)
    const group = await groupOffsets(broker.bootstrap, 'streamdesk', 'ecommerce_orders')
    expect(group).toEqual(hwOrders)

    // a restart reads only what is new, from the lake's offsets
    const more = await generate(broker.bootstrap, 700, 12)
    const { batches } = await runKafkaPipeline(kafkaFlags(broker.bootstrap, lake))
    expect(batches).toBeGreaterThanOrEqual(1)
    const after = await queries(lake, {
      n: `SELECT (SELECT count(*) FROM bronze_orders) AS orders, (SELECT count(*) FROM bronze_customers) AS customers,
        (SELECT count(*) FROM silver_orders) AS silver,
        (SELECT count(*) FROM (SELECT kafka_partition, kafka_offset FROM bronze_orders GROUP BY ALL HAVING count(*) > 1)) AS twice`
    })
    expect(after.n[0]).toEqual({ orders: 3700, customers: gen.customers + more.customers, silver: 3700, twice: 0 })

    // nothing new: another run commits no batch
    expect((await runKafkaPipeline(kafkaFlags(broker.bootstrap, lake))).batches).toBe(0)
    await broker.stop()
  })
})

describe('bad messages', () => {
  const j = (o: unknown) => JSON.stringify(o)
  const withoutField = (f: string) => {
    const o = order()
    delete o[f]
    return o
  }
  /** A valid order whose JSON is exactly `bytes` long. */
  const orderOfLength = (id: string, bytes: number) => {
    const base = j(order({ order_id: id, payment_method: '' }))
    return j(order({ order_id: id, payment_method: 'x'.repeat(bytes - base.length) }))
  }

  interface Entry {
    label: string
    value: string | Buffer | null
    expect: 'valid' | RegExp
    id?: string
  }
  const valid = (id: string, over: Record<string, unknown> = {}): Entry => ({ label: id, value: j(order({ order_id: id, ...over })), expect: 'valid', id })

  const ORDERS: Entry[] = [
    valid('k-ok-1'),
    { label: 'tombstone', value: null, expect: /tombstone/ },
    { label: 'empty value', value: '', expect: /empty message value/ },
    { label: 'invalid UTF-8', value: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0x7d]), expect: /not valid UTF-8/ },
    { label: 'latin-1 text', value: Buffer.from(j(order({ payment_method: 'carte bancaire crédit' })), 'latin1'), expect: /not valid UTF-8/ },
    { label: 'malformed JSON', value: '{"order_id": "m1", "customer_id": ', expect: /malformed JSON/i },
    { label: 'not JSON', value: 'hello world', expect: /malformed JSON/i },
    { label: 'whitespace only', value: '   ', expect: /malformed JSON|empty/i },
    { label: 'JSON array', value: '[1, 2, 3]', expect: /not a JSON object/i },
    { label: 'JSON null', value: 'null', expect: /not a JSON object/i },
    { label: 'JSON number', value: '42', expect: /not a JSON object/i },
    ...['order_id', 'customer_id', 'order_ts', 'items', 'channel'].map((f) => ({ label: `missing ${f}`, value: j(withoutField(f)), expect: new RegExp(`missing field ${f}`) })),
    { label: 'wrong type', value: j(order({ order_id: 12345 })), expect: /wrong type for order_id/ },
    { label: 'unknown status', value: j(order({ status: 'lost' })), expect: /unknown status: lost/ },
    { label: 'bad currency', value: j(order({ currency: 'EURO' })), expect: /currency/ },
    { label: 'bad order_ts', value: j(order({ order_ts: '2024-02-30T12:00:00Z' })), expect: /order_ts/ },
    { label: 'total differs', value: j(order({ items: [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: 25 }], total_amount: 25.02 })), expect: /total differs/ },
    { label: 'exactly 1 MiB', value: orderOfLength('k-1mib', MAX_LINE_BYTES), expect: 'valid', id: 'k-1mib' },
    { label: '1 MiB + 1 byte', value: orderOfLength('k-over', MAX_LINE_BYTES + 1), expect: /over 1 MiB \(1048577 bytes\)/ },
    { label: 'multi-line JSON', value: JSON.stringify(order({ order_id: 'k-pretty' }), null, 2), expect: 'valid', id: 'k-pretty' },
    valid('k-unicode', { payment_method: 'carte bancaire — «crédit» 💳' }),
    valid('k-ok-last')
  ]
  const CUSTOMERS: Entry[] = [
    { label: 'valid c-k1', value: j(customer({ customer_id: 'c-k1' })), expect: 'valid', id: 'c-k1' },
    { label: 'customer tombstone', value: null, expect: /tombstone/ },
    { label: 'segment gold', value: j(customer({ customer_id: 'c-gold', segment: 'gold' })), expect: /unknown segment: gold/ },
    { label: 'customer malformed', value: '{"customer_id": "c-x"', expect: /malformed JSON/ },
    { label: 'customer bad bytes', value: Buffer.from([0xc3, 0x28]), expect: /not valid UTF-8/ }
  ]

  it('quarantines each with its reason, topic, partition and offset; the engine keeps going', { timeout: 120_000 }, async () => {
    const broker = await startBroker({ k_orders: 2, k_customers: 1 })
    const lake = makeTempDir()
    // alternate partitions; offsets follow the produce order within each partition
    const placed = (entries: Entry[], parts: number) => {
      const next = new Array(parts).fill(0)
      return entries.map((e, i) => {
        const partition = i % parts
        return { ...e, partition, offset: next[partition]++ }
      })
    }
    const orders = placed(ORDERS, 2)
    const customers = placed(CUSTOMERS, 1)
    const msg = (e: Entry & { partition: number }, i: number): TestMessage => ({ key: `key-${i}`, value: e.value, partition: e.partition })
    await produce(broker.bootstrap, 'k_customers', customers.map(msg))
    await produce(broker.bootstrap, 'k_orders', orders.map(msg))

    await runKafkaPipeline(kafkaFlags(broker.bootstrap, lake, { kafkaTopic: 'k_orders', customersTopic: 'k_customers' }))

    const r = await queries(lake, {
      quarantine: `SELECT kind, source, kafka_partition AS p, kafka_offset AS o, kafka_key AS k, kafka_timestamp IS NOT NULL AS has_ts, byte_offset, reason, raw FROM quarantine ORDER BY kind, p, o`,
      bronze: `SELECT 'order' AS kind, kafka_partition AS p, kafka_offset AS o, kafka_key AS k, raw IS NULL AS is_null FROM bronze_orders
        UNION ALL SELECT 'customer', kafka_partition, kafka_offset, kafka_key, raw IS NULL FROM bronze_customers ORDER BY ALL`,
      silver: `SELECT order_id, source, source_position FROM silver_orders ORDER BY order_id`,
      customers: `SELECT customer_id FROM customers ORDER BY 1`,
      batches: `SELECT count(*) AS n, sum(quarantined)::BIGINT AS q, sum(rows_read)::BIGINT AS rows_read FROM batches`
    })

    // bronze holds every message, tombstones as NULL raw
    const all = [
      ...customers.map((e, i) => ({ kind: 'customer', p: e.partition, o: e.offset, k: `key-${i}`, is_null: e.value === null })),
      ...orders.map((e, i) => ({ kind: 'order', p: e.partition, o: e.offset, k: `key-${i}`, is_null: e.value === null }))
    ].sort((a, b) => a.kind.localeCompare(b.kind) || a.p - b.p || a.o - b.o)
    expect(r.bronze).toEqual(all)

    // quarantine: exactly the bad ones, each with its reason and position
    const bad = [
      ...customers.filter((e) => e.expect !== 'valid').map((e) => ({ ...e, kind: 'customer', source: 'k_customers' })),
      ...orders.filter((e) => e.expect !== 'valid').map((e) => ({ ...e, kind: 'order', source: 'k_orders' }))
    ].sort((a, b) => a.kind.localeCompare(b.kind) || a.partition - b.partition || a.offset - b.offset)
    expect(r.quarantine.map((q) => `${q.kind} ${q.p}/${q.o}`)).toEqual(bad.map((b) => `${b.kind} ${b.partition}/${b.offset}`))
    r.quarantine.forEach((q, i) => {
      const e = bad[i]
      expect(q.source, e.label).toBe(e.source)
      expect(q.byte_offset, e.label).toBeNull()
      // key and message time are kept in quarantine as in bronze
      const inBronze = (r.bronze as Record<string, unknown>[]).find((b) => b.kind === q.kind && b.p === q.p && b.o === q.o)
      expect(q.k, e.label).toBe(inBronze?.k)
      expect(q.has_ts, e.label).toBe(true)
      expect(q.reason, e.label).toMatch(e.expect as RegExp)
      if (e.value === null) expect(q.raw, e.label).toBeNull()
      else if (typeof e.value === 'string' && e.value.length < 10_000) expect(q.raw, e.label).toBe(e.value)
    })
    expect(r.batches[0]).toEqual({ n: 1, q: bad.length, rows_read: orders.length + customers.length })

    // the valid ones went on to silver with their Kafka position
    const validOrders = orders.filter((e) => e.expect === 'valid')
    expect(r.silver).toEqual(
      validOrders
        .map((e) => ({ order_id: e.id, source: 'k_orders', source_position: `partition ${e.partition} offset ${e.offset}` }))
        .sort((a, b) => a.order_id!.localeCompare(b.order_id!))
    )
    expect(r.customers.map((c) => c.customer_id)).toEqual(['c-k1'])
    await broker.stop()
  })
})

describe('--starting-offsets', () => {
  it('applies only to partitions the lake has never seen', { timeout: 120_000 }, async () => {
    const broker = await startBroker({ s_orders: 2, s_customers: 1 })
    const lake = makeTempDir()
    const flags = kafkaFlags(broker.bootstrap, lake, { kafkaTopic: 's_orders', customersTopic: 's_customers', startingOffsets: 'latest' })
    const batch = (from: number, n: number): TestMessage[] =>
      Array.from({ length: n }, (_, i) => ({ key: `c-${(from + i) % 7}`, value: JSON.stringify(order({ order_id: `s-${from + i}` })) }))
    await produce(broker.bootstrap, 's_orders', batch(0, 100))

    // latest: nothing old is read, but where reading starts is recorded in the lake
    await runKafkaPipeline(flags)
    const hw = await highWatermarks(broker.bootstrap, 's_orders')
    const first = await queries(lake, {
      bronze: `SELECT count(*) AS n FROM bronze_orders`,
      offsets: `SELECT key, next_offset FROM source_offsets WHERE key LIKE 's_orders/%' ORDER BY key`
    })
    expect(first.bronze[0].n).toBe(0)
    expect(first.offsets).toEqual([...hw].sort().map(([key, n]) => ({ key, next_offset: n })))

    // the lake has seen these partitions now: the next run reads what arrived since, still with 'latest'
    await produce(broker.bootstrap, 's_orders', batch(100, 50))
    await runKafkaPipeline(flags)
    const second = await queries(lake, {
      ids: `SELECT min(order_id) AS lo, count(*) AS n FROM silver_orders`
    })
    expect(second.ids[0]).toEqual({ lo: 's-100', n: 50 })

    // earliest on a fresh lake reads everything
    const lake2 = makeTempDir()
    await runKafkaPipeline({ ...flags, lake: lake2, startingOffsets: 'earliest' })
    const all = await queries(lake2, { n: `SELECT count(*) AS n FROM silver_orders` })
    expect(all.n[0].n).toBe(150)
    await broker.stop()
  })
})

describe('run --mode kafka', () => {
  it('runs generator and pipeline through Kafka, then drains and exits', { timeout: 120_000 }, async () => {
    const broker = await startBroker() // no topics: the generator's first produce creates them
    const lake = makeTempDir()
    const child = spawnCli(['run', '--mode', 'kafka', '--kafka-servers', broker.bootstrap, '--lake', lake, '--generator-rate', '1000', '--generator-duration', '2', '--seed', '5', '--trigger', '200ms'])
    const exit = await child.exited
    expect(exit.code, child.stderr()).toBe(0)
    const produced = Number(/generate: done .*?: ([\d,]+) orders?/.exec(child.stderr())![1].replace(/,/g, ''))
    // How many orders 2 s of generating yields depends on how busy the machine is; what this test
    // is about is that the lake ends up with exactly those, whatever their number.
    expect(produced).toBeGreaterThan(0)
    const hw = await highWatermarks(broker.bootstrap, 'ecommerce_orders')
    const r = await queries(lake, {
      n: `SELECT (SELECT count(*) FROM silver_orders) AS silver, (SELECT count(*) FROM bronze_orders) AS bronze,
        (SELECT sum(next_offset)::BIGINT FROM source_offsets WHERE key LIKE 'ecommerce_orders/%') AS offsets`
    })
    expect(r.n[0]).toEqual({ silver: produced, bronze: produced, offsets: sum(hw) })
    await broker.stop()
  })
})

describe("the app's pipeline controller with the Kafka source", () => {
  it('reads the brokers and topics of the settings, shows lag per partition and waits visibly for a missing broker', { timeout: 120_000 }, async () => {
    const broker = await startBroker({ a_orders: 2, a_customers: 1 })
    const base = makeTempDir()
    let settings = parseSettings({
      source: { kind: 'kafka', kafka: { servers: [broker.bootstrap], ordersTopic: 'a_orders', customersTopic: 'a_customers' } },
      pipeline: { triggerMs: 100 },
      lakePath: 'lake'
    })
    const states: PipelineStatus[] = []
    const controller = new PipelineController(base, () => settings, { onState: (st) => states.push(st), onBatch: () => undefined })
    try {
      await produce(broker.bootstrap, 'a_orders', Array.from({ length: 300 }, (_, i) => ({ key: `c-${i % 9}`, value: JSON.stringify(order({ order_id: `a-${i}` })) })))
      const st = await controller.start()
      expect(st.state).toBe('running')
      expect(st.source).toEqual({ kind: 'kafka', label: expect.stringContaining(broker.bootstrap) })
      await until('all 300 orders ingested', async () => (await controller.getStatus()).totals.orders >= 300, {
        detail: () => controller.getStatus()
      })
      const hw = await highWatermarks(broker.bootstrap, 'a_orders')
      const lag = controller.kafkaLag()!
      expect(lag.filter((l) => l.topic === 'a_orders')).toEqual(
        [...hw].sort().map(([k, n]) => ({ topic: 'a_orders', partition: Number(k.split('/')[1]), highWatermark: String(n), lakeOffset: String(n), lag: '0' }))
      )
      expect((await controller.stop()).state).toBe('stopped')
      expect(controller.kafkaLag()).toBeNull()

      // a broker nobody answers at: running, with the wait in the status message
      const port = await freePort()
      settings = parseSettings({ source: { kind: 'kafka', kafka: { servers: [`127.0.0.1:${port}`] } } }, settings)
      await controller.start()
      let status = await controller.getStatus()
      await until('a status message about the missing broker', async () => Boolean((status = await controller.getStatus()).message), {
        detail: () => status
      })
      expect(status.state).toBe('running')
      expect(status.message).toMatch(new RegExp(`^waiting for Kafka at 127\\.0\\.0\\.1:${port}`))
      expect((await controller.stop()).state).toBe('stopped')
    } finally {
      await controller.dispose()
      await broker.stop()
    }
  })
})

describe('query.kafkaLag', () => {
  it('answers lag per partition while reading Kafka, and the lake offsets when stopped', { timeout: 120_000 }, async () => {
    const broker = await startBroker({ h_orders: 3, h_customers: 1 })
    const base = makeTempDir()
    const host = await createEngineHost({ settingsFile: join(base, 'settings.json'), baseDir: base })
    try {
      await host.handlers['settings.update']({
        patch: { source: { kind: 'kafka', kafka: { servers: [broker.bootstrap], ordersTopic: 'h_orders', customersTopic: 'h_customers' } } }
      })
      expect(await host.handlers['query.kafkaLag']({})).toEqual([])
      await produce(broker.bootstrap, 'h_orders', Array.from({ length: 90 }, (_, i) => ({ key: `c-${i % 11}`, value: JSON.stringify(order({ order_id: `h-${i}` })) })))
      expect((await host.handlers['pipeline.start']({})).state).toBe('running')
      await until('all 90 orders ingested', async () => (await host.handlers['pipeline.status']({})).totals.orders >= 90, {
        detail: () => host.handlers['pipeline.status']({})
      })
      const hw = await highWatermarks(broker.bootstrap, 'h_orders')
      const live = await host.handlers['query.kafkaLag']({})
      expect(live.filter((l) => l.topic === 'h_orders')).toEqual(
        [...hw].sort().map(([k, n]) => ({ topic: 'h_orders', partition: Number(k.split('/')[1]), highWatermark: n, lakeOffset: n, lag: 0 }))
      )
      // the checkpoint inspector: the same offsets, with the broker's end while reading
      const offsets = async () =>
        (await host.handlers['query.sourceOffsets']({})).filter((o) => o.key.startsWith('h_orders/')).map((o) => [o.key, o.unit, o.committedOffset, o.end, o.lag])
      expect(await offsets()).toEqual([...hw].sort().map(([k, n]) => [k, 'messages', n, n, 0]))
      await host.handlers['pipeline.stop']({})
      const stopped = await host.handlers['query.kafkaLag']({})
      expect(stopped).toEqual(
        [...hw].sort().map(([k, n]) => ({ topic: 'h_orders', partition: Number(k.split('/')[1]), highWatermark: null, lakeOffset: n, lag: null }))
      )
      expect(await offsets()).toEqual([...hw].sort().map(([k, n]) => [k, 'messages', n, null, null]))
    } finally {
      await host.dispose()
      await broker.stop()
    }
  })
})

describe('messages deleted by the broker before they were read', () => {
  it('continues at the log start with a warning that says how many were lost', { timeout: 120_000 }, async () => {
    // the mock broker keeps only the newest ~5 MiB of a partition: incompressible values push
    // the log start past the lake's offset while the pipeline is stopped
    const broker = await startBroker({ r_orders: 1, r_customers: 1 })
    const lake = makeTempDir()
    const flags = kafkaFlags(broker.bootstrap, lake, { kafkaTopic: 'r_orders', customersTopic: 'r_customers' })
    const batch = (from: number, n: number, pad: number): TestMessage[] =>
      Array.from({ length: n }, (_, i) => ({ key: 'c', value: JSON.stringify(order({ order_id: `r-${from + i}`, payment_method: randomBytes(pad).toString('base64') })) }))
    await produce(broker.bootstrap, 'r_orders', batch(0, 10, 10))
    await runKafkaPipeline(flags)
    await produce(broker.bootstrap, 'r_orders', batch(10, 9000, 900), 500)

    const admin = kafkaClient(broker.bootstrap).admin()
    await admin.connect()
    const [{ low, high }] = await admin.fetchTopicOffsets('r_orders')
    await admin.disconnect()
    expect(Number(low), 'the broker deleted the oldest messages').toBeGreaterThan(10)

    const lines: string[] = []
    const source = new KafkaSource({
      connection: { servers: [broker.bootstrap] },
      ordersTopic: 'r_orders',
      customersTopic: 'r_customers',
      // The broker is up: this only guards against a hang, and must not race a busy machine.
      connectTimeoutMs: 90_000,
      log: (l) => lines.push(l)
    })
    await runKafkaPipeline(flags, { source })
    expect(lines.join('\n')).toContain(`r_orders/0: ${Number(low) - 10} message(s) at offsets 10..${Number(low) - 1} were deleted by the broker (retention) before they were read; continuing at ${low}`)
    const r = await queries(lake, {
      n: `SELECT count(*) AS n, min(kafka_offset) FILTER (WHERE kafka_offset >= 10) AS first FROM bronze_orders`,
      offsets: `SELECT next_offset FROM source_offsets WHERE key = 'r_orders/0'`
    })
    expect(r.n[0]).toEqual({ n: 10 + Number(high) - Number(low), first: Number(low) })
    expect(r.offsets[0].next_offset).toBe(Number(high))
    await broker.stop()
  })
})
