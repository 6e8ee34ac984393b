// What the ingest counters count, shown under the Pipeline tab's figures and on the header's.
// They add up the batch log (lake/queries.ts `totals`): ingest and re-validation batches; a replay
// re-derives lines ingest already counted, and a rewind record counts nothing.

export const TOTALS_DEFINITIONS = {
  lastBatch: 'newest entry of the batch log (any kind)',
  committed: 'when that entry committed',
  orders: 'valid orders ingested into silver: sum(batches.valid), replays left out',
  alerts: 'alerts raised at ingest: sum(batches.alerts), replays left out',
  late: 'valid orders older than the watermark when read: sum(batches.late)',
  duplicates: 'order lines whose order_id silver already held: sum(batches.duplicates)',
  quarantined: 'input lines rejected with a reason: sum(batches.quarantined)'
} as const
