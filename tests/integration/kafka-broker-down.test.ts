import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { KafkaSource } from '../../src/main/sources/kafka-source'
import { cleanupTempDirs, customer, makeTempDir, order, queries } from '../support/lake-fixtures'
import { killLeftovers, type Child } from '../support/bulk-input'
import { freePort, highWatermarks, produce, startBroker, stopAllBrokers, type TestMessage } from '../support/kafka-broker'
import { rowsRead, spawnCli } from '../support/kafka-processes'

// A broker that cannot be reached: the pipeline says "waiting for Kafka at HOST:PORT" and retries
// with backoff, losing and repeating nothing, whether the broker is not up yet at start or goes
// away while the pipeline runs; with --until-idle it gives up after --connect-timeout with a clear
// message and a non-zero exit.

const children: Child[] = []
afterEach(() => killLeftovers(children))
afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

function cli(args: string[]): Child {
  const c = spawnCli(args)
  children.push(c)
  return c
}

/** Polls `check`; the timeout only turns a hang into a failure. */
async function until(what: string, check: () => boolean, timeoutMs = 90_000, child?: Child): Promise<void> {
  const t0 = Date.now()
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}${child ? `; stderr:\n${child.stderr()}` : ''}`)
    await sleep(100)
  }
}

const orders = (from: number, n: number): TestMessage[] =>
  Array.from({ length: n }, (_, i) => ({ key: `c-${(from + i) % 50}`, value: JSON.stringify(order({ order_id: `d-${from + i}`, customer_id: `c-${(from + i) % 50}` })) }))

describe('Kafka unreachable', () => {
  it('reports "waiting for Kafka at HOST:PORT" while it retries', { timeout: 60_000 }, async () => {
    const port = await freePort()
    const lines: string[] = []
    const source = new KafkaSource({
      connection: { servers: [`127.0.0.1:${port}`] },
      ordersTopic: 'o',
      customersTopic: 'c',
      log: (l) => lines.push(l)
    })
    await source.open(new Map())
    expect(await source.poll(1024 * 1024)).toBeNull()
    expect(source.status()).toMatch(new RegExp(`^waiting for Kafka at 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED`))
    expect(lines.join('\n')).toContain(`waiting for Kafka at 127.0.0.1:${port}`)
    await source.close()
  })

  it('--until-idle gives up after --connect-timeout with a clear message and exit code 5', { timeout: 120_000 }, async () => {
    const port = await freePort()
    const lake = makeTempDir()
    const t0 = Date.now()
    const child = cli(['pipeline', '--mode', 'kafka', '--kafka-servers', `127.0.0.1:${port}`, '--lake', lake, '--until-idle', '--connect-timeout', '2s'])
    const exit = await child.exited
    const elapsed = Date.now() - t0
    expect(exit.code, child.stderr()).toBe(5)
    expect(child.stderr()).toContain(`waiting for Kafka at 127.0.0.1:${port}`)
    expect(child.stderr()).toMatch(new RegExp(`streamdesk: could not reach Kafka at 127\\.0\\.0\\.1:${port} within 2 s \\(connect ECONNREFUSED`))
    // It did not give up early. (No upper bound: how long the process takes to start and stop
    // depends on the machine; the message above names the 2 s it applied.)
    expect(elapsed).toBeGreaterThanOrEqual(2000)
  })

  it('waits for a broker that comes up later, and rides out an outage, losing and repeating nothing', { timeout: 240_000 }, async () => {
    const port = await freePort()
    const lake = makeTempDir()
    const servers = `127.0.0.1:${port}`
    const child = cli(['pipeline', '--mode', 'kafka', '--kafka-servers', servers, '--lake', lake, '--trigger', '100ms', '--kafka-topic', 'w_orders', '--customers-topic', 'w_customers'])
    await child.waitFor(`waiting for Kafka at ${servers}`)
    // Lets the backoff grow past its first step before the broker appears. It shapes the scenario
    // only: nothing below depends on how many retries fit in, so the machine's speed cannot
    // decide the outcome.
    await sleep(1500)

    // the broker comes up on the address the pipeline was given
    const broker = await startBroker({ w_orders: 3, w_customers: 1 }, { port })
    expect(broker.bootstrap).toBe(servers)
    await produce(servers, 'w_customers', Array.from({ length: 50 }, (_, i) => ({ key: `c-${i}`, value: JSON.stringify(customer({ customer_id: `c-${i}` })) })))
    await produce(servers, 'w_orders', orders(0, 2000))
    await child.waitFor(`connected to ${servers}`)
    await until('2,050 rows read', () => rowsRead(child.stderr()) >= 2050, 90_000, child)

    // the broker goes away while the pipeline runs, then comes back
    const before = child.stderr().length
    await broker.command('down')
    await until('the pipeline to notice', () => child.stderr().slice(before).includes(`waiting for Kafka at ${servers}`), 90_000, child)
    // Keeps the broker away across a retry or so; like the pause above, it decides nothing.
    await sleep(1000)
    await broker.command('up')
    await produce(servers, 'w_orders', orders(2000, 500))
    await until('2,550 rows read', () => rowsRead(child.stderr()) >= 2550, 90_000, child)
    // Nothing may be read twice after the reconnect. One more message, read by a later batch,
    // proves the pipeline polled again after the 2,550 (a repeat would have shown up by then),
    // instead of a pause that a slow machine might not fill.
    await produce(servers, 'w_orders', orders(2500, 1))
    await until('2,551 rows read', () => rowsRead(child.stderr()) >= 2551, 90_000, child)

    child.proc.kill('SIGTERM')
    const exit = await child.exited
    expect(exit.code, child.stderr()).toBe(0)
    expect(rowsRead(child.stderr())).toBe(2551)

    const hw = await highWatermarks(servers, 'w_orders')
    const r = await queries(lake, {
      bronze: `SELECT count(*) AS n, count(DISTINCT (kafka_partition, kafka_offset)) AS d FROM bronze_orders`,
      silver: `SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM silver_orders`,
      offsets: `SELECT key, next_offset FROM source_offsets WHERE key LIKE 'w_orders/%' ORDER BY key`
    })
    expect(r.bronze[0]).toEqual({ n: 2501, d: 2501 })
    expect(r.silver[0]).toEqual({ n: 2501, d: 2501 })
    expect(r.offsets).toEqual([...hw].sort().map(([key, n]) => ({ key, next_offset: n })))
    await broker.stop()
  })

  it('--until-idle waits for a partition without a leader, and says so when it does not get one', { timeout: 240_000 }, async () => {
    const broker = await startBroker({ l_orders: 2, l_customers: 1 })
    const servers = broker.bootstrap
    await produce(servers, 'l_orders', orders(0, 200).map((m, i) => ({ ...m, partition: i % 2 })))
    const args = (lake: string) => ['pipeline', '--mode', 'kafka', '--kafka-servers', servers, '--lake', lake, '--until-idle', '--kafka-topic', 'l_orders', '--customers-topic', 'l_customers', '--connect-timeout', '2s']

    // no leader for partition 1 (as during an election): it does not count as "nothing new"
    await broker.command('leader l_orders 1 -1')
    const gaveUp = cli(args(makeTempDir()))
    const exit = await gaveUp.exited
    expect(exit.code, gaveUp.stderr()).toBe(5)
    expect(gaveUp.stderr()).toMatch(/streamdesk: Kafka at 127\.0\.0\.1:\d+: partitions without a leader after 2 s \(l_orders(\/1)?\); is a broker down/)

    // the leader comes back while the pipeline waits: everything is read, then it exits 0. The
    // leader returns once the pipeline says it waits for one; the generous timeout keeps a busy
    // machine from giving up first.
    const lake = makeTempDir()
    const child = cli([...args(lake).slice(0, -1), '120s'])
    await child.waitFor('kafka: waiting for a leader of l_orders')
    await broker.command('leader l_orders 1 1')
    const done = await child.exited
    expect(done.code, child.stderr()).toBe(0)
    const r = await queries(lake, { n: `SELECT count(*) AS n, count(DISTINCT kafka_partition) AS parts FROM bronze_orders` })
    expect(r.n[0]).toEqual({ n: 200, parts: 2 })
    await broker.stop()
  })
})
