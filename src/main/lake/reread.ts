import type { DuckDBConnection } from '@duckdb/node-api'
import type { BatchEvent } from '../../shared/dto'
import type { Stream } from '../sources/source'
import { stagedLines } from './bronze-ingest'

// Lines a live batch reads again after a rewind (lake/rewind.ts, docs/EVENTS.md): a staged line
// of a rewound source whose position and bytes bronze already holds. Bronze records it again (it
// was read again, by this batch), but it must not undo or repeat what its first reading did:
// it replaces no customer profile with an older one and is not quarantined a second time. An
// order line needs nothing here: silver already holds its order_id, so it is a duplicate.
// Only lines below the highest offset a rewind of their source started from are compared with
// bronze (nothing beyond it was ever read), so a lake never rewound, and lines appended after
// the rewound part, pay nothing.

/**
 * `_reread`: (stream, source, part, position) of the batch's re-read lines; empty when none.
 * Returns how many it holds (0: the batch's SQL need not look at it).
 */
export async function stageRereads(conn: DuckDBConnection): Promise<number> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE _reread (stream VARCHAR, source VARCHAR, part INTEGER, position BIGINT)`)
  const rewound = await conn.runAndReadAll(`SELECT count(*) FROM batches WHERE kind = 'rewind'`)
  if (Number(rewound.getRows()[0][0]) === 0) return 0
  // per source and partition (-1: a file), the end of what had been read when it was rewound
  await conn.run(`CREATE OR REPLACE TEMP TABLE _rewound AS
    SELECT json_extract_string(replay, '$.rewind.source') AS source, coalesce(json_extract(replay, '$.rewind.partition')::INTEGER, -1) AS part,
      max(json_extract(replay, '$.rewind.from')::BIGINT) AS upto
    FROM batches WHERE kind = 'rewind' GROUP BY ALL`)
  try {
    for (const stream of ['customers', 'orders'] as const) {
      await conn.run(`CREATE OR REPLACE TEMP TABLE _candidates AS
        SELECT l.source, l.byte_offset, l.kafka_partition, l.kafka_offset, l.raw FROM ${stagedLines(stream)} l
        JOIN _rewound w ON w.source = l.source AND w.part = coalesce(l.kafka_partition, -1) AND coalesce(l.kafka_offset, l.byte_offset) < w.upto`)
      const n = Number((await conn.runAndReadAll(`SELECT count(*) FROM _candidates`)).getRows()[0][0])
      if (n === 0) continue
      await conn.run(`INSERT INTO _reread
        SELECT '${stream}', c.source, coalesce(c.kafka_partition, -1), coalesce(c.kafka_offset, c.byte_offset)
        FROM _candidates c
        WHERE EXISTS (SELECT 1 FROM bronze_${stream} b
          WHERE b.source = c.source AND b.source IN (SELECT DISTINCT source FROM _candidates) AND b.byte_offset IS NOT DISTINCT FROM c.byte_offset
            AND b.kafka_partition IS NOT DISTINCT FROM c.kafka_partition AND b.kafka_offset IS NOT DISTINCT FROM c.kafka_offset
            AND b.raw IS NOT DISTINCT FROM c.raw)`)
    }
  } finally {
    await conn.run(`DROP TABLE IF EXISTS _candidates; DROP TABLE IF EXISTS _rewound`)
  }
  return Number((await conn.runAndReadAll(`SELECT count(*) FROM _reread`)).getRows()[0][0])
}

/** SQL: the row `alias` (with bronze's position columns) of `stream` is a re-read line. */
export function isReread(stream: Stream, alias: string): string {
  return `EXISTS (SELECT 1 FROM _reread r WHERE r.stream = '${stream}' AND r.source = ${alias}.source
    AND r.part = coalesce(${alias}.kafka_partition, -1) AND r.position = coalesce(${alias}.kafka_offset, ${alias}.byte_offset))`
}

export interface Rereads {
  lines: number
  /** Re-read lines that are bad: not quarantined again (their first reading did), per stream. */
  badOrders: number
  badCustomers: number
  /** Re-read customer lines, valid or not: none replaces a stored profile. */
  customers: number
  /** One `reread` event per source read again. */
  events: BatchEvent[]
}

export const NO_REREADS: Rereads = { lines: 0, badOrders: 0, badCustomers: 0, customers: 0, events: [] }

/** What `_reread` holds, after the batch staged customers (`_c`) and orders (`_o`) as `staged` says. */
export async function countRereads(conn: DuckDBConnection, staged: { customers: boolean; orders: boolean }): Promise<Rereads> {
  const per = await conn.runAndReadAll(`SELECT source, count(*)::DOUBLE FROM _reread GROUP BY source ORDER BY source`)
  const rows = per.getRows()
  if (rows.length === 0) return NO_REREADS
  const bad = (s: Stream, validated: boolean, table: string) =>
    [`SELECT count(*) FROM ${stagedLines(s)} x WHERE x.error IS NOT NULL AND ${isReread(s, 'x')}`]
      .concat(validated ? [`SELECT count(*) FROM ${table} x WHERE x.reason IS NOT NULL AND ${isReread(s, 'x')}`] : [])
      .map((q) => `(${q})`)
      .join(' + ')
  const [badOrders, badCustomers, customers] = (
    await conn.runAndReadAll(`SELECT (${bad('orders', staged.orders, '_o')})::DOUBLE, (${bad('customers', staged.customers, '_c')})::DOUBLE,
      (SELECT count(*) FROM _reread WHERE stream = 'customers')::DOUBLE`)
  ).getRows()[0].map(Number)
  const lines = rows.reduce((t, [, c]) => t + Number(c), 0)
  const events: BatchEvent[] = rows.map(([source, c]) => ({
    kind: 'reread',
    path: String(source),
    message:
      `${Number(c)} lines of ${String(source)} read again after a rewind (bronze already held them): orders silver holds count as duplicates, ` +
      `no customer profile is replaced by them, and bad lines are not quarantined again`
  }))
  return { lines, badOrders, badCustomers, customers, events }
}
