import type { DuckDBConnection } from '@duckdb/node-api'
import type { FraudSettings } from '../../shared/settings'
import {
  CUSTOMER_FIELDS,
  ITEMS_SPEC,
  ORDER_FIELDS,
  customerReasonSql,
  itemColumnsSql,
  jsonString as s,
  jsonStructSpec,
  orderReasonSql
} from './validation-sql'

// Everything after bronze is set-based SQL over the batch's bronze rows: parse and validate,
// quarantine, de-duplicate against silver, lateness against the watermark, fraud rules, silver,
// windows and alerts. JavaScript only sequences the statements inside the batch transaction.

export interface TransformSettings {
  fraud: FraudSettings
  windowMinutes: number
  watermarkMinutes: number
}

export interface TransformCounts {
  rowsRead: number
  valid: number
  quarantined: number
  late: number
  duplicates: number
  alerts: number
  maxEventTs: string | null
  watermark: string | null
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))

async function scalarRow(conn: DuckDBConnection, sql: string): Promise<unknown[]> {
  const r = await conn.runAndReadAll(sql)
  return r.getRows()[0] ?? []
}

/** Rows of this batch with their processing order `pos` (segment, then position in it). */
function batchRowsSql(table: string, batchId: number): string {
  return `SELECT b.source, b.byte_offset, b.kafka_partition, b.kafka_offset, b.raw,
      g.seg_no::HUGEINT * 281474976710656 + coalesce(b.kafka_offset, b.byte_offset, 0) AS pos
    FROM ${table} b
    JOIN _segments g ON g.source = b.source AND g.part = coalesce(b.kafka_partition, -1)
    WHERE b.batch_id = ${batchId}
      AND NOT EXISTS (SELECT 1 FROM _known_errors e WHERE e.source = b.source
        AND e.byte_offset IS NOT DISTINCT FROM b.byte_offset
        AND e.kafka_partition IS NOT DISTINCT FROM b.kafka_partition
        AND e.kafka_offset IS NOT DISTINCT FROM b.kafka_offset)`
}

function quarantineInsert(kind: 'order' | 'customer', batchId: number, from: string): string {
  return `INSERT INTO quarantine (batch_id, kind, source, byte_offset, kafka_partition, kafka_offset, reason, raw, ingested_at)
    SELECT ${batchId}, '${kind}', source, byte_offset, kafka_partition, kafka_offset, reason, raw, now() FROM ${from}`
}

export async function quarantineKnownErrors(conn: DuckDBConnection, batchId: number): Promise<number> {
  const [n] = await scalarRow(conn, `SELECT count(*) FROM _known_errors`)
  if (num(n) > 0) {
    await conn.run(`INSERT INTO quarantine (batch_id, kind, source, byte_offset, kafka_partition, kafka_offset, reason, raw, ingested_at)
      SELECT ${batchId}, kind, source, byte_offset, kafka_partition, kafka_offset, reason, raw, now() FROM _known_errors`)
  }
  return num(n)
}

/** Customers: validate, quarantine, upsert the latest profile per customer_id. */
export async function transformCustomers(conn: DuckDBConnection, batchId: number): Promise<{ read: number; bad: number }> {
  // UNNEST (of the struct, and of one-element lists) makes DuckDB compute each parse once per
  // line; a plain expression would be re-evaluated for every column that refers to it.
  await conn.run(`CREATE OR REPLACE TEMP TABLE _c AS
    WITH src AS (${batchRowsSql('bronze_customers', batchId)}),
    p AS (SELECT *, CASE WHEN strlen(raw) <= 1048576 THEN try(json(raw)) END AS j FROM src),
    f AS (SELECT p.*, unnest(CASE WHEN json_type(j) = 'OBJECT' THEN from_json(j, ${jsonStructSpec(CUSTOMER_FIELDS)}) END) FROM p),
    r AS (SELECT f.*, unnest([${customerReasonSql()}]) AS reason FROM f)
    SELECT source, byte_offset, kafka_partition, kafka_offset, pos, reason,
      CASE WHEN reason IS NOT NULL THEN raw END AS raw,
      CASE WHEN reason IS NULL THEN ${s('customer_id')} END AS customer_id,
      CASE WHEN reason IS NULL THEN ${s('name')} END AS name,
      CASE WHEN reason IS NULL THEN ${s('email')} END AS email,
      CASE WHEN reason IS NULL THEN (${s('signup_ts')})::TIMESTAMPTZ END AS signup_ts,
      CASE WHEN reason IS NULL THEN upper(${s('country')}) END AS country,
      CASE WHEN reason IS NULL THEN lower(${s('segment')}) END AS segment
    FROM r`)
  await conn.run(quarantineInsert('customer', batchId, `_c WHERE reason IS NOT NULL`))
  await conn.run(`INSERT INTO customers
    SELECT customer_id, name, email, signup_ts, country, segment, ${batchId}, now() FROM _c
    WHERE reason IS NULL QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY pos DESC) = 1
    ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, email = excluded.email, signup_ts = excluded.signup_ts,
      country = excluded.country, segment = excluded.segment, batch_id = excluded.batch_id, updated_at = excluded.updated_at`)
  const [read, bad] = await scalarRow(conn, `SELECT count(*), count(reason) FROM _c`)
  await conn.run(`DROP TABLE _c`)
  return { read: num(read), bad: num(bad) }
}

export async function transformOrders(
  conn: DuckDBConnection,
  batchId: number,
  settings: TransformSettings,
  previousMaxEventTs: string | null
): Promise<Omit<TransformCounts, 'rowsRead'> & { read: number }> {
  const { fraud, windowMinutes, watermarkMinutes } = settings
  const w = fraud.weights
  const watermark = previousMaxEventTs
    ? `(TIMESTAMPTZ '${previousMaxEventTs}' - to_microseconds(${Math.round(watermarkMinutes * 60e6)}))`
    : 'NULL::TIMESTAMPTZ'

  // 1. parse + validate; raw is kept only for the bad lines.
  await conn.run(`CREATE OR REPLACE TEMP TABLE _o AS
    WITH src AS (${batchRowsSql('bronze_orders', batchId)}),
    p AS (SELECT *, CASE WHEN strlen(raw) <= 1048576 THEN try(json(raw)) END AS j FROM src),
    f AS (SELECT p.*, unnest(CASE WHEN json_type(j) = 'OBJECT' THEN from_json(j, ${jsonStructSpec(ORDER_FIELDS)}) END) FROM p),
    g AS (SELECT f.*, unnest([CASE WHEN json_type(items) = 'ARRAY' THEN try(from_json(items, ${ITEMS_SPEC})) END]) AS items_f FROM f),
    h AS (SELECT g.*, ${itemColumnsSql()} FROM g),
    r AS (SELECT h.*, unnest([${orderReasonSql()}]) AS reason FROM h)
    SELECT source, byte_offset, kafka_partition, kafka_offset, pos, reason,
      CASE WHEN reason IS NOT NULL THEN raw END AS raw,
      CASE WHEN reason IS NULL THEN ${s('order_id')} END AS order_id,
      CASE WHEN reason IS NULL THEN ${s('customer_id')} END AS customer_id,
      CASE WHEN reason IS NULL THEN (${s('order_ts')})::TIMESTAMPTZ END AS order_ts,
      CASE WHEN reason IS NULL THEN lower(${s('status')}) END AS status,
      CASE WHEN reason IS NULL THEN upper(${s('currency')}) END AS currency,
      CASE WHEN reason IS NULL THEN round(total_amount::DOUBLE * 100)::BIGINT END AS total_cents,
      CASE WHEN reason IS NULL THEN list_transform(items_f, x -> {
        'product_id': trim(x.product_id->>'$'), 'product_name': trim(x.product_name->>'$'), 'category': lower(trim(x.category->>'$')),
        'quantity': x.quantity::BIGINT, 'unit_price': round(x.unit_price::DOUBLE, 2)::DECIMAL(18,2)}) END AS items,
      CASE WHEN reason IS NULL THEN ${s('payment_method')} END AS payment_method,
      CASE WHEN reason IS NULL THEN upper(${s('shipping_country')}) END AS shipping_country,
      CASE WHEN reason IS NULL THEN upper(${s('billing_country')}) END AS billing_country,
      CASE WHEN reason IS NULL THEN lower(${s('channel')}) END AS channel
    FROM r`)
  await conn.run(quarantineInsert('order', batchId, `_o WHERE reason IS NOT NULL`))

  // 2. first occurrence of each order_id in this batch that silver does not hold yet.
  await conn.run(`CREATE OR REPLACE TEMP TABLE _new AS
    SELECT * EXCLUDE (reason, raw), coalesce(order_ts < ${watermark}, false) AS is_late FROM _o
    WHERE reason IS NULL
      AND order_id NOT IN (SELECT order_id FROM silver_orders WHERE order_id IN (SELECT order_id FROM _o WHERE reason IS NULL))
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY pos) = 1`)

  // 3. fraud rules. Velocity counts this customer's orders in the window up to and including
  //    this one among orders processed so far (silver, plus earlier orders of this batch).
  const vw = `to_microseconds(${Math.round(fraud.velocityWindowMinutes * 60e6)})`
  await conn.run(`CREATE OR REPLACE TEMP TABLE _scored AS
    WITH hist AS (
      SELECT customer_id, order_ts, NULL::HUGEINT AS pos FROM silver_orders
      WHERE order_ts >= (SELECT min(order_ts) FROM _new) - ${vw}
        AND customer_id IN (SELECT DISTINCT customer_id FROM _new)
      UNION ALL SELECT customer_id, order_ts, pos FROM _new),
    velocity AS (
      SELECT a.pos, count(*) AS n FROM _new a JOIN hist h
        ON h.customer_id = a.customer_id AND h.order_ts BETWEEN a.order_ts - ${vw} AND a.order_ts
       AND (h.pos IS NULL OR h.pos <= a.pos)
      GROUP BY a.pos),
    enriched AS (
      SELECT n.*, c.segment AS customer_segment, c.signup_ts AS customer_signup_ts, coalesce(v.n, 1) AS velocity_n
      FROM _new n LEFT JOIN customers c USING (customer_id) LEFT JOIN velocity v USING (pos)),
    rules AS (
      SELECT *,
        CASE WHEN total_cents > 500000 THEN ${w.amountOver5000} WHEN total_cents > 300000 THEN ${w.amountOver3000}
             WHEN total_cents > 200000 THEN ${w.amountOver2000} ELSE 0 END AS r_amount,
        CASE WHEN status IN ('cancelled', 'refunded') THEN ${w.cancelledOrRefunded} ELSE 0 END AS r_status,
        CASE WHEN velocity_n >= ${fraud.velocityMinOrders} THEN ${w.velocity} ELSE 0 END AS r_velocity,
        CASE WHEN customer_signup_ts IS NOT NULL AND customer_signup_ts > order_ts - to_microseconds(${Math.round(fraud.newAccountHours * 3600e6)})
              AND total_cents > ${Math.round(fraud.newAccountAmount * 100)} THEN ${w.newAccountLargeOrder} ELSE 0 END AS r_new_account,
        CASE WHEN billing_country <> shipping_country THEN ${w.countryMismatch} ELSE 0 END AS r_country
      FROM enriched)
    SELECT *, (r_amount + r_status + r_velocity + r_new_account + r_country)::INTEGER AS fraud_score,
      list_filter([
        CASE WHEN r_amount > 0 THEN 'amount over ' || CASE WHEN total_cents > 500000 THEN '5000' WHEN total_cents > 300000 THEN '3000' ELSE '2000' END END,
        CASE WHEN r_status > 0 THEN 'status ' || status END,
        CASE WHEN r_velocity > 0 THEN velocity_n || ' orders in ${fraud.velocityWindowMinutes} min' END,
        CASE WHEN r_new_account > 0 THEN 'new account with large order' END,
        CASE WHEN r_country > 0 THEN 'billing ' || billing_country || ' ≠ shipping ' || shipping_country END
      ], x -> x IS NOT NULL) AS fraud_reasons
    FROM rules`)

  // 4. silver
  await conn.run(`INSERT INTO silver_orders
    SELECT order_id, customer_id, order_ts, status, currency, (total_cents / 100)::DECIMAL(18,2), total_cents, items,
      coalesce(list_sum(list_transform(items, x -> x.quantity)), 0), list_sort(list_distinct(list_transform(items, x -> x.category))),
      payment_method, shipping_country, billing_country, channel,
      hour(order_ts AT TIME ZONE 'UTC'), isodow(order_ts AT TIME ZONE 'UTC'),
      customer_segment, customer_signup_ts, billing_country <> shipping_country,
      fraud_score, fraud_reasons, is_late, ${batchId}, source,
      CASE WHEN kafka_partition IS NOT NULL THEN 'partition ' || kafka_partition || ' offset ' || kafka_offset ELSE 'byte ' || byte_offset END,
      now()
    FROM _scored`)

  // 5. alerts
  await conn.run(`INSERT INTO fraud_alerts
    SELECT order_id, customer_id, order_ts, (total_cents / 100)::DECIMAL(18,2), currency, status, fraud_score, fraud_reasons,
      shipping_country, billing_country, customer_segment, ${batchId}, now()
    FROM _scored WHERE fraud_score >= ${fraud.threshold}`)

  // 6. windows touched by this batch's on-time orders are recomputed exactly from silver.
  const [maxTs] = await scalarRow(
    conn,
    `SELECT greatest(max(order_ts), ${previousMaxEventTs ? `TIMESTAMPTZ '${previousMaxEventTs}'` : 'NULL'})::VARCHAR FROM _new`
  )
  const newMax = (maxTs as string | null) ?? previousMaxEventTs
  const newWatermark = newMax ? `(TIMESTAMPTZ '${newMax}' - to_microseconds(${Math.round(watermarkMinutes * 60e6)}))` : 'NULL::TIMESTAMPTZ'
  await recomputeWindows(conn, batchId, windowMinutes, newWatermark, `SELECT order_ts FROM _new WHERE NOT is_late`)

  const [read, bad, valid, late, alerts] = await scalarRow(
    conn,
    `SELECT (SELECT count(*) FROM _o), (SELECT count(reason) FROM _o), (SELECT count(*) FROM _new),
      (SELECT count(*) FILTER (WHERE is_late) FROM _new), (SELECT count(*) FROM _scored WHERE fraud_score >= ${fraud.threshold})`
  )
  const [wm] = await scalarRow(conn, `SELECT ${newWatermark}::VARCHAR`)
  await conn.run(`DROP TABLE _o; DROP TABLE _new; DROP TABLE _scored`)
  return {
    read: num(read),
    quarantined: num(bad),
    valid: num(valid),
    late: num(late),
    duplicates: num(read) - num(bad) - num(valid),
    alerts: num(alerts),
    maxEventTs: newMax,
    watermark: (wm as string | null) ?? null
  }
}

/** Recomputes the windows containing any timestamp of `touchedSql` (one column, order_ts). */
export async function recomputeWindows(
  conn: DuckDBConnection,
  batchId: number,
  windowMinutes: number,
  watermarkSql: string,
  touchedSql: string
): Promise<void> {
  const width = `INTERVAL ${windowMinutes} MINUTE`
  const bucket = (col: string) => `time_bucket(${width}, ${col}, TIMESTAMPTZ '2000-01-01 00:00:00+00')`
  await conn.run(`CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT ${bucket('order_ts')} AS window_start FROM (${touchedSql})`)
  await conn.run(`DELETE FROM order_windows WHERE window_start IN (SELECT window_start FROM _touched)`)
  await conn.run(`INSERT INTO order_windows
    SELECT ${bucket('order_ts')} AS ws, ws + ${width}, count(*),
      (coalesce(sum(total_cents) FILTER (WHERE status NOT IN ('cancelled', 'refunded')), 0) / 100)::DECIMAL(18,2),
      count(*) FILTER (WHERE status NOT IN ('cancelled', 'refunded')),
      CASE WHEN count(*) FILTER (WHERE status NOT IN ('cancelled', 'refunded')) > 0
        THEN (sum(total_cents) FILTER (WHERE status NOT IN ('cancelled', 'refunded')) / 100 / count(*) FILTER (WHERE status NOT IN ('cancelled', 'refunded')))::DECIMAL(18,2) END,
      count(DISTINCT customer_id),
      coalesce(ws + ${width} <= ${watermarkSql}, false), ${batchId}
    FROM silver_orders
    WHERE NOT is_late AND order_ts >= (SELECT min(window_start) FROM _touched)
      AND ${bucket('order_ts')} IN (SELECT window_start FROM _touched)
    GROUP BY ws`)
  await conn.run(`UPDATE order_windows SET is_final = true WHERE NOT is_final AND window_end <= ${watermarkSql}`)
  await conn.run(`DROP TABLE _touched`)
}
