import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { DuckDBInstance } from '@duckdb/node-api'
import { cleanupTempDirs, makeTempDir, type Row } from '../support/lake-fixtures'
import { killLeftovers, orderLine, rng, type Child } from '../support/bulk-input'
import { groupOffsets, highWatermarks, produce, startBroker, stopAllBrokers, type TestMessage } from '../support/kafka-broker'
import { rowsRead, spawnCli } from '../support/kafka-processes'
import { until } from '../support/wait'
import { lakeFile } from '../../src/main/lake/lake'
import { createEngineHost } from '../../src/main/api/engine-host'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'

// Several `streamdesk pipeline` processes, each with its own lake, share one topic's partitions
// through a consumer group (--kafka-share-group, docs/SCALING.md), against a real Kafka
// wire-protocol broker (librdkafka's mock cluster). The union of their lakes is checked with SQL:
// every order exactly once while members come and go gracefully; none missing after a SIGKILL.

const PARTITIONS = 4
const CUSTOMERS = 500

const children: Child[] = []
afterEach(() => killLeftovers(children))
afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

interface Topics {
  orders: string
  customers: string
}

function member(bootstrap: string, lake: string, group: string, t: Topics, extra: string[] = []): Child {
  const c = spawnCli([
    'pipeline',
    '--mode',
    'kafka',
    '--kafka-servers',
    bootstrap,
    '--kafka-topic',
    t.orders,
    '--customers-topic',
    t.customers,
    '--lake',
    lake,
    '--trigger',
    '50ms',
    '--kafka-share-group',
    group,
    '--kafka-session-timeout',
    '3s',
    ...extra
  ])
  children.push(c)
  return c
}

/** The newest assignment a member logged. */
function ownership(c: Child): { generation: number; members: number; owned: string[] } | null {
  const all = [...c.stderr().matchAll(/generation (\d+): this pipeline owns (.*) \((\d+) members?\)$/gm)]
  const m = all.at(-1)
  if (!m) return null
  return { generation: Number(m[1]), members: Number(m[3]), owned: m[2] === 'no partition' ? [] : m[2].split(', ') }
}

/** What a member said, without its per-batch lines (for a failure's message). */
function logOf(c: Child): string[] {
  return c.stderr().split('\n').filter((l) => l && !l.startsWith('batch') && !l.startsWith('  ')).slice(-40)
}

/** Both members hold the same generation's assignment, and it splits every partition between them. */
function splitBetween(a: Child, b: Child, t: Topics): boolean {
  const x = ownership(a)
  const y = ownership(b)
  if (!x || !y || x.generation !== y.generation || x.members !== 2) return false
  const all = [...x.owned, ...y.owned].sort()
  return all.length === 2 * PARTITIONS && new Set(all).size === all.length && all.every((k) => k.startsWith(t.orders) || k.startsWith(t.customers))
}

function owns(c: Child, keys: number): boolean {
  const x = ownership(c)
  return x !== null && x.owned.length === keys
}

function orders(from: number, to: number, r: () => number): TestMessage[] {
  const base = Date.parse('2026-11-30T08:00:00Z')
  const out: TestMessage[] = []
  for (let n = from; n < to; n++) {
    const line = orderLine(n, r, base, CUSTOMERS)
    out.push({ key: JSON.parse(line).customer_id, value: line })
  }
  return out
}

const total = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0)

/** The group's committed offsets of the orders topic reached the broker's ends: every member's lake holds its share. */
async function groupCaughtUp(bootstrap: string, group: string, topic: string): Promise<boolean> {
  const [hw, committed] = await Promise.all([highWatermarks(bootstrap, topic), groupOffsets(bootstrap, group, topic)])
  return [...hw].every(([k, v]) => committed.get(k) === v)
}

/** `--settings FILE` arguments that turn on a Parquet mirror into `dir`. */
function mirrorTo(dir: string): string[] {
  const file = join(makeTempDir(), 'settings.json')
  writeFileSync(file, JSON.stringify({ mirror: { enabled: true, path: dir } }))
  return ['--settings', file]
}

/** SQL over both lakes at once (each attached read-only). */
async function union(lakes: string[], sql: string): Promise<Row[]> {
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  try {
    for (const [i, l] of lakes.entries()) await conn.run(`ATTACH '${lakeFile(l)}' AS l${i} (READ_ONLY)`)
    const rows = (await conn.runAndReadAll(sql)).getRowObjectsJS()
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])))
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}

const ALL_SILVER = `(SELECT 'a' AS lake, order_id FROM l0.silver_orders UNION ALL SELECT 'b', order_id FROM l1.silver_orders)`
const ALL_BRONZE = `(SELECT 'a' AS lake, kafka_partition, kafka_offset, raw FROM l0.bronze_orders UNION ALL SELECT 'b', kafka_partition, kafka_offset, raw FROM l1.bronze_orders)`

describe('pipelines sharing a topic through a consumer group', () => {
  it('split the partitions, hand them over on a graceful stop, and hold every order exactly once together', { timeout: 240_000 }, async () => {
    const t = { orders: 'g_orders', customers: 'g_customers' }
    const broker = await startBroker({ [t.orders]: PARTITIONS, [t.customers]: PARTITIONS })
    const r = rng(7)
    const [lakeA, lakeB] = [makeTempDir(), makeTempDir()]
    const mirrors = makeTempDir()
    await produce(broker.bootstrap, t.orders, orders(0, 2000, r))

    const a = member(broker.bootstrap, lakeA, 'share-1', t, mirrorTo(join(mirrors, 'a')))
    const b = member(broker.bootstrap, lakeB, 'share-1', t, mirrorTo(join(mirrors, 'b')))
    await until('both members to split the partitions', () => splitBetween(a, b, t), { detail: () => [logOf(a), logOf(b)] })
    await until('the group to commit every order', () => groupCaughtUp(broker.bootstrap, 'share-1', t.orders))
    const split = { a: ownership(a)!.owned, b: ownership(b)!.owned }

    // produced while the split holds: each lake may take only its own partitions' messages
    await produce(broker.bootstrap, t.orders, orders(2000, 4000, r))
    await until('the group to commit the second 2000', () => groupCaughtUp(broker.bootstrap, 'share-1', t.orders))

    a.proc.kill('SIGTERM')
    expect((await a.exited).code, a.stderr()).toBe(0)
    expect(a.stderr()).toContain('kafka: group share-1: left')
    await until('B to own every partition', () => owns(b, 2 * PARTITIONS), { detail: () => ownership(b) })
    expect(ownership(b)!.members).toBe(1)
    await produce(broker.bootstrap, t.orders, orders(4000, 6000, r))
    await until('the group to commit the last 2000', () => groupCaughtUp(broker.bootstrap, 'share-1', t.orders))
    b.proc.kill('SIGTERM')
    expect((await b.exited).code, b.stderr()).toBe(0)

    const hw = await highWatermarks(broker.bootstrap, t.orders)
    expect(total(hw)).toBe(6000)
    const [silver] = await union([lakeA, lakeB], `SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM ${ALL_SILVER}`)
    expect(silver).toEqual({ n: 6000, ids: 6000 })
    const [bronze] = await union(
      [lakeA, lakeB],
      `SELECT count(*) AS n, count(DISTINCT (kafka_partition, kafka_offset)) AS messages FROM ${ALL_BRONZE}`
    )
    expect(bronze).toEqual({ n: 6000, messages: 6000 })
    // orders 2000..3999 arrived while the split held: each is in the lake that owned its partition
    const placed = await union(
      [lakeA, lakeB],
      `SELECT lake, list(DISTINCT kafka_partition ORDER BY kafka_partition) AS parts FROM ${ALL_BRONZE}
       WHERE CAST(substr(json_extract_string(raw, '$.order_id'), 5) AS INTEGER) BETWEEN 2000 AND 3999 GROUP BY lake ORDER BY lake`
    )
    const ordersOf = (keys: string[]) => keys.filter((k) => k.startsWith(`${t.orders}/`)).map((k) => Number(k.split('/')[1]))
    for (const row of placed) {
      const expected = ordersOf(row.lake === 'a' ? split.a : split.b)
      for (const p of row.parts as number[]) expect(expected).toContain(p)
    }
    expect(placed.length).toBe(2)

    // the two mirrors read as one dataset: every order once; windows add up across them
    const [mirrored] = await union(
      [lakeA, lakeB],
      `SELECT (SELECT count(*) FROM read_parquet('${mirrors}/*/silver_orders/**/*.parquet', hive_partitioning = true)) AS n,
              (SELECT count(DISTINCT order_id) FROM read_parquet('${mirrors}/*/silver_orders/**/*.parquet', hive_partitioning = true)) AS ids,
              (SELECT sum(orders)::BIGINT FROM read_parquet('${mirrors}/*/order_windows/**/*.parquet', hive_partitioning = true)) AS windowed,
              (SELECT count(*) FILTER (WHERE NOT is_late) FROM (SELECT is_late FROM l0.silver_orders UNION ALL SELECT is_late FROM l1.silver_orders)) AS on_time`
    )
    expect(mirrored).toMatchObject({ n: 6000, ids: 6000 })
    expect(mirrored.windowed).toBe(mirrored.on_time)
    await broker.stop()
  })

  it('after a SIGKILL the survivor takes over at the session timeout; the union misses no order', { timeout: 240_000 }, async () => {
    const t = { orders: 'k_orders', customers: 'k_customers' }
    const broker = await startBroker({ [t.orders]: PARTITIONS, [t.customers]: PARTITIONS })
    const r = rng(11)
    const [lakeA, lakeB] = [makeTempDir(), makeTempDir()]
    const a = member(broker.bootstrap, lakeA, 'share-2', t)
    const b = member(broker.bootstrap, lakeB, 'share-2', t)
    await until('both members to split the partitions', () => splitBetween(a, b, t), { detail: () => [logOf(a), logOf(b)] })
    await produce(broker.bootstrap, t.orders, orders(0, 2000, r))
    await until('the group to commit every order', () => groupCaughtUp(broker.bootstrap, 'share-2', t.orders))
    const killedOwned = ownership(a)!.owned

    // More orders, some for A's partitions, while A dies: B must take them over.
    const more = produce(broker.bootstrap, t.orders, orders(2000, 4000, r))
    a.proc.kill('SIGKILL')
    await a.exited
    await more
    await until('B to own every partition after the session timeout', () => owns(b, 2 * PARTITIONS), { detail: () => ownership(b) })
    await until('the group to commit the orders B took over', () => groupCaughtUp(broker.bootstrap, 'share-2', t.orders), {
      detail: async () => ({
        hw: [...(await highWatermarks(broker.bootstrap, t.orders))],
        group: [...(await groupOffsets(broker.bootstrap, 'share-2', t.orders))],
        b: b.stderr().split('\n').filter((l) => !l.startsWith('batch')).slice(-15)
      })
    })

    // A comes back with its lake: it starts each partition it gets at the highest of its lake's,
    // the hand-over's and the group's offsets, so it does not read what B took meanwhile.
    const a2 = member(broker.bootstrap, lakeA, 'share-2', t)
    await until('A and B to split the partitions again', () => splitBetween(a2, b, t), {
      detail: () => [logOf(a), logOf(a2), logOf(b)]
    })
    await produce(broker.bootstrap, t.orders, orders(4000, 6000, r))
    await until('the group to commit the last 2000', () => groupCaughtUp(broker.bootstrap, 'share-2', t.orders))
    a2.proc.kill('SIGTERM')
    b.proc.kill('SIGTERM')
    expect((await a2.exited).code, a2.stderr()).toBe(0)
    expect((await b.exited).code, b.stderr()).toBe(0)

    const [silver] = await union([lakeA, lakeB], `SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM ${ALL_SILVER}`)
    expect(silver.ids).toBe(6000)
    // A duplicate can only be a batch A committed to its lake but not yet to the group when it
    // died: in both lakes once, from a partition A owned then (docs/SCALING.md).
    const dups = await union(
      [lakeA, lakeB],
      `SELECT order_id, count(*) AS n, count(DISTINCT lake) AS lakes, any_value(kafka_partition) AS part
       FROM (SELECT 'a' AS lake, order_id FROM l0.silver_orders UNION ALL SELECT 'b', order_id FROM l1.silver_orders)
       JOIN (SELECT DISTINCT json_extract_string(raw, '$.order_id') AS order_id, kafka_partition FROM ${ALL_BRONZE}) USING (order_id)
       GROUP BY order_id HAVING count(*) > 1`
    )
    for (const d of dups) {
      expect(d).toMatchObject({ n: 2, lakes: 2 })
      expect(killedOwned).toContain(`${t.orders}/${d.part}`)
    }
    expect(silver.n).toBe(6000 + dups.length)
    await broker.stop()
  })

  it("shows in the app's status and lag which partitions this pipeline owns, from the settings' kafka.shareGroup", { timeout: 240_000 }, async () => {
    const t = { orders: 'h_orders', customers: 'h_customers' }
    const broker = await startBroker({ [t.orders]: PARTITIONS, [t.customers]: PARTITIONS })
    const base = makeTempDir()
    const host = await createEngineHost({ settingsFile: join(base, 'settings.json'), baseDir: base })
    const other = member(broker.bootstrap, makeTempDir(), 'share-3', t)
    try {
      await host.handlers['settings.update']({
        patch: {
          source: {
            kind: 'kafka',
            kafka: { servers: [broker.bootstrap], ordersTopic: t.orders, customersTopic: t.customers, shareGroup: 'share-3', shareSessionTimeoutMs: 3000 }
          }
        }
      })
      expect((await host.handlers['pipeline.start']({})).state).toBe('running')
      const owned = async () => (await host.handlers['pipeline.status']({})).share?.owned ?? []
      await until('the app and the other member to split the partitions', async () => (await owned()).length === PARTITIONS && owns(other, PARTITIONS), {
        detail: async () => [await host.handlers['pipeline.status']({}), logOf(other)]
      })
      const mine = await owned()
      expect(new Set([...mine, ...ownership(other)!.owned]).size).toBe(2 * PARTITIONS)
      const status = await host.handlers['pipeline.status']({})
      expect(status.share).toMatchObject({ groupId: 'share-3', members: 2, error: null })
      await produce(broker.bootstrap, t.orders, orders(0, 400, rng(3)))
      await until('the group to commit every order', () => groupCaughtUp(broker.bootstrap, 'share-3', t.orders))
      // lag lists only this pipeline's partitions; the others are the other member's to report
      await until('lag rows for the owned partitions', async () => {
        const lag = await host.handlers['query.kafkaLag']({})
        return JSON.stringify(lag.map((l) => `${l.topic}/${l.partition}`).sort()) === JSON.stringify([...mine].sort()) && lag.every((l) => l.highWatermark !== null)
      })

      other.proc.kill('SIGTERM')
      expect((await other.exited).code, other.stderr()).toBe(0)
      await until('the app to own every partition', async () => (await owned()).length === 2 * PARTITIONS, {
        detail: () => host.handlers['pipeline.status']({})
      })
      expect((await host.handlers['pipeline.status']({})).share?.members).toBe(1)
      expect((await host.handlers['pipeline.stop']({})).share ?? null).toBeNull()
    } finally {
      await host.dispose()
      await broker.stop()
    }
  })

  it('refuses a share group id or session timeout it cannot use, naming the flag', { timeout: 120_000 }, async () => {
    const run = async (extra: string[]) => {
      const c = spawnCli(['pipeline', '--mode', 'kafka', '--kafka-servers', '127.0.0.1:1', '--lake', makeTempDir(), ...extra])
      children.push(c)
      const exit = await c.exited
      return { code: exit.code, stderr: c.stderr() }
    }
    const badId = await run(['--kafka-share-group', 'two words'])
    expect(badId.code).toBe(2)
    expect(badId.stderr).toContain("--kafka-share-group must be a consumer group id (letters, digits, '.', '_', '-', at most 249), got 'two words'")
    const badTimeout = await run(['--kafka-share-group', 'g', '--kafka-session-timeout', '500ms'])
    expect(badTimeout.code).toBe(2)
    expect(badTimeout.stderr).toContain("--kafka-session-timeout must be between 1s and 5m, got '500ms'")
  })

  it('a member killed after its lake commit but before its group commit: the batch is in both lakes, and de-duplicating on order_id restores the orders', { timeout: 240_000 }, async () => {
    const t = { orders: 'd_orders', customers: 'd_customers' }
    const OFFSET_COMMIT = 8
    const COORDINATOR_NOT_AVAILABLE = 15
    const broker = await startBroker({ [t.orders]: PARTITIONS, [t.customers]: PARTITIONS })
    const r = rng(5)
    const [lakeA, lakeB] = [makeTempDir(), makeTempDir()]
    const a = member(broker.bootstrap, lakeA, 'share-4', t)
    const b = member(broker.bootstrap, lakeB, 'share-4', t)
    await until('both members to split the partitions', () => splitBetween(a, b, t), { detail: () => [logOf(a), logOf(b)] })
    await produce(broker.bootstrap, t.orders, orders(0, 1000, r))
    await until('the group to commit every order', () => groupCaughtUp(broker.bootstrap, 'share-4', t.orders))
    const killedOwned = ownership(a)!.owned

    // From here every group commit fails: the lakes move on, the group's offsets do not.
    await broker.command(`fail ${OFFSET_COMMIT} 100000 ${COORDINATOR_NOT_AVAILABLE}`)
    await produce(broker.bootstrap, t.orders, orders(1000, 3000, r))
    await until('both lakes to commit all 3000', () => rowsRead(a.stderr()) + rowsRead(b.stderr()) >= 3000, {
      detail: () => [rowsRead(a.stderr()), rowsRead(b.stderr())]
    })
    a.proc.kill('SIGKILL')
    await a.exited
    await broker.command(`clear ${OFFSET_COMMIT}`)
    await until('B to own every partition after the session timeout', () => owns(b, 2 * PARTITIONS), { detail: () => logOf(b) })
    await until('the group to commit what B read again', () => groupCaughtUp(broker.bootstrap, 'share-4', t.orders))
    b.proc.kill('SIGTERM')
    expect((await b.exited).code, b.stderr()).toBe(0)

    // exactly A's orders since the failures began are in both lakes
    const [counts] = await union(
      [lakeA, lakeB],
      `SELECT (SELECT count(*) FROM ${ALL_SILVER}) AS n, (SELECT count(DISTINCT order_id) FROM ${ALL_SILVER}) AS ids,
              (SELECT count(*) FROM l0.silver_orders WHERE CAST(substr(order_id, 5) AS INTEGER) >= 1000) AS a_after,
              (SELECT count(*) FROM l0.silver_orders JOIN l1.silver_orders USING (order_id)) AS in_both,
              (SELECT count(*) FROM (SELECT order_id FROM ${ALL_SILVER} QUALIFY row_number() OVER (PARTITION BY order_id) = 1)) AS deduplicated`
    )
    expect(counts.ids).toBe(3000)
    expect(counts.a_after).toBeGreaterThan(0)
    expect(counts.in_both).toBe(counts.a_after)
    expect(counts.n).toBe(3000 + Number(counts.a_after))
    expect(counts.deduplicated).toBe(3000)
    const parts = await union([lakeA, lakeB], `SELECT DISTINCT kafka_partition AS p FROM l1.bronze_orders JOIN l0.bronze_orders USING (kafka_partition, kafka_offset)`)
    for (const { p } of parts) expect(killedOwned).toContain(`${t.orders}/${p}`)
    await broker.stop()
  })
})
