import type { DuckDBConnection } from '@duckdb/node-api'

// The lake's running totals for /metrics (api/metrics.ts). They are read from the lake at every
// scrape rather than counted in memory: the counters then equal the lake after a restart, after
// a repair that moved orders to quarantine, and after a Start that switched lakes, with nothing
// to keep in step. `batches` has one row per batch, so this stays cheap on a lake of any size.
// A replay batch derives again what earlier batches counted (docs/LAKE.md, Replay): counting it
// too would count those orders twice, so the totals are those of the ingesting batches (live and
// revalidate), as the dashboard's header counts them. A rewind record (lake/rewind.ts) reads
// nothing: it is not a batch of ingest either, and its time is not the last batch's.

export interface LakeFigures {
  /** Valid orders committed to silver (the sum of `batches.valid` over live and revalidate batches). */
  orders: number
  alerts: number
  /** Lines quarantined, orders and customers. */
  quarantined: number
  late: number
  duplicates: number
  batches: number
  /** Unix seconds, or null before the first batch (or before the first order). */
  lastBatchAt: number | null
  watermark: number | null
  maxEventTs: number | null
}

const seconds = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v) / 1000)

export async function lakeFigures(conn: DuckDBConnection): Promise<LakeFigures> {
  const reader = await conn.runAndReadAll(`
    SELECT coalesce(sum(valid), 0)::DOUBLE, coalesce(sum(alerts), 0)::DOUBLE, coalesce(sum(quarantined), 0)::DOUBLE,
      coalesce(sum(late), 0)::DOUBLE, coalesce(sum(duplicates), 0)::DOUBLE, count(*)::DOUBLE,
      epoch_ms(max(committed_at))::DOUBLE,
      (SELECT epoch_ms(watermark)::DOUBLE FROM batches WHERE kind IN ('live', 'revalidate') ORDER BY batch_id DESC LIMIT 1),
      (SELECT epoch_ms(TRY_CAST(value AS TIMESTAMPTZ))::DOUBLE FROM lake_meta WHERE key = 'max_event_ts')
    FROM batches WHERE kind IN ('live', 'revalidate')`)
  const [orders, alerts, quarantined, late, duplicates, batches, lastBatchAt, watermark, maxEventTs] = reader.getRows()[0]
  return {
    orders: Number(orders),
    alerts: Number(alerts),
    quarantined: Number(quarantined),
    late: Number(late),
    duplicates: Number(duplicates),
    batches: Number(batches),
    lastBatchAt: seconds(lastBatchAt),
    watermark: seconds(watermark),
    maxEventTs: seconds(maxEventTs)
  }
}
