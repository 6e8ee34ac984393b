import type { DuckDBConnection } from '@duckdb/node-api'
import { recomputeWindows } from './batch-transform'
import type { Lake } from './lake'

// Before event times were checked against the clock (schema ≤ 3), one order dated years ahead
// became the lake's newest event time: the watermark jumped with it, every later order was
// flagged late and kept out of the windows, and the dashboard's "now" moved to that year. Such
// an order would be quarantined today, so the repair does to the lake what today's rules would
// have done, in one transaction:
// - orders whose order_ts was more than maxFutureSkewMinutes ahead of the clock when their batch
//   wrote them (processed_at) move from silver_orders (and fraud_alerts) to quarantine, with
//   their raw line from bronze;
// - lateness is decided again for the orders of later batches, against the watermark those
//   batches would have had (the newest plausible order_ts before them, minus the lateness each
//   batch allowed, which batches records as max_event_ts − watermark);
// - the windows of the orders moved or no longer late are recomputed from silver, every
//   window's is_final is set against the new watermark, and the batches' counts, watermark and
//   max_event_ts from the first poisoned batch on are recomputed from what silver now holds;
// - lake_meta.max_event_ts is the newest order_ts left in silver.
// It runs whenever a lake is opened to run or to be read (idempotent: a sound lake costs one
// scan of two silver columns) and returns a warning for the person running it.

const utc = (col: string) => `strftime(${col} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`

async function one(conn: DuckDBConnection, sql: string): Promise<unknown[]> {
  return (await conn.runAndReadAll(sql)).getRows()[0] ?? []
}

export interface EventTimeRepairOptions {
  maxFutureSkewMinutes: number
  /** Lateness allowed by batches whose record does not say (no orders). */
  watermarkMinutes: number
}

/** Repairs a lake poisoned by future event times; returns a warning saying what it did, or null. */
export async function repairFutureEventTimes(lake: Lake, opts: EventTimeRepairOptions): Promise<string | null> {
  const conn = lake.writer
  const skew = `to_microseconds(${Math.round(opts.maxFutureSkewMinutes * 60e6)})`
  const poisoned = `order_ts > processed_at + ${skew}`
  const [count] = await one(conn, `SELECT count(*) FROM silver_orders WHERE ${poisoned}`)
  if (Number(count) === 0) return null

  await conn.run('BEGIN TRANSACTION')
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE _poisoned AS
      SELECT order_id, batch_id, order_ts, processed_at, source, source_position, is_late FROM silver_orders WHERE ${poisoned}`)
    const [n, firstBatch, newest, newestBatch, storedMax] = await one(
      conn,
      `SELECT count(*), min(batch_id), ${utc('max(order_ts)')}, arg_max(batch_id, order_ts),
        (SELECT ${utc('TRY_CAST(value AS TIMESTAMPTZ)')} FROM lake_meta WHERE key = 'max_event_ts') FROM _poisoned`
    )
    const fp = Number(firstBatch)
    const limit = `${opts.maxFutureSkewMinutes} min`
    const repairedAt = new Date().toISOString()
    await conn.run(`INSERT INTO quarantine (batch_id, kind, source, byte_offset, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, reason, raw, ingested_at)
      SELECT p.batch_id, 'order', p.source, b.byte_offset, b.kafka_partition, b.kafka_offset, b.kafka_key, b.kafka_timestamp,
        'order_ts ' || ${utc('p.order_ts')} || ' was more than ${limit} ahead of this machine''s clock at ingest ('
          || ${utc('p.processed_at')} || '); the limit is pipeline.maxFutureSkewMinutes = ${opts.maxFutureSkewMinutes}'
          || ' (moved out of silver_orders when the lake was repaired at ${repairedAt})',
        b.raw, coalesce(b.ingested_at, p.processed_at)
      FROM _poisoned p LEFT JOIN bronze_orders b ON b.batch_id = p.batch_id AND b.source = p.source
        AND p.source_position = CASE WHEN b.kafka_partition IS NOT NULL THEN 'partition ' || b.kafka_partition || ' offset ' || b.kafka_offset
          ELSE 'byte ' || b.byte_offset END`)
    await conn.run(`DELETE FROM fraud_alerts WHERE order_id IN (SELECT order_id FROM _poisoned)`)
    await conn.run(`DELETE FROM silver_orders WHERE order_id IN (SELECT order_id FROM _poisoned)`)

    // The newest plausible event time before and after each batch, and the lateness it allowed.
    await conn.run(`CREATE OR REPLACE TEMP TABLE _after AS
      WITH per AS (SELECT batch_id, max(order_ts) AS m FROM silver_orders GROUP BY batch_id),
      b AS (SELECT b.batch_id, per.m, coalesce(b.max_event_ts - b.watermark, to_microseconds(${Math.round(opts.watermarkMinutes * 60e6)})) AS allowed
        FROM batches b LEFT JOIN per USING (batch_id))
      SELECT batch_id, allowed,
        max(m) OVER (ORDER BY batch_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_max,
        max(m) OVER (ORDER BY batch_id ROWS UNBOUNDED PRECEDING) AS after_max
      FROM b`)
    await conn.run(`CREATE OR REPLACE TEMP TABLE _unlate AS
      SELECT s.order_id, s.order_ts FROM silver_orders s JOIN _after a USING (batch_id)
      WHERE s.batch_id > ${fp} AND s.is_late AND (a.before_max IS NULL OR s.order_ts >= a.before_max - a.allowed)`)
    const [unlate] = await one(conn, `SELECT count(*) FROM _unlate`)
    await conn.run(`UPDATE silver_orders SET is_late = false WHERE order_id IN (SELECT order_id FROM _unlate)`)
    await conn.run(`UPDATE batches SET max_event_ts = a.after_max, watermark = a.after_max - a.allowed,
        valid = (SELECT count(*) FROM silver_orders s WHERE s.batch_id = batches.batch_id),
        late = (SELECT count(*) FROM silver_orders s WHERE s.batch_id = batches.batch_id AND s.is_late),
        alerts = (SELECT count(*) FROM fraud_alerts f WHERE f.batch_id = batches.batch_id),
        quarantined = batches.quarantined + (SELECT count(*) FROM _poisoned p WHERE p.batch_id = batches.batch_id)
      FROM _after a WHERE a.batch_id = batches.batch_id AND batches.batch_id >= ${fp}`)

    const [maxTs, lastBatch, width] = await one(
      conn,
      `SELECT (SELECT max(order_ts) FROM silver_orders)::VARCHAR, (SELECT coalesce(max(batch_id), 0) FROM batches),
        (SELECT value FROM lake_meta WHERE key = 'window_minutes')`
    )
    if (maxTs === null) await conn.run(`DELETE FROM lake_meta WHERE key = 'max_event_ts'`)
    else {
      await conn.run(`INSERT INTO lake_meta VALUES ('max_event_ts', '${String(maxTs)}') ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
    }
    const [wmMinutes] = await one(conn, `SELECT epoch_us(allowed) / 60e6 FROM _after ORDER BY batch_id DESC LIMIT 1`)
    const watermark =
      maxTs === null ? 'NULL::TIMESTAMPTZ' : `(TIMESTAMPTZ '${String(maxTs)}' - to_microseconds(${Math.round(Number(wmMinutes ?? opts.watermarkMinutes) * 60e6)}))`
    await recomputeWindows(
      conn,
      Number(lastBatch),
      Number(width ?? 1),
      watermark,
      `SELECT order_ts FROM _poisoned WHERE NOT is_late UNION ALL SELECT order_ts FROM _unlate`
    )
    await conn.run(`UPDATE order_windows SET is_final = coalesce(window_end <= ${watermark}, false)`)
    const [newMax] = await one(conn, `SELECT ${utc('max(order_ts)')} FROM silver_orders`)
    await conn.run('DROP TABLE _poisoned; DROP TABLE _after; DROP TABLE _unlate')
    await conn.run('COMMIT')

    const orders = Number(n) === 1 ? '1 order' : `${Number(n)} orders`
    const unlateN = Number(unlate)
    return (
      `lake ${lake.file} repaired: ${orders} had an order_ts more than ${limit} ahead of the clock when ${Number(n) === 1 ? 'it was' : 'they were'} ingested ` +
      `(the newest ${String(newest)}, batch ${Number(newestBatch)}); moved to quarantine. The newest event time, which drives the watermark, ` +
      `is now ${newMax === null ? 'unset (no orders left)' : String(newMax)} (it was ${String(storedMax ?? newest)})` +
      (unlateN ? `; ${unlateN === 1 ? '1 order' : `${unlateN} orders`} late only because of ${Number(n) === 1 ? 'it' : 'them'} are on time again` : '') +
      `, and the windows involved were recomputed.`
    )
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined)
    throw err
  }
}
