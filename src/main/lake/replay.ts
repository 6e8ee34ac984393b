import type { DuckDBConnection } from '@duckdb/node-api'
import type { ReplayChunkDone, ReplaySummary } from '../../shared/dto'
import { ALERTS_FROM_SILVER_SQL, dropStaged, recomputeWindows, stageOrders, watermarkSql, type TransformSettings } from './batch-transform'
import { sqlString, type Lake } from './lake'

// Replay (docs/LAKE.md, "Replay"): the order lines of original batches, read back from bronze,
// go through the live path's staging SQL again with today's settings and ruleset. Chunks of
// consecutive batches are re-derived in their processing order, one transaction each: a chunk is
// either replayed or as it was, and running the same replay again redoes every chunk to the same
// result (idempotent), so a replay cut short is completed by running it again. Bronze,
// customers and source_offsets are never written.

export interface ReplayRange {
  /** Original batches committed at or after this time (ISO), and at or before `to`. */
  from?: string
  to?: string
}

export interface ReplayOptions extends ReplayRange {
  settings: TransformSettings
  /** At most this many original batches per chunk (and at most MAX_CHUNK_LINES lines, unless one batch holds more). */
  chunkBatches?: number
  onChunk?: (p: ReplayChunkDone) => void
}


const MAX_CHUNK_LINES = 1_000_000
const DEFAULT_CHUNK_BATCHES = 64

// Lines JavaScript rejected before validation (file-lines.ts, folder-source.ts, kafka-source.ts):
// bronze keeps them with replaced bytes, or only their head, so validating bronze again would not
// see what was wrong with them. Their quarantine rows stay as they are.
export const JS_REJECTED = `(reason LIKE 'line over 1 MiB%' OR reason LIKE 'line is not valid UTF-8%' OR reason LIKE 'tombstone:%'
  OR reason = 'empty message value' OR reason LIKE 'message value over 1 MiB%' OR reason LIKE 'message value is not valid UTF-8%')`

/**
 * The staged order line `o` was read again after a rewind of its source (lake/reread.ts): bronze
 * holds the same line at the same position from a batch before that rewind.
 */
const REREAD_IN_BRONZE = `EXISTS (SELECT 1 FROM batches w JOIN bronze_orders e ON e.batch_id < w.batch_id
  WHERE w.kind = 'rewind' AND w.batch_id < o.batch_id AND json_extract_string(w.replay, '$.rewind.source') = o.source
    AND e.source = o.source AND e.byte_offset IS NOT DISTINCT FROM o.byte_offset AND e.kafka_partition IS NOT DISTINCT FROM o.kafka_partition
    AND e.kafka_offset IS NOT DISTINCT FROM o.kafka_offset AND e.raw = o.raw)`

/** Original batches with order lines in the range, in processing order, with their line counts. */
async function originalBatches(conn: DuckDBConnection, range: ReplayRange): Promise<{ batchId: number; lines: number }[]> {
  const conds = [`b.kind = 'live'`]
  if (range.from) conds.push(`b.committed_at >= ${sqlString(range.from)}::TIMESTAMPTZ`)
  if (range.to) conds.push(`b.committed_at <= ${sqlString(range.to)}::TIMESTAMPTZ`)
  const r = await conn.runAndReadAll(`SELECT b.batch_id, count(*) FROM batches b JOIN bronze_orders o USING (batch_id)
    WHERE ${conds.join(' AND ')} GROUP BY b.batch_id ORDER BY b.batch_id`)
  return r.getRows().map(([id, n]) => ({ batchId: Number(id), lines: Number(n) }))
}

/** Batches that own silver rows without bronze lines of their own (re-validations), in order. */
async function revalidations(conn: DuckDBConnection): Promise<number[]> {
  const r = await conn.runAndReadAll(`SELECT batch_id FROM batches WHERE kind = 'revalidate' ORDER BY batch_id`)
  return r.getRows().map(([id]) => Number(id))
}

/**
 * Consecutive batches per chunk. A chunk never spans a re-validation: its silver rows were
 * processed between the batches around it, and a chunk sees only the silver of the batches
 * before its first one (and deletes later duplicates after its last one).
 */
function chunked(batches: { batchId: number; lines: number }[], maxBatches: number, walls: number[]): number[][] {
  const chunks: number[][] = []
  let cur: number[] = []
  let lines = 0
  for (const b of batches) {
    const last = cur[cur.length - 1]
    const wall = cur.length > 0 && walls.some((w) => w > last && w < b.batchId)
    if (cur.length && (wall || cur.length >= maxBatches || lines + b.lines > MAX_CHUNK_LINES)) {
      chunks.push(cur)
      cur = []
      lines = 0
    }
    cur.push(b.batchId)
    lines += b.lines
  }
  if (cur.length) chunks.push(cur)
  return chunks
}

/**
 * The chunk's order lines from bronze, in the order their batch processed them: by batch, then
 * segment (the position of the file, or Kafka topic/partition, in the batch's `offsets`, which
 * lists them in plan order), then position. `pos` orders across batches as the live path's does
 * within one.
 */
async function stageChunkLines(conn: DuckDBConnection, ids: number[]): Promise<void> {
  const inChunk = `IN (${ids.join(', ')})`
  await conn.run(`CREATE OR REPLACE TEMP TABLE _replay_lines AS
    WITH k AS (SELECT batch_id, json_extract_string(offsets, '$[*].key') AS keys FROM batches WHERE batch_id ${inChunk}),
    kept AS (SELECT batch_id, source, coalesce(kafka_partition, -1) AS part, coalesce(kafka_offset, byte_offset) AS off
      FROM quarantine WHERE batch_id ${inChunk} AND kind = 'order' AND ${JS_REJECTED})
    SELECT b.batch_id, b.source, b.byte_offset, b.kafka_partition, b.kafka_offset, b.kafka_key, b.kafka_timestamp, b.raw,
      b.batch_id::HUGEINT * 295147905179352825856
        + coalesce(list_position(k.keys, CASE WHEN b.kafka_partition IS NULL THEN b.source ELSE b.source || '/' || b.kafka_partition END), 1048575)::HUGEINT * 281474976710656
        + coalesce(b.kafka_offset, b.byte_offset, 0) AS pos
    FROM bronze_orders b JOIN k USING (batch_id)
    WHERE b.batch_id ${inChunk} AND NOT EXISTS (SELECT 1 FROM kept q WHERE q.batch_id = b.batch_id AND q.source = b.source
      AND q.part = coalesce(b.kafka_partition, -1) AND q.off IS NOT DISTINCT FROM coalesce(b.kafka_offset, b.byte_offset))`)
}

async function one(conn: DuckDBConnection, sql: string): Promise<unknown> {
  return (await conn.runAndReadAll(sql)).getRows()[0]?.[0] ?? null
}

export async function replayLake(lake: Lake, opts: ReplayOptions): Promise<ReplaySummary> {
  const conn = lake.writer
  const batches = await originalBatches(conn, opts)
  const chunks = chunked(batches, opts.chunkBatches ?? DEFAULT_CHUNK_BATCHES, await revalidations(conn))
  const summary: ReplaySummary = { replayId: null, chunks: chunks.length, batches: batches.length, lines: 0, valid: 0 }
  for (const [i, ids] of chunks.entries()) {
    const done = await replayChunk(lake, ids, opts, { replayId: summary.replayId, chunk: i + 1, chunks: chunks.length })
    summary.replayId ??= done.replayId
    summary.lines += done.lines
    summary.valid += done.valid
    opts.onChunk?.(done)
  }
  return summary
}

async function replayChunk(
  lake: Lake,
  ids: number[],
  opts: ReplayOptions,
  at: { replayId: number | null; chunk: number; chunks: number }
): Promise<ReplayChunkDone> {
  const conn = lake.writer
  const { settings } = opts
  const lo = ids[0]
  const hi = ids[ids.length - 1]
  const inChunk = `IN (${ids.join(', ')})`
  const started = new Date()
  try {
    const batchId = Number(await one(conn, `SELECT coalesce(max(batch_id), 0) + 1 FROM batches`))
    const replayId = at.replayId ?? batchId
    const previousMax = (await one(conn, `SELECT max(order_ts)::VARCHAR FROM silver_orders WHERE batch_id < ${lo}`)) as string | null
    await stageChunkLines(conn, ids)
    const reread = Number(await one(conn, `SELECT count(*) FROM batches WHERE kind = 'rewind'`)) > 0 ? REREAD_IN_BRONZE : 'false'
    const orders = await stageOrders(conn, { rows: 'SELECT * FROM _replay_lines', historyBefore: lo, previousMaxEventTs: previousMax }, settings, false)
    // What the chunk replaces: its batches' silver rows; rows of later batches whose order_id is
    // now valid in the chunk (processed first, the chunk's line wins; a fresh ingest would have
    // counted the later line as a duplicate); and rows a re-validation took from the chunk's
    // lines (the line is judged again here, under its own batch). Their windows are recomputed.
    await conn.run(`CREATE OR REPLACE TEMP TABLE _replaced AS
      SELECT order_id, order_ts FROM silver_orders s
      WHERE batch_id ${inChunk} OR (batch_id > ${hi} AND order_id IN (SELECT order_id FROM _silver))
        OR (batch_id IN (SELECT batch_id FROM batches WHERE kind = 'revalidate') AND EXISTS (SELECT 1 FROM _replay_lines l
          WHERE l.source = s.source AND s.source_position = CASE WHEN l.kafka_partition IS NOT NULL
            THEN 'partition ' || l.kafka_partition || ' offset ' || l.kafka_offset ELSE 'byte ' || l.byte_offset END))`)

    await conn.run('BEGIN TRANSACTION')
    try {
      await conn.run(`DELETE FROM fraud_alerts WHERE order_id IN (SELECT order_id FROM _replaced)`)
      // _replaced holds at most one row per order_id: silver does
      await conn.run(`DELETE FROM silver_orders WHERE order_id IN (SELECT order_id FROM _replaced)`)
      await conn.run(`DELETE FROM quarantine WHERE batch_id ${inChunk} AND kind = 'order' AND NOT ${JS_REJECTED}`)
      await conn.run(`INSERT INTO silver_orders BY NAME SELECT *, now() AS processed_at FROM _silver`)
      await conn.run(ALERTS_FROM_SILVER_SQL, [settings.scoring.ruleset.threshold])
      // a bad line a batch read again after a rewind was quarantined under the batch that first read it
      await conn.run(`INSERT INTO quarantine (batch_id, kind, source, byte_offset, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, reason, raw, ingested_at)
        SELECT o.batch_id, 'order', o.source, o.byte_offset, o.kafka_partition, o.kafka_offset, o.kafka_key, o.kafka_timestamp, o.reason, o.raw, b.ingested_at
        FROM _o o JOIN (SELECT batch_id, min(ingested_at) AS ingested_at FROM bronze_orders WHERE batch_id ${inChunk} GROUP BY batch_id) b USING (batch_id)
        WHERE o.reason IS NOT NULL AND NOT ${reread}`)
      const rereadBad = Number(await one(conn, `SELECT count(*) FROM _o o WHERE o.reason IS NOT NULL AND ${reread}`))
      // the event-time high-water mark is silver's newest order, whichever batch holds it
      const maxTs = (await one(conn, `SELECT max(order_ts)::VARCHAR FROM silver_orders`)) as string | null
      const wm = watermarkSql(maxTs, settings.watermarkMinutes)
      await recomputeWindows(conn, batchId, settings.windowMinutes, wm, `SELECT order_ts FROM _replaced UNION ALL SELECT order_ts FROM _silver`)
      if (maxTs) {
        await conn.run(`INSERT INTO lake_meta VALUES ('max_event_ts', ${sqlString(maxTs)}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
      }
      const done: ReplayChunkDone = {
        replayId,
        chunk: at.chunk,
        chunks: at.chunks,
        batchId,
        batches: [lo, hi],
        lines: orders.read,
        valid: orders.valid,
        quarantined: orders.quarantined - rereadBad,
        late: orders.late,
        duplicates: orders.duplicates,
        alerts: orders.alerts
      }
      const replay = {
        replayId,
        from: opts.from ?? null,
        to: opts.to ?? null,
        chunk: at.chunk,
        chunks: at.chunks,
        batches: ids,
        rulesetVersion: settings.scoring.version
      }
      const committed = new Date()
      const ms = Math.max(committed.getTime() - started.getTime(), 1)
      const rate = orders.read / (ms / 1000)
      await conn.run(`INSERT INTO batches (batch_id, started_at, committed_at, duration_ms, rows_read, valid, quarantined, late, duplicates, alerts,
          bytes_read, input_rate, processing_rate, watermark, max_event_ts, offsets, events, kind, replay)
        VALUES (${batchId}, TIMESTAMPTZ '${started.toISOString()}', TIMESTAMPTZ '${committed.toISOString()}', ${ms}, ${orders.read}, ${orders.valid},
          ${done.quarantined}, ${orders.late}, ${orders.duplicates}, ${orders.alerts}, 0, ${rate}, ${rate}, ${wm}, ${maxTs ? `TIMESTAMPTZ '${maxTs}'` : 'NULL'},
          '[]', '[]', 'replay', ${sqlString(JSON.stringify(replay))})`)
      await conn.run('COMMIT')
      return done
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined)
      throw err
    }
  } finally {
    await conn.run('DROP TABLE IF EXISTS _replay_lines; DROP TABLE IF EXISTS _replaced').catch(() => undefined)
    await dropStaged(conn).catch(() => undefined)
  }
}
