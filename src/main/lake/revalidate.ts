import type { RevalidateResult } from '../../shared/dto'
import { ALERTS_FROM_SILVER_SQL, dropStaged, replaceWindowsSql, stageOrders, stageWindows, watermarkSql, type TransformSettings } from './batch-transform'
import { sqlString, type Lake } from './lake'
import { JS_REJECTED } from './replay'

// Re-validation of quarantined order lines whose cause was fixed (a currency rate added, a clock
// corrected): they are validated again with today's settings, as a batch of their own
// (kind = 'revalidate') that reads no input and moves no offset. One transaction: the now-valid
// lines enter silver (a line whose order_id silver already holds is a duplicate, as in any
// batch) and their quarantine rows are marked resolved by it, so a second re-validation finds
// nothing left to take; the still-bad lines keep their row with today's reason.

export type RevalidateSelector = { id: number } | { reason: string }

export async function revalidateQuarantine(lake: Lake, selector: RevalidateSelector, settings: TransformSettings): Promise<RevalidateResult> {
  const conn = lake.writer
  const which = 'id' in selector ? `id = ${Math.trunc(selector.id)}` : `reason = ${sqlString(selector.reason)}`
  // Lines JavaScript rejected are kept in bronze without the bytes that were wrong: nothing to validate again.
  const rows = `SELECT batch_id, source, byte_offset, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, raw, id::HUGEINT AS pos
    FROM quarantine WHERE kind = 'order' AND resolved_batch_id IS NULL AND raw IS NOT NULL AND NOT ${JS_REJECTED} AND ${which}`
  try {
    const head = (await conn.runAndReadAll(`SELECT (SELECT coalesce(max(batch_id), 0) + 1 FROM batches), (SELECT count(*) FROM (${rows})),
      (SELECT value FROM lake_meta WHERE key = 'max_event_ts')`)).getRows()[0]
    const batchId = Number(head[0])
    if (Number(head[1]) === 0) return { batchId: null, lines: 0, valid: 0, duplicates: 0, stillBad: 0, alerts: 0 }
    const previousMax = (head[2] as string | null) ?? null
    const started = new Date()
    // the lines enter silver as this batch's, judged like lines arriving now: duplicates against
    // all of silver, late against the lake's watermark
    const input = `SELECT ${batchId}::BIGINT AS batch_id, * EXCLUDE (batch_id) FROM (${rows})`
    const orders = await stageOrders(conn, { rows: input, historyBefore: null, previousMaxEventTs: previousMax }, settings, false)
    const wm = watermarkSql(orders.maxEventTs, settings.watermarkMinutes)
    await stageWindows(conn, batchId, settings.windowMinutes, wm, `SELECT order_ts FROM _silver WHERE NOT is_late`, true)

    await conn.run('BEGIN TRANSACTION')
    try {
      await conn.run(`INSERT INTO silver_orders BY NAME SELECT *, now() AS processed_at FROM _silver`)
      await conn.run(ALERTS_FROM_SILVER_SQL, [settings.scoring.ruleset.threshold])
      for (const sql of replaceWindowsSql(wm)) await conn.run(sql)
      // valid lines (duplicates included) are resolved by this batch; the others get today's reason
      await conn.run(`UPDATE quarantine SET resolved_batch_id = ${batchId} WHERE id IN (SELECT pos FROM _o WHERE reason IS NULL)`)
      await conn.run(`UPDATE quarantine SET reason = o.reason FROM _o o WHERE quarantine.id = o.pos AND o.reason IS NOT NULL`)
      if (orders.maxEventTs) {
        await conn.run(`INSERT INTO lake_meta VALUES ('max_event_ts', ${sqlString(orders.maxEventTs)}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
      }
      // the still-bad lines were quarantined once already: `quarantined` stays 0, the record says how many
      const record = { revalidate: selector, stillBad: orders.quarantined }
      const committed = new Date()
      const ms = Math.max(committed.getTime() - started.getTime(), 1)
      const rate = orders.read / (ms / 1000)
      await conn.run(`INSERT INTO batches (batch_id, started_at, committed_at, duration_ms, rows_read, valid, quarantined, late, duplicates, alerts,
          bytes_read, input_rate, processing_rate, watermark, max_event_ts, offsets, events, kind, replay)
        VALUES (${batchId}, TIMESTAMPTZ '${started.toISOString()}', TIMESTAMPTZ '${committed.toISOString()}', ${ms}, ${orders.read}, ${orders.valid},
          0, ${orders.late}, ${orders.duplicates}, ${orders.alerts}, 0, ${rate}, ${rate}, ${wm},
          ${orders.maxEventTs ? `TIMESTAMPTZ '${orders.maxEventTs}'` : 'NULL'}, '[]', '[]', 'revalidate', ${sqlString(JSON.stringify(record))})`)
      await conn.run('COMMIT')
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined)
      throw err
    }
    return { batchId, lines: orders.read, valid: orders.valid, duplicates: orders.duplicates, stillBad: orders.quarantined, alerts: orders.alerts }
  } finally {
    await dropStaged(conn).catch(() => undefined)
  }
}
