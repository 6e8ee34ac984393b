import type { DuckDBConnection } from '@duckdb/node-api'
import type { PlannedBatch } from '../sources/source'
import { sqlString, type Lake } from './lake'

// `source_offsets` is the record of progress: one row per (source kind, key) with the next offset
// and, for files, the identity of the file it belongs to (sources/file-identity.ts). Rows are
// written and deleted only inside a batch's transaction, with the data they describe.

/** Above this many offsets they go through an appender: a VALUES list of 10,000 rows took ~1 s to parse. */
const APPEND_OFFSETS_ABOVE = 64

/**
 * Stores `plan`'s offsets with their identities and deletes the offsets it forgets (files that
 * are gone), in batch `batchId`'s transaction on `conn`.
 */
export async function writeOffsets(conn: DuckDBConnection, plan: PlannedBatch, batchId: number): Promise<void> {
  if (plan.offsets.length <= APPEND_OFFSETS_ABOVE) {
    for (const sql of offsetStatements(plan, batchId)) await conn.run(sql)
    return
  }
  const forgetOnly = offsetStatements({ ...plan, offsets: [] }, batchId)
  for (const sql of forgetOnly) await conn.run(sql)
  await conn.run(`CREATE OR REPLACE TEMP TABLE _offsets (source_kind VARCHAR, key VARCHAR, next_offset BIGINT, identity VARCHAR)`)
  const app = await conn.createAppender('_offsets', 'main', 'temp')
  try {
    for (const o of plan.offsets) {
      app.appendVarchar(o.sourceKind)
      app.appendVarchar(o.key)
      app.appendBigInt(o.offset)
      if (o.identity === undefined) app.appendNull()
      else app.appendVarchar(o.identity)
      app.endRow()
    }
    app.flushSync()
  } finally {
    app.closeSync()
  }
  // a key planned twice would make ON CONFLICT fail; the last one wins, as in the VALUES form
  await conn.run(`INSERT INTO source_offsets (source_kind, key, next_offset, batch_id, identity)
      SELECT source_kind, key, last(next_offset), ${batchId}, last(identity)::JSON FROM _offsets GROUP BY source_kind, key
    ON CONFLICT (source_kind, key) DO UPDATE SET next_offset = excluded.next_offset, batch_id = excluded.batch_id, identity = excluded.identity;
    DROP TABLE _offsets`)
}

/** The same as SQL text, for a few offsets. */
export function offsetStatements(plan: PlannedBatch, batchId: number): string[] {
  const out: string[] = []
  const written = new Set(plan.offsets.map((o) => `${o.sourceKind}\0${o.key}`))
  // A key both forgotten and written would be deleted and re-inserted in one transaction; the
  // source never plans that, and writing wins if it ever did.
  const forget = (plan.forget ?? []).filter((f) => !written.has(`${f.sourceKind}\0${f.key}`))
  if (forget.length) {
    out.push(`DELETE FROM source_offsets WHERE (source_kind, key) IN (${forget.map((f) => `(${sqlString(f.sourceKind)}, ${sqlString(f.key)})`).join(', ')})`)
  }
  if (plan.offsets.length) {
    const values = plan.offsets.map(
      (o) => `(${sqlString(o.sourceKind)}, ${sqlString(o.key)}, ${o.offset}, ${batchId}, ${o.identity === undefined ? 'NULL' : sqlString(o.identity)})`
    )
    out.push(`INSERT INTO source_offsets (source_kind, key, next_offset, batch_id, identity) VALUES ${values.join(',')}
      ON CONFLICT (source_kind, key) DO UPDATE SET next_offset = excluded.next_offset, batch_id = excluded.batch_id, identity = excluded.identity`)
  }
  return out
}

/** The identity stored with each offset of `sourceKind` (keys without one are left out). */
export async function committedIdentities(lake: Lake, sourceKind: string): Promise<Map<string, string>> {
  const r = await lake.reader.runAndReadAll(
    `SELECT key, identity::VARCHAR FROM source_offsets WHERE source_kind = ${sqlString(sourceKind)} AND identity IS NOT NULL`
  )
  return new Map(r.getRows().map(([k, id]) => [String(k), String(id)]))
}

/** `batches.offsets`: what the batch committed, without the identities (source_offsets has them). */
export function offsetsJson(plan: PlannedBatch): string {
  return JSON.stringify(plan.offsets.map((o) => ({ sourceKind: o.sourceKind, key: o.key, offset: o.offset.toString() })))
}

/** `batches.events`. */
export function eventsJson(plan: PlannedBatch): string {
  return JSON.stringify(plan.events ?? [])
}
