import { totalmem } from 'node:os'
import type { BatchEvent, BatchProgress } from '../../shared/dto'
import { InputChangedError, type FileSegment, type LinesSegment, type PlannedBatch, type Segment } from '../sources/source'
import { createStagedLines, FILES_PER_STATEMENT, LinesWriter, readByDuckDb, stagedLines, stageFileSegments, verifyFileSegments } from './bronze-ingest'
import { readSegmentLines, splitLines } from './file-lines'
import { checkFileIdentity } from '../sources/file-identity'
import { openInputFile, type InputFile } from '../sources/input-file'
import { batchRowsSql, commitStaged, dropStaged, orderCounts, prepareOrders, stageCustomers, stageWindows, watermarkSql, type StagedOrders, type TransformSettings } from './batch-transform'
import { sqlString, type Lake } from './lake'
import { eventsJson, offsetsJson, writeOffsets } from './source-offsets'
import { queueAlerts } from './alert-outbox'
import { countRereads, NO_REREADS, stageRereads } from './reread'

// One micro-batch = one DuckDB transaction holding bronze, quarantine, customers, silver, windows,
// alerts and their outbox rows, the batch record AND the source offsets it consumed. A crash before COMMIT leaves the
// lake exactly as it was; after COMMIT the offsets say precisely what is in it.
//
// The heavy work happens before that transaction opens: the input lines and everything derived
// from them are staged in temp tables of this connection (batch-transform.ts says why), which
// are not part of the lake and vanish with the process. The transaction scores the orders
// straight into silver and copies the rest in.


export interface CommittedBatch extends BatchProgress {
  maxEventTs: string | null
  bytes: number
  /** Newest input of the batch becoming visible → its commit, in ms (null if unknown). */
  lagMs: number | null
  /** File events recorded with the batch (`batches.events`). */
  events: BatchEvent[]
  /**
   * Lines read again after a rewind that `quarantined` leaves out (bad order lines quarantined by
   * their first reading) or that stored nothing (customer lines); absent when none (lake/reread.ts).
   */
  reread?: { badOrders: number; customers: number }
}

export async function committedOffsets(lake: Lake, sourceKind: string): Promise<Map<string, bigint>> {
  const r = await lake.reader.runAndReadAll(
    `SELECT key, next_offset FROM source_offsets WHERE source_kind = ${sqlString(sourceKind)}`
  )
  return new Map(r.getRows().map(([k, o]) => [String(k), BigInt(o as bigint)]))
}

const READS_IN_FLIGHT = 16

/** Opens a file DuckDB is about to read, checking it is still the one planned. */
async function openPlanned(seg: FileSegment): Promise<InputFile> {
  const fh = await openInputFile(seg.path).catch((err: NodeJS.ErrnoException) => {
    throw new InputChangedError(seg.path, `it cannot be opened any more (${err.code ?? err.message})`)
  })
  try {
    await stillPlanned(fh, seg)
  } catch (err) {
    await fh.close()
    throw err
  }
  return fh
}

async function stillPlanned(fh: InputFile, seg: FileSegment): Promise<void> {
  const changed = await checkFileIdentity(fh, seg)
  if (changed) throw new InputChangedError(seg.path, changed)
}

const memoryLimits = new WeakMap<Lake['writer'], number>()

const UNLIMITED = -1

/** DuckDB's memory limit is the instance's and can change between batches (settings apply live). */
async function setMemoryLimit(lake: Lake, mb: number | undefined): Promise<void> {
  if (mb === undefined || memoryLimits.get(lake.writer) === mb) return
  // DuckDB's own default: 80% of the machine's memory (RESET keeps the value set last)
  const value = mb === UNLIMITED ? Math.floor((totalmem() * 0.8) / 2 ** 20) : Math.round(mb)
  await lake.writer.run(`SET memory_limit = '${value}MiB'`)
  memoryLimits.set(lake.writer, mb)
}

/** Runs `work` on every item, at most `limit` at a time; the first failure is thrown after all settle. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failure: unknown = null
  const worker = async () => {
    while (next < items.length && failure === null) {
      const item = items[next++]
      await work(item).catch((err: unknown) => {
        failure ??= err
      })
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure !== null) throw failure
}

/**
 * Stages the input lines of every segment of the batch (`_lines_<stream>`), each with its
 * segment's number in the batch's processing order. `readInJs` names files DuckDB failed to
 * read in an earlier attempt of this batch (invalid UTF-8, a NUL byte...): JavaScript reads them
 * instead.
 */
async function stageSegments(lake: Lake, segments: Segment[], readInJs: ReadonlySet<string>, stage: string | null): Promise<void> {
  const conn = lake.writer
  // Processing order = (segment, partition, position): every (source, partition) pair gets its
  // own seg_no, since offsets restart in each Kafka partition.
  const segRows: [string, number][] = []
  for (const seg of segments) {
    if (seg.type === 'file') segRows.push([seg.path, -1])
    else {
      const parts = [...new Set(seg.lines.map((l) => l.kafka?.partition ?? -1))].sort((a, b) => a - b)
      for (const p of parts) segRows.push([seg.source, p])
    }
  }
  const numbers = new Map(segRows.map(([source, part], i) => [`${part}:${source}`, i]))
  const segNo = (source: string, part: number) => {
    const n = numbers.get(`${part}:${source}`)
    if (n === undefined) throw new Error(`${source} (partition ${part}) is not a segment of this batch`)
    return n
  }

  for (const stream of ['customers', 'orders'] as const) {
    await createStagedLines(conn, stream, stage)
    const byDuckDb: FileSegment[] = []
    const byJs: FileSegment[] = []
    const inMemory: FileSegment[] = []
    for (const s of segments) {
      if (s.type !== 'file' || s.stream !== stream) continue
      if (s.bytes) inMemory.push(s)
      else if (!readInJs.has(s.path) && readByDuckDb(s)) byDuckDb.push(s)
      else byJs.push(s)
    }
    const lines = segments.filter((s): s is LinesSegment => s.type === 'lines' && s.stream === stream)
    // DuckDB opens the files by name: each must be the planned file before and after its read
    for (let i = 0; i < byDuckDb.length; i += FILES_PER_STATEMENT) {
      const group = byDuckDb.slice(i, i + FILES_PER_STATEMENT)
      const handles = await Promise.all(group.map((f) => openPlanned(f)))
      try {
        await stageFileSegments(conn, stream, group, segNo)
        for (const [j, fh] of handles.entries()) await stillPlanned(fh, group[j])
      } finally {
        await Promise.all(handles.map((fh) => fh.close()))
      }
    }
    // A file DuckDB did not read exactly as planned (it grew, or holds bytes read_csv splits
    // differently): its lines go, and JavaScript reads it.
    const mismatched = await verifyFileSegments(conn, stream, byDuckDb)
    if (mismatched.length) {
      await conn.run(`DELETE FROM ${stagedLines(stream)} WHERE source IN (${mismatched.map((m) => sqlString(m.path)).join(', ')})`)
      byJs.push(...mismatched)
    }
    if (byJs.length === 0 && lines.length === 0 && inMemory.length === 0) continue
    const writer = await LinesWriter.open(conn, stream, segNo, stage)
    try {
      // Many small files: several reads in flight hide the per-file open/stat/close latency.
      // Row order does not matter (processing order comes from seg_no and offsets).
      await forEachConcurrently(byJs, READS_IN_FLIGHT, (f) => readSegmentLines(f, (chunk) => writer.add(f.path, chunk)))
      for (const f of inMemory) writer.add(f.path, splitLines(f.bytes!, f.start))
      for (const l of lines) writer.add(l.source, l.lines)
    } catch (err) {
      writer.abandon()
      throw err
    }
    writer.finish()
  }
}

function fileFromError(err: unknown, segments: Segment[]): FileSegment[] {
  const msg = err instanceof Error ? err.message : String(err)
  const named = segments.filter((s): s is FileSegment => s.type === 'file' && msg.includes(s.path))
  return named.length ? named : segments.filter((s): s is FileSegment => s.type === 'file')
}

/**
 * Writes one planned batch atomically. A file DuckDB cannot read (invalid UTF-8, a NUL byte...)
 * is read in JavaScript on a second attempt, so odd input never stops the engine and never loses
 * a line. A file that changed under the read (InputChangedError) is for the caller to plan again.
 */
export async function writeBatch(lake: Lake, plan: PlannedBatch, settings: TransformSettings): Promise<CommittedBatch> {
  const readInJs = new Set<string>()
  let memoryMb = settings.memoryLimitMB
  for (let attempt = 0; ; attempt++) {
    try {
      await setMemoryLimit(lake, memoryMb)
      return await writeBatchOnce(lake, plan, settings, readInJs)
    } catch (err) {
      if (err instanceof InputChangedError) throw err
      // Most of DuckDB spills to disk beyond its limit; a batch that cannot is retried without
      // the limit rather than stopping the engine (the next batch has it again).
      if (/Out of Memory/i.test((err as Error).message) && memoryMb !== undefined && memoryMb !== UNLIMITED) {
        memoryMb = UNLIMITED
        continue
      }
      const files = fileFromError(err, plan.segments).filter((f) => !readInJs.has(f.path))
      if (attempt >= 2 || files.length === 0) throw err
      for (const f of files) readInJs.add(f.path)
    }
  }
}

/**
 * Where a batch of `bytes` stages its lines and orders: the lake's staging database for a batch
 * that fills a few of its row groups but not two of a temp table's (one core would parse,
 * score and insert all of it), temp tables otherwise. A larger batch is scanned in parallel
 * either way and costs less in memory; a small one is too quick to gain from it.
 */
export function stagingFor(lake: Lake, bytes: number): string | null {
  return lake.stage && bytes >= STAGE_MIN_BYTES && bytes <= STAGE_MAX_BYTES ? lake.stage : null
}
/** About 8,000 orders. */
const STAGE_MIN_BYTES = 4 * 1024 * 1024
/** About 120,000 orders: a temp table's row group holds 122,880 lines. */
const STAGE_MAX_BYTES = 64 * 1024 * 1024

const NO_ORDERS: StagedOrders = { read: 0, quarantined: 0, valid: 0, late: 0, duplicates: 0, alerts: 0, maxEventTs: null, watermark: null }

async function writeBatchOnce(lake: Lake, plan: PlannedBatch, settings: TransformSettings, readInJs: ReadonlySet<string>): Promise<CommittedBatch> {
  const conn = lake.writer
  const started = new Date()
  const stage = stagingFor(lake, plan.bytes)
  try {
    const head = await conn.runAndReadAll(`SELECT (SELECT coalesce(max(batch_id), 0) + 1 FROM batches),
      (SELECT value FROM lake_meta WHERE key = 'max_event_ts'), (SELECT epoch_ms(max(started_at)) FROM batches)`)
    const batchId = Number(head.getRows()[0][0])
    const previousMax = (head.getRows()[0][1] as string | null) ?? null
    const previousStart = head.getRows()[0][2] === null ? null : Number(head.getRows()[0][2])
    await stageSegments(lake, plan.segments, readInJs, stage)
    const rereadLines = await stageRereads(conn)
    // lines JavaScript already found bad (bad bytes, tombstones, over-long lines)
    const knownBad = Number(
      (await conn.runAndReadAll(`SELECT (SELECT count(error) FROM ${stagedLines('customers')}) + (SELECT count(error) FROM ${stagedLines('orders')})`)).getRows()[0][0]
    )
    const hasCustomers = plan.segments.some((s) => s.stream === 'customers')
    const hasOrders = plan.segments.some((s) => s.stream === 'orders')
    const customers = hasCustomers ? await stageCustomers(conn, settings, rereadLines > 0) : { read: 0, bad: 0 }
    const scored = hasOrders
      ? await prepareOrders(conn, { rows: batchRowsSql('orders', batchId), historyBefore: null, previousMaxEventTs: previousMax, stage }, settings, hasCustomers)
      : null
    // stageRereads already counted them: with none, nothing more to ask
    const rereads = rereadLines > 0 ? await countRereads(conn, { customers: hasCustomers, orders: hasOrders }) : NO_REREADS
    const events = [...(plan.events ?? []), ...rereads.events]

    await conn.run('BEGIN TRANSACTION')
    try {
      // The silver rows go straight into silver_orders, scored as they are made: staging them
      // first cost a copy of every row (~1.2 s of 300k orders). Whatever reads them afterwards
      // in this transaction (counts, windows, alerts) is cheap enough on one thread.
      const silverRows = `(SELECT * FROM silver_orders WHERE batch_id = ${batchId})`
      let orders: StagedOrders = { ...NO_ORDERS, maxEventTs: previousMax }
      if (scored) {
        // before customers are replaced below: enrichment reads them committed, on all cores
        const insert = scored.insertInto('silver_orders', ', now() AS processed_at')
        await conn.run(insert.sql, insert.values, insert.types)
        orders = await orderCounts(conn, silverRows, previousMax, settings)
        // the windows this batch's on-time orders fall in, recomputed exactly from silver, which holds them now
        const wm = watermarkSql(orders.maxEventTs, settings.watermarkMinutes)
        await stageWindows(conn, batchId, settings.windowMinutes, wm, `SELECT order_ts FROM ${silverRows} WHERE NOT is_late`, false)
      }
      await commitStaged(conn, batchId, {
        customers: hasCustomers,
        orders: hasOrders,
        fraudThreshold: settings.scoring.ruleset.threshold,
        shadowId: settings.scoring.shadow?.shadowId ?? null,
        watermarkSql: watermarkSql(orders.maxEventTs, settings.watermarkMinutes),
        rereads: rereads.lines > 0,
        silverRows
      })
      if (orders.alerts > 0 && settings.outbox?.length) await queueAlerts(conn, batchId, settings.outbox)
      const bookkeeping: string[] = []
      if (orders.maxEventTs) {
        bookkeeping.push(`INSERT INTO lake_meta VALUES ('max_event_ts', ${sqlString(orders.maxEventTs)})
          ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
      }
      await writeOffsets(conn, plan, batchId)
      const committedAt = new Date()
      const durationMs = committedAt.getTime() - started.getTime()
      const rowsRead = customers.read + orders.read + knownBad
      // bad lines read again after a rewind were quarantined (and counted) by their first reading
      const quarantined = customers.bad + orders.quarantined + knownBad - rereads.badOrders - rereads.badCustomers
      const seconds = Math.max(durationMs, 1) / 1000
      // Arrival rate: what this batch took in over the time since the previous batch started
      // (the first batch of a run with a backlog has no such interval: its processing time).
      const sincePrevious = previousStart === null ? null : (started.getTime() - previousStart) / 1000
      const arrivalSeconds = sincePrevious !== null && sincePrevious < 3600 ? Math.max(sincePrevious, 0.001) : seconds
      const result: CommittedBatch = {
        batchId,
        startedAt: started.toISOString(),
        committedAt: committedAt.toISOString(),
        durationMs,
        rowsRead,
        valid: orders.valid,
        quarantined,
        late: orders.late,
        duplicates: orders.duplicates,
        alerts: orders.alerts,
        inputRate: rowsRead / arrivalSeconds,
        processingRate: rowsRead / seconds,
        watermark: orders.watermark,
        maxEventTs: orders.maxEventTs,
        bytes: plan.bytes,
        lagMs: null,
        events,
        ...(rereads.lines > 0 ? { reread: { badOrders: rereads.badOrders, customers: rereads.customers } } : {})
      }
      bookkeeping.push(`INSERT INTO batches VALUES (${batchId}, TIMESTAMPTZ '${result.startedAt}', TIMESTAMPTZ '${result.committedAt}',
        ${durationMs}, ${rowsRead}, ${orders.valid}, ${quarantined}, ${orders.late}, ${orders.duplicates}, ${orders.alerts}, ${plan.bytes},
        ${result.inputRate}, ${result.processingRate}, ${orders.watermark ? `TIMESTAMPTZ '${orders.watermark}'` : 'NULL'},
        ${orders.maxEventTs ? `TIMESTAMPTZ '${orders.maxEventTs}'` : 'NULL'}, ${sqlString(offsetsJson(plan))}, ${sqlString(eventsJson({ ...plan, events }))}, 'live', NULL)`)
      await conn.run(bookkeeping.join(';\n'))
      await conn.run('COMMIT')
      const done = new Date()
      result.committedAt = done.toISOString()
      result.durationMs = done.getTime() - started.getTime()
      result.processingRate = rowsRead / (Math.max(result.durationMs, 1) / 1000)
      result.lagMs = plan.newestInputAt ? Math.max(0, done.getTime() - plan.newestInputAt.getTime()) : null
      return result
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined)
      throw err
    }
  } finally {
    await dropStaged(conn, lake.stage).catch(() => undefined)
  }
}
