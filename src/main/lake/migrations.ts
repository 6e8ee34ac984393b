import type { DuckDBConnection } from '@duckdb/node-api'
import { ALERT_OUTBOX_SQL, LAKE_FORMAT, RULES_TABLES_SQL, SCHEMA_VERSION } from './schema'

// Lakes outlive versions. A lake says what it is in lake_meta (`format`, `schema_version`);
// MIGRATIONS[v] takes a lake from version v to v + 1 and runs in the transaction that records
// the new version, so a crash leaves the lake at one version or the next, never between.

/**
 * USD per unit, for lakes written before conversion: the default rates of the version that
 * introduced it (settings.ts DEFAULT_FX_RATES then), fixed here so the migration of a given lake
 * never changes when the defaults do.
 */
export const V4_MIGRATION_RATES: Readonly<Record<string, number>> = { USD: 1, EUR: 1.08, GBP: 1.27, CAD: 0.73, AUD: 0.66 }

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
  `,
  // v3 → v4: money in one reporting currency. Schema 3 summed amounts as they came, whatever
  // their currency. Its orders are converted to USD at the rates of V4_MIGRATION_RATES, so
  // revenue stays continuous across the upgrade and every row says which rate it got; a currency
  // without a rate there keeps NULL (no number is better than a made-up one). The windows are
  // recomputed from the converted amounts. Fraud scores stay as they were computed.
  3: `
    ALTER TABLE silver_orders ADD COLUMN IF NOT EXISTS fx_rate DOUBLE;
    ALTER TABLE silver_orders ADD COLUMN IF NOT EXISTS reporting_currency VARCHAR;
    ALTER TABLE silver_orders ADD COLUMN IF NOT EXISTS reporting_amount DECIMAL(18,2);
    ALTER TABLE silver_orders ADD COLUMN IF NOT EXISTS reporting_cents BIGINT;
    ALTER TABLE fraud_alerts ADD COLUMN IF NOT EXISTS fx_rate DOUBLE;
    ALTER TABLE fraud_alerts ADD COLUMN IF NOT EXISTS reporting_currency VARCHAR;
    ALTER TABLE fraud_alerts ADD COLUMN IF NOT EXISTS reporting_amount DECIMAL(18,2);
    CREATE TEMP TABLE _v4_rates AS SELECT * FROM (VALUES ${Object.entries(V4_MIGRATION_RATES)
      .map(([c, r]) => `('${c}', ${r}::DOUBLE)`)
      .join(', ')}) r(currency, rate);
    UPDATE silver_orders SET fx_rate = r.rate, reporting_currency = 'USD',
        reporting_cents = round(total_cents * r.rate)::BIGINT, reporting_amount = (round(total_cents * r.rate) / 100)::DECIMAL(18,2)
      FROM _v4_rates r WHERE r.currency = silver_orders.currency;
    UPDATE fraud_alerts SET fx_rate = s.fx_rate, reporting_currency = s.reporting_currency, reporting_amount = s.reporting_amount
      FROM silver_orders s WHERE s.order_id = fraud_alerts.order_id;
    UPDATE order_windows SET revenue = x.revenue,
        avg_order_value = CASE WHEN order_windows.revenue_orders > 0 THEN (x.revenue / order_windows.revenue_orders)::DECIMAL(18,2) END
      FROM (
        SELECT w.window_start, (coalesce(sum(s.reporting_cents), 0) / 100)::DECIMAL(18,2) AS revenue
        FROM order_windows w LEFT JOIN silver_orders s ON s.order_ts >= w.window_start AND s.order_ts < w.window_end
          AND NOT s.is_late AND s.status NOT IN ('cancelled', 'refunded')
        GROUP BY w.window_start) x
      WHERE x.window_start = order_windows.window_start;
    INSERT INTO lake_meta VALUES ('reporting_currency', 'USD') ON CONFLICT (key) DO UPDATE SET value = excluded.value;
    DROP TABLE _v4_rates;
  `,
  // v4 → v5: fraud rules as versioned data. Rows scored before keep their scores and reasons and
  // get no version (NULL): the weights that scored them were settings, not recorded. Version 1
  // is seeded from the settings by the first run (rules-store.ts), not here: a migration knows
  // the lake, not the settings.
  4: `
    ALTER TABLE silver_orders ADD COLUMN IF NOT EXISTS fraud_rules VARCHAR[];
    ALTER TABLE silver_orders ADD COLUMN IF NOT EXISTS ruleset_version INTEGER;
    ALTER TABLE fraud_alerts ADD COLUMN IF NOT EXISTS fraud_rules VARCHAR[];
    ALTER TABLE fraud_alerts ADD COLUMN IF NOT EXISTS ruleset_version INTEGER;
    ${RULES_TABLES_SQL}
  `,
  // v5 → v6: replay and re-validation. Every batch written before was live ingest; no line was
  // re-validated yet.
  5: `
    ALTER TABLE batches ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'live';
    ALTER TABLE batches ADD COLUMN IF NOT EXISTS replay JSON;
    ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS resolved_batch_id BIGINT;
  `,
  // v6 → v7: the alert outbox. It starts empty: alerts raised before are in fraud_alerts and are
  // not sent (a sink gets the alerts of batches committed while it is configured).
  6: ALERT_OUTBOX_SQL
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
