import type { DuckDBConnection } from '@duckdb/node-api'

// The lake's side of the health monitor (engine/health-monitor.ts): the quarantine share of the
// last live batches. Replays and re-validations are not input arriving, so they do not count.

export interface QuarantineShare {
  /** Live batches looked at (at most the number asked for). */
  batches: number
  /** Input lines those batches read (orders and customers) and how many went to quarantine. */
  lines: number
  quarantined: number
}

/** The quarantine figures of the last `batches` live batches (by batch id), on any connection. */
export async function quarantineShare(conn: DuckDBConnection, batches: number): Promise<QuarantineShare> {
  const r = await conn.runAndReadAll(
    `SELECT count(*), coalesce(sum(rows_read), 0), coalesce(sum(quarantined), 0)
    FROM (SELECT rows_read, quarantined FROM batches WHERE coalesce(kind, 'live') = 'live' ORDER BY batch_id DESC LIMIT $1)`,
    [batches]
  )
  const [n, lines, quarantined] = r.getRows()[0]
  return { batches: Number(n), lines: Number(lines), quarantined: Number(quarantined) }
}
