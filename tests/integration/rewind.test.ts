import { readFileSync } from 'node:fs'
import type { EngineHost } from '../../src/main/api/host'
import { until } from '../support/wait'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { acquireLake } from '../../src/main/lake/lake-registry'
import { lakeFigures } from '../../src/main/lake/metrics-figures'
import { totals } from '../../src/main/lake/queries'
import { planRewind, RewindError, rewindSource, type RewindTarget } from '../../src/main/lake/rewind'
import { killLeftovers, spawnPipeline, type Child } from '../support/bulk-input'
import { spawnCli } from '../support/kafka-processes'
import { parseSettings } from '../../src/shared/settings'
import { replayLake } from '../../src/main/lake/replay'
import { replayScoring } from '../../src/main/lake/active-scoring'
import { transformSettings } from '../../src/main/lake/batch-transform'
import { highWatermarks, produce, startBroker, stopAllBrokers } from '../support/kafka-broker'
import { runKafkaPipeline } from '../../src/main/cli/commands/pipeline'
import { appendRaw, cleanupTempDirs, customer, linesWithOffsets, makeWorkspace, order, queries, query, runPipeline, scalar, sq, writeLines, type Workspace } from '../support/lake-fixtures'
import { startFolderEngine } from '../support/engine-host'

// A rewind (docs/EVENTS.md, Rewind) on real lake files and real input files: what the next run
// reads again, what that does to bronze, silver, quarantine, customers and the counters, and
// when a rewind is refused with the lake left as it was.

afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

const children: Child[] = []
afterEach(() => killLeftovers(children))

async function rewind(ws: Workspace, source: string, target: RewindTarget, confirm = true) {
  const lake = await acquireLake(ws.lake, { create: false })
  try {
    return await rewindSource(lake, source, target, { confirm, by: 'test' })
  } finally {
    await lake.close()
  }
}

/** What a refused rewind must leave exactly as it was. */
const UNCHANGED = {
  offsets: `SELECT source_kind, key, next_offset, batch_id, identity::VARCHAR AS identity FROM source_offsets ORDER BY ALL`,
  batches: `SELECT batch_id, kind FROM batches ORDER BY batch_id`
}

/** Header totals and /metrics figures, read the way the app reads them. */
async function figures(ws: Workspace) {
  const lake = await acquireLake(ws.lake, { create: false })
  try {
    return { totals: await totals(lake.reader), metrics: await lakeFigures(lake.reader) }
  } finally {
    await lake.close()
  }
}

describe('rewinding a file', () => {
  it('to 0: the next run reads it again; silver, quarantine and profiles stay, the re-read orders are duplicates, the rewind is recorded', { timeout: 60_000 }, async () => {
    const ws = makeWorkspace()
    const orders = writeLines(ws.orders('a.jsonl'), [
      order({ order_id: 'r-1', customer_id: 'c-1' }),
      order({ order_id: 'r-2', customer_id: 'c-1' }),
      '{not json',
      order({ order_id: 'r-3', customer_id: 'c-2' })
    ])
    // the older profile in a.jsonl, the newer one in b.jsonl, read in a later batch
    writeLines(ws.customers('a.jsonl'), [customer({ customer_id: 'c-1', name: 'Old Name' }), '{"customer_id": 7}'])
    await runPipeline(ws)
    writeLines(ws.customers('b.jsonl'), [customer({ customer_id: 'c-1', name: 'New Name' })])
    await runPipeline(ws)
    const before = await queries(ws.lake, {
      silver: `SELECT order_id, batch_id FROM silver_orders ORDER BY order_id`,
      quarantine: `SELECT id, batch_id, kind, source, byte_offset, reason, resolved_batch_id FROM quarantine ORDER BY id`,
      customers: `SELECT customer_id, name, batch_id FROM customers ORDER BY customer_id`,
      bronze: `SELECT count(*) AS n FROM bronze_orders`,
      offsets: UNCHANGED.offsets
    })
    expect(before.customers.find((c) => c.customer_id === 'c-1')?.name).toBe('New Name')
    const end = readFileSync(orders).length
    const totalsBefore = (await figures(ws)).totals

    const r = await rewind(ws, orders, { offset: 0 })
    expect(r).toMatchObject({ sourceKind: 'file', key: orders, from: end, to: 0, unit: 'bytes' })
    const customersFile = ws.customers('a.jsonl')
    await rewind(ws, customersFile, { offset: 0 })
    const rec = await query(ws.lake, `SELECT batch_id, kind, rows_read, valid, quarantined, duplicates, replay::VARCHAR AS replay, events::VARCHAR AS events
      FROM batches WHERE kind = 'rewind' ORDER BY batch_id`)
    expect(rec).toHaveLength(2)
    expect(rec[0]).toMatchObject({ batch_id: r.batchId, rows_read: 0, valid: 0, quarantined: 0, duplicates: 0 })
    expect(JSON.parse(String(rec[0].replay))).toEqual({
      rewind: { sourceKind: 'file', key: orders, source: orders, partition: null, from: end, to: 0, toTime: null, by: 'test' }
    })
    expect(JSON.parse(String(rec[0].events))[0]).toMatchObject({ kind: 'rewound', path: orders })
    expect(await scalar(ws.lake, `SELECT next_offset FROM source_offsets WHERE key = ${sq(orders)}`)).toBe(0)

    // the CLI's batch line adds up with the lines read again
    const run = spawnCli(['pipeline', '--mode', 'file', '--input-path', ws.input, '--lake', ws.lake, '--until-idle', '--trigger', '50ms'])
    children.push(run)
    expect((await run.exited).code, run.stderr()).toBe(0)
    expect(run.stderr()).toMatch(
      /^batch \d+: 6 rows in: 4 orders = 0 valid \+ 3 duplicates \+ 1 already quarantined; 2 customers = 0 stored \+ 2 read again \(profile kept\); 0 alerts;/m
    )
    const after = await queries(ws.lake, {
      silver: `SELECT order_id, batch_id FROM silver_orders ORDER BY order_id`,
      quarantine: `SELECT id, batch_id, kind, source, byte_offset, reason, resolved_batch_id FROM quarantine ORDER BY id`,
      customers: `SELECT customer_id, name, batch_id FROM customers ORDER BY customer_id`,
      bronze: `SELECT count(*) AS n FROM bronze_orders`,
      offsets: `SELECT key, next_offset FROM source_offsets WHERE key = ${sq(orders)}`,
      reread: `SELECT batch_id, rows_read, valid, quarantined, duplicates, events::VARCHAR AS events FROM batches WHERE batch_id > ${rec[1].batch_id}`,
      // the definition of a duplicate, in SQL: a valid order line whose order_id silver held before its batch
      dupSql: `SELECT count(*) AS n FROM bronze_orders b WHERE b.batch_id > ${rec[1].batch_id}
        AND EXISTS (SELECT 1 FROM silver_orders s WHERE s.order_id = json_extract_string(try_cast(b.raw AS JSON), '$.order_id') AND s.batch_id < b.batch_id)`
    })
    expect(after.silver).toEqual(before.silver)
    expect(after.quarantine).toEqual(before.quarantine)
    expect(after.customers).toEqual(before.customers)
    expect(after.bronze[0].n).toBe((before.bronze[0].n as number) + 4)
    expect(after.offsets[0].next_offset).toBe(end)
    const sum = (k: string) => after.reread.reduce((t, b) => t + (b[k] as number), 0)
    expect(sum('rows_read')).toBe(6) // 4 order lines, 2 customer lines
    expect(sum('valid')).toBe(0)
    expect(sum('quarantined')).toBe(0)
    expect(sum('duplicates')).toBe(3)
    expect(sum('duplicates')).toBe(after.dupSql[0].n)
    const events = after.reread.flatMap((b) => JSON.parse(String(b.events)) as { kind: string; path: string }[])
    expect(events.filter((e) => e.kind === 'reread').map((e) => e.path).sort()).toEqual([customersFile, orders].sort())

    // the header and /metrics: orders and quarantine as before, the re-reads as duplicates, and
    // the rewind records are not batches of ingest
    const f = await figures(ws)
    expect(f.totals).toMatchObject({ orders: totalsBefore.orders, quarantined: totalsBefore.quarantined, duplicates: totalsBefore.duplicates + 3 })
    const check = await queries(ws.lake, {
      silver: `SELECT count(*) AS n FROM silver_orders`,
      quarantine: `SELECT count(*) AS n FROM quarantine`,
      ingest: `SELECT count(*) AS n FROM batches WHERE kind IN ('live', 'revalidate')`
    })
    expect(f.totals.orders).toBe(check.silver[0].n)
    expect(f.totals.quarantined).toBe(check.quarantine[0].n)
    expect(f.metrics.batches).toBe(check.ingest[0].n)
    expect(f.metrics.orders).toBe(check.silver[0].n)

    // a replay of every batch, the re-reading one included, quarantines the bad line once too
    const lake = await acquireLake(ws.lake, { create: false })
    try {
      const summary = await replayLake(lake, { settings: transformSettings(parseSettings({}), await replayScoring(lake.writer)) })
      expect(summary.batches).toBeGreaterThanOrEqual(2)
    } finally {
      await lake.close()
    }
    const replayed = await queries(ws.lake, {
      silver: `SELECT order_id, batch_id FROM silver_orders ORDER BY order_id`,
      quarantine: `SELECT batch_id, kind, source, byte_offset FROM quarantine ORDER BY kind, batch_id`,
      counted: `SELECT sum(quarantined) AS q FROM batches WHERE kind = 'replay'`
    })
    expect(replayed.silver).toEqual(before.silver)
    expect(replayed.quarantine).toEqual(before.quarantine.map(({ batch_id, kind, source, byte_offset }) => ({ batch_id, kind, source, byte_offset })))
    expect(replayed.counted[0].q).toBe(1)
  })

  it('to a line start in the middle: only the lines from there are read again', { timeout: 60_000 }, async () => {
    const ws = makeWorkspace()
    const file = writeLines(ws.orders('a.jsonl'), [order({ order_id: 'm-1' }), order({ order_id: 'm-2' }), order({ order_id: 'm-3' }), order({ order_id: 'm-4' })])
    await runPipeline(ws)
    const third = linesWithOffsets(readFileSync(file))[2].offset
    const r = await rewind(ws, file, { offset: third })
    // a line appended since is new: read once, counted as a valid order
    appendRaw(file, JSON.stringify(order({ order_id: 'm-5' })) + '\n')
    await runPipeline(ws)
    const read = await query(ws.lake, `SELECT byte_offset, json_extract_string(raw, '$.order_id') AS id FROM bronze_orders WHERE batch_id > ${r.batchId} ORDER BY byte_offset`)
    expect(read.map((x) => x.id)).toEqual(['m-3', 'm-4', 'm-5'])
    expect(read[0].byte_offset).toBe(third)
    expect(await scalar(ws.lake, `SELECT count(*) FROM silver_orders`)).toBe(5)
    expect(await query(ws.lake, `SELECT sum(valid) AS valid, sum(duplicates) AS dup FROM batches WHERE batch_id > ${r.batchId}`)).toEqual([{ valid: 1, dup: 2 }])
  })

  it('takes a line quarantined at its first reading that passes today\'s checks into silver, and marks its quarantine row resolved', { timeout: 60_000 }, async () => {
    const ws = makeWorkspace()
    const file = writeLines(ws.orders('a.jsonl'), [order({ order_id: 'q-usd' }), order({ order_id: 'q-sek', currency: 'SEK', total_amount: 100 })])
    await runPipeline(ws)
    expect(await query(ws.lake, `SELECT reason, resolved_batch_id FROM quarantine`)).toEqual([{ reason: expect.stringMatching(/SEK/), resolved_batch_id: null }])
    const r = await rewind(ws, file, { offset: 0 })
    const withSek = parseSettings({ reporting: { currency: 'USD', fxRates: { EUR: 1.08, SEK: 0.1 } } })
    await runPipeline(ws, { baseSettings: withSek })
    const after = await queries(ws.lake, {
      silver: `SELECT order_id, batch_id FROM silver_orders ORDER BY order_id`,
      quarantine: `SELECT resolved_batch_id FROM quarantine`,
      counts: `SELECT sum(valid) AS valid, sum(duplicates) AS dup, sum(quarantined) AS q FROM batches WHERE batch_id > ${r.batchId}`
    })
    const batch = (after.silver.find((o) => o.order_id === 'q-sek')?.batch_id ?? 0) as number
    expect(batch).toBeGreaterThan(r.batchId!)
    expect(after.silver.map((o) => o.order_id)).toEqual(['q-sek', 'q-usd'])
    expect(after.quarantine).toEqual([{ resolved_batch_id: batch }])
    expect(after.counts).toEqual([{ valid: 1, dup: 1, q: 0 }])
  })

  it('refuses an offset that is not a line start, naming the nearest ones; the lake is unchanged', { timeout: 60_000 }, async () => {
    const ws = makeWorkspace()
    const file = writeLines(ws.orders('a.jsonl'), [order({ order_id: 'n-1' }), order({ order_id: 'n-2' }), order({ order_id: 'n-3' })])
    await runPipeline(ws)
    const [, second, third] = linesWithOffsets(readFileSync(file)).map((l) => l.offset)
    const before = await queries(ws.lake, UNCHANGED)
    await expect(rewind(ws, file, { offset: second + 5 })).rejects.toThrow(
      new RewindError(`offset ${second + 5} of ${file} is not the start of a line; the nearest line starts are ${second} or ${third}`)
    )
    await expect(rewind(ws, file, { offset: readFileSync(file).length + 10 })).rejects.toThrow(/beyond its committed offset/)
    await expect(rewind(ws, 'no-such-file.jsonl', { offset: 0 })).rejects.toThrow(/no committed offset for 'no-such-file.jsonl'; its sources are/)
    expect(await queries(ws.lake, UNCHANGED)).toEqual(before)
  })

  it('to a time: the offset the last batch committed at or before it', { timeout: 60_000 }, async () => {
    const ws = makeWorkspace()
    const file = writeLines(ws.orders('a.jsonl'), [order({ order_id: 't-1' }), order({ order_id: 't-2' })])
    await runPipeline(ws)
    const firstEnd = readFileSync(file).length
    const first = await query(ws.lake, `SELECT batch_id, strftime(committed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS at FROM batches`)
    appendRaw(file, JSON.stringify(order({ order_id: 't-3' })) + '\n')
    await runPipeline(ws)
    const lake = await acquireLake(ws.lake, { create: false })
    try {
      const plan = await planRewind(lake.writer, file, { toTime: String(first[0].at) })
      expect(plan).toMatchObject({ from: readFileSync(file).length, to: firstEnd, asOfBatchId: first[0].batch_id })
      const early = await planRewind(lake.writer, file, { toTime: '2000-01-01T00:00:00Z' })
      expect(early).toMatchObject({ to: 0, asOfBatchId: null })
      // the file by its identity, as `dev:ino`
      const id = JSON.parse(String((await lake.reader.runAndReadAll(`SELECT identity::VARCHAR FROM source_offsets`)).getRows()[0][0]))
      expect(await planRewind(lake.writer, `${id.dev}:${id.ino}`, { offset: 0 })).toMatchObject({ key: file, to: 0 })
    } finally {
      await lake.close()
    }
  })

  it('refuses a time before the file at that path was truncated: that offset was another file\'s', { timeout: 60_000 }, async () => {
    const ws = makeWorkspace()
    const file = writeLines(ws.orders('a.jsonl'), [order({ order_id: 'x-1' }), order({ order_id: 'x-2' })])
    await runPipeline(ws)
    const [first] = await query(ws.lake, `SELECT strftime(committed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS at FROM batches`)
    writeLines(file, [order({ order_id: 'x-3' })]) // shorter: truncated, read again from byte 0
    await runPipeline(ws)
    expect(await scalar(ws.lake, `SELECT count(*) FROM batches WHERE events::VARCHAR LIKE '%truncated%'`)).toBe(1)
    const before = await queries(ws.lake, UNCHANGED)
    await expect(rewind(ws, file, { toTime: String(first.at) })).rejects.toThrow(/was truncated after .* its offset as of that time belongs to another file/)
    expect(await queries(ws.lake, UNCHANGED)).toEqual(before)
  })
})

describe('streamdesk rewind', () => {
  async function cli(args: string[]) {
    const c = spawnCli(['rewind', ...args])
    children.push(c)
    return { code: (await c.exited).code, stderr: c.stderr() }
  }

  it('says what it would do and changes nothing without --yes (exit 6); rewinds with it; refuses bad input (exit 2)', { timeout: 90_000 }, async () => {
    const ws = makeWorkspace()
    const file = writeLines(ws.orders('a.jsonl'), [order({ order_id: 'c-1' }), order({ order_id: 'c-2' })])
    await runPipeline(ws)
    const before = await queries(ws.lake, UNCHANGED)
    const dry = await cli(['--lake', ws.lake, '--source', file, '--offset', '0'])
    expect(dry.code, dry.stderr).toBe(6)
    expect(dry.stderr).toContain(`rewind ${file}: bytes offset ${readFileSync(file).length} → 0`)
    expect(dry.stderr).toContain('nothing changed: run again with --yes')
    expect(await queries(ws.lake, UNCHANGED)).toEqual(before)

    const bad = await cli(['--lake', ws.lake, '--source', file, '--offset', '3', '--yes'])
    expect(bad.code, bad.stderr).toBe(2)
    expect(bad.stderr).toMatch(/offset 3 of .* is not the start of a line/)
    const both = await cli(['--lake', ws.lake, '--source', file, '--offset', '0', '--to-time', '2026-01-01T00:00:00Z'])
    expect(both.code).toBe(2)
    expect(await queries(ws.lake, UNCHANGED)).toEqual(before)
    const missing = await cli(['--lake', `${ws.lake}-none`, '--source', file, '--offset', '0'])
    expect(missing.code).toBe(3)

    const yes = await cli(['--lake', ws.lake, '--source', file, '--offset', '0', '--yes'])
    expect(yes.code, yes.stderr).toBe(0)
    expect(yes.stderr).toMatch(/rewound: recorded as batch \d+ \(kind rewind\)/)
    expect(await query(ws.lake, `SELECT kind, json_extract_string(replay, '$.rewind.by') AS by FROM batches WHERE kind = 'rewind'`)).toEqual([
      { kind: 'rewind', by: expect.stringMatching(/^streamdesk rewind/) }
    ])
  })

  it('is refused while a pipeline holds the lake (exit 3), which stays unchanged', { timeout: 90_000 }, async () => {
    const ws = makeWorkspace()
    const file = writeLines(ws.orders('a.jsonl'), [order({ order_id: 'h-1' })])
    const owner = spawnPipeline(ws.input, ws.lake)
    children.push(owner)
    await owner.waitFor('batch 1:')
    const c = await cli(['--lake', ws.lake, '--source', file, '--offset', '0', '--yes'])
    expect(c.code, c.stderr).toBe(3)
    expect(c.stderr).toMatch(/in use by another process/)
    owner.proc.kill('SIGKILL')
    await owner.exited
    expect(await query(ws.lake, `SELECT key, next_offset FROM source_offsets`)).toEqual([{ key: file, next_offset: readFileSync(file).length }])
    expect(await scalar(ws.lake, `SELECT count(*) FROM batches WHERE kind = 'rewind'`)).toBe(0)
  })
})

describe('rewinding a Kafka partition', () => {
  it('re-reads the partition from the offset against a real broker: duplicates, not new orders', { timeout: 120_000 }, async () => {
    const broker = await startBroker({ r_orders: 2, r_customers: 1 })
    const ws = makeWorkspace()
    const flags = {
      mode: 'kafka' as const,
      inputPath: '',
      lake: ws.lake,
      trigger: 50,
      untilIdle: true,
      quiet: true,
      kafkaServers: broker.bootstrap,
      kafkaTopic: 'r_orders',
      customersTopic: 'r_customers'
    }
    const messages = Array.from({ length: 10 }, (_, i) => ({ key: 'k', partition: 0, value: JSON.stringify(order({ order_id: `k-${i}` })) }))
    messages.splice(6, 0, { key: 'k', partition: 0, value: '{bad' })
    await produce(broker.bootstrap, 'r_orders', [...messages, { key: 'k', partition: 1, value: JSON.stringify(order({ order_id: 'other-partition' })) }])
    await runKafkaPipeline(flags)
    const hw = await highWatermarks(broker.bootstrap, 'r_orders')
    const before = await queries(ws.lake, {
      silver: `SELECT order_id FROM silver_orders ORDER BY order_id`,
      quarantine: `SELECT count(*) AS n FROM quarantine`
    })
    expect(before.silver).toHaveLength(11)

    const dry = await rewind(ws, 'r_orders:0', { offset: 4 }, false)
    expect(dry).toMatchObject({ sourceKind: 'kafka', key: 'r_orders/0', from: hw.get('r_orders/0'), to: 4, unit: 'messages', batchId: null })
    expect(await scalar(ws.lake, `SELECT count(*) FROM batches WHERE kind = 'rewind'`)).toBe(0)
    const r = await rewind(ws, 'r_orders:0', { offset: 4 })
    await expect(rewind(ws, 'r_orders:0', { offset: 99 })).rejects.toThrow(/beyond its committed offset 4/)
    await runKafkaPipeline(flags)

    const after = await queries(ws.lake, {
      silver: `SELECT order_id FROM silver_orders ORDER BY order_id`,
      quarantine: `SELECT count(*) AS n FROM quarantine`,
      reread: `SELECT kafka_partition AS p, min(kafka_offset) AS lo, max(kafka_offset) AS hi, count(*) AS n FROM bronze_orders WHERE batch_id > ${r.batchId} GROUP BY ALL`,
      counts: `SELECT sum(rows_read) AS read, sum(valid) AS valid, sum(quarantined) AS q, sum(duplicates) AS dup FROM batches WHERE batch_id > ${r.batchId}`,
      offsets: `SELECT key, next_offset FROM source_offsets WHERE key LIKE 'r_orders/%' ORDER BY key`
    })
    expect(after.silver).toEqual(before.silver)
    expect(after.quarantine).toEqual(before.quarantine)
    expect(after.reread).toEqual([{ p: 0, lo: 4, hi: 10, n: 7 }]) // offsets 4..10, the bad one (6) among them
    expect(after.counts[0]).toEqual({ read: 7, valid: 0, q: 0, dup: 6 })
    expect(after.offsets).toEqual([...hw].sort().map(([key, n]) => ({ key, next_offset: n })))

    // to a time before the first batch: the lowest offset of the partition bronze holds
    const early = await rewind(ws, 'r_orders:0', { toTime: '2000-01-01T00:00:00Z' }, false)
    expect(early).toMatchObject({ key: 'r_orders/0', to: 0, asOfBatchId: null, batchId: null })
    await broker.stop()
  })
})

describe('lake.rewind over the API', () => {
  let host: EngineHost | undefined
  afterAll(() => host?.dispose())

  it('is refused while the pipeline runs; stopped, it plans without changing anything, then rewinds once confirmed', { timeout: 120_000 }, async () => {
    const engine = await startFolderEngine()
    host = engine.host
    const { call } = engine
    const file = writeLines(engine.orders('1.jsonl'), [order({ order_id: 'api-1' }), order({ order_id: 'api-2' })])
    await call('pipeline.start')
    await until('the batch', async () => (await call('pipeline.status')).totals.orders >= 2)
    await expect(call('lake.rewind', { source: file, offset: 0, confirm: true })).rejects.toMatchObject({ type: 'validation', message: /stop the pipeline first/ })
    await expect(call('lake.rewind', { source: file, confirm: true })).rejects.toMatchObject({ type: 'validation', message: /either an offset or a time/ })

    await call('pipeline.stop')
    const rows = async () => (await call('query.sourceOffsets', {})) as { key: string; committedOffset: number; batchId: number }[]
    const before = await rows()
    const plan = await call('lake.rewind', { source: file, offset: 0 })
    expect(plan).toMatchObject({ key: file, from: readFileSync(file).length, to: 0, batchId: null })
    expect(plan.consequence).toMatch(/count as duplicates/)
    expect(await rows()).toEqual(before)
    const done = await call('lake.rewind', { source: file, offset: 0, confirm: true })
    expect(done.batchId).toBeGreaterThan(before[0].batchId)
    expect(await rows()).toMatchObject([{ key: file, committedOffset: 0, batchId: done.batchId }])
    const batches = await call('query.batches', {})
    expect(batches.at(-1)).toMatchObject({ batchId: done.batchId, kind: 'rewind', rowsRead: 0, events: [expect.objectContaining({ kind: 'rewound', path: file })] })

    // the next run reads the file again: the header's orders stay, the duplicates are the re-read lines
    await call('pipeline.start')
    await until('the re-read batch', async () => (await call('pipeline.status')).totals.duplicates >= 2)
    await call('pipeline.stop')
    expect((await call('pipeline.status')).totals).toMatchObject({ orders: 2, duplicates: 2, quarantined: 0 })
  })
})
