import type { DuckDBConnection } from '@duckdb/node-api'
import { LAKE_FORMAT, SCHEMA_VERSION } from './schema'

// Lakes outlive versions. A lake says what it is in lake_meta (`format`, `schema_version`);
// MIGRATIONS[v] takes a lake from version v to v + 1 and runs in the transaction that records
// the new version, so a crash leaves the lake at one version or the next, never between.

const MIGRATIONS: Record<number, string> = {
  // v1 (StreamDesk ≤ 0.1 before the format marker). Lakes written before quarantine kept Kafka
  // keys and times may lack those columns.
  1: `
    ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS kafka_key VARCHAR;
    ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS kafka_timestamp TIMESTAMPTZ;
    INSERT INTO lake_meta VALUES ('format', '${LAKE_FORMAT}') ON CONFLICT (key) DO UPDATE SET value = excluded.value;
  `,
  // v2 → v3: file identity. Offsets of v2 have none (the file at that path is trusted once and
  // gets one with its next batch); earlier batches recorded no events. Added columns go last, as
  // in SCHEMA_SQL, so a migrated lake has the column order of a new one (inserts are positional).
  2: `
    ALTER TABLE source_offsets ADD COLUMN IF NOT EXISTS identity JSON;
    ALTER TABLE batches ADD COLUMN IF NOT EXISTS events JSON DEFAULT '[]';
  `
}

/** Tables a version-1 lake has; v1 wrote no format marker, so its tables identify it. */
const V1_TABLES = ['lake_meta', 'bronze_orders', 'bronze_customers', 'silver_orders', 'customers', 'quarantine', 'order_windows', 'fraud_alerts', 'batches', 'source_offsets']

export type LakeIdentity = { ok: true; version: number } | { ok: false; reason: string }

/** Reads what a DuckDB database is, without changing it (works on a read-only connection). */
export async function identifyLake(conn: DuckDBConnection, file: string): Promise<LakeIdentity> {
  const tables = (
    await conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name`)
  )
    .getRows()
    .map((r) => String(r[0]))
  const notOurs = (): LakeIdentity => {
    const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, … (${tables.length} tables)` : '')
    return {
      ok: false,
      reason: `${file} is a DuckDB database that is not a StreamDesk lake (${tables.length ? `tables: ${shown}` : 'no tables'}); it was left unchanged`
    }
  }
  if (!tables.includes('lake_meta')) return notOurs()
  let meta: Map<string, string>
  try {
    const rows = (await conn.runAndReadAll(`SELECT key::VARCHAR, value::VARCHAR FROM lake_meta WHERE key IN ('format', 'schema_version')`)).getRows()
    meta = new Map(rows.map((r) => [String(r[0]), String(r[1])]))
  } catch {
    return notOurs()
  }
  const version = Number(meta.get('schema_version'))
  const format = meta.get('format')
  if (format === undefined) {
    // a version-1 lake, or someone else's table called lake_meta
    if (version === 1 && V1_TABLES.every((t) => tables.includes(t))) return { ok: true, version: 1 }
    return notOurs()
  }
  if (format !== LAKE_FORMAT || !Number.isInteger(version) || version < 1) return notOurs()
  if (version > SCHEMA_VERSION) {
    return {
      ok: false,
      reason: `${file} was written by a newer StreamDesk (lake schema version ${version}; this version reads up to ${SCHEMA_VERSION}); update StreamDesk to open it — it was left unchanged`
    }
  }
  return { ok: true, version }
}

/** Brings a lake from `from` to SCHEMA_VERSION, one committed step per version. */
export async function migrateLake(conn: DuckDBConnection, from: number): Promise<void> {
  for (let v = from; v < SCHEMA_VERSION; v++) {
    const sql = MIGRATIONS[v]
    if (sql === undefined) throw new Error(`no migration from lake schema version ${v}`)
    await conn.run('BEGIN TRANSACTION')
    try {
      await conn.run(sql)
      await conn.run(`UPDATE lake_meta SET value = '${v + 1}' WHERE key = 'schema_version'`)
      await conn.run('COMMIT')
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined)
      throw err
    }
  }
}
