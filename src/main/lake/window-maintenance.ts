import { sqlString, type Lake } from './lake'
import { recomputeWindows } from './batch-transform'

// order_windows holds one window size. When the configured size changes, the table is rebuilt
// from silver (the source of truth) in one transaction before the next batch runs.

export async function rebuildWindowsIfResized(lake: Lake, windowMinutes: number): Promise<boolean> {
  const conn = lake.writer
  const r = await conn.runAndReadAll(`SELECT value FROM lake_meta WHERE key = 'window_minutes'`)
  const current = r.getRows()[0]?.[0] as string | undefined
  if (current === String(windowMinutes)) return false
  await conn.run('BEGIN TRANSACTION')
  try {
    const meta = await conn.runAndReadAll(`SELECT value FROM lake_meta WHERE key IN ('max_event_ts')`)
    const maxTs = meta.getRows()[0]?.[0] as string | undefined
    const wmRow = await conn.runAndReadAll(`SELECT max(watermark)::VARCHAR FROM batches`)
    const wm = wmRow.getRows()[0]?.[0] as string | null
    await conn.run('DELETE FROM order_windows')
    if (maxTs) {
      const batch = await conn.runAndReadAll(`SELECT coalesce(max(batch_id), 0) FROM batches`)
      await recomputeWindows(
        conn,
        Number(batch.getRows()[0][0]),
        windowMinutes,
        wm ? `TIMESTAMPTZ '${wm}'` : 'NULL::TIMESTAMPTZ',
        'SELECT order_ts FROM silver_orders WHERE NOT is_late'
      )
    }
    await conn.run(`INSERT INTO lake_meta VALUES ('window_minutes', ${sqlString(String(windowMinutes))})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
    await conn.run('COMMIT')
    return true
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined)
    throw err
  }
}
