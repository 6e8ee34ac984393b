import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api'
import type { Settings } from '../../shared/settings'
import { ATTRIBUTES, attributesOf, listValues, scoredSql, SqlParams, VELOCITY_WINDOW_MINUTES, type CheckedRuleset, type ListSet } from '../rules'
import { VELOCITY_COLUMN } from '../rules/attributes'
import type { Scoring } from './active-scoring'
import type { OutboxTarget } from './alert-outbox'
import type { Stream } from '../sources/source'
import { createStagedTable, stagedKafkaTimestamp, stagedLines } from './bronze-ingest'
import { isReread } from './reread'
import { clean, customerValidationCtes, orderValidationCtes, type ValidationContext } from './validation-sql'

const ft = clean.text

// Everything after the input lines is set-based SQL, in two phases (batch-writer.ts runs them):
// - stage: before the batch's transaction, parse and validate the staged lines, de-duplicate
//   against silver, lateness against the watermark and velocity, into temp tables. Reading
//   committed tables, DuckDB runs every step on all cores; a scan of rows the open transaction
//   itself wrote runs on one.
// - commit: inside the transaction, score the orders into silver (a live batch; a replay or
//   re-validation stages them in `_silver` first), recompute the windows they change, and copy
//   what was staged into the lake's tables.
// The lake's committed state cannot change in between: this connection is its only writer.

export interface TransformSettings {
  /** The ruleset version this batch scores with (rules-store.ts). */
  scoring: Scoring
  windowMinutes: number
  watermarkMinutes: number
  /** DuckDB's memory limit for the batch (MB); unset leaves the instance's as it is. */
  memoryLimitMB?: number
  maxFutureSkewMinutes: number
  /** Money is converted to `currency` with `fxRates` (units of it per unit of each currency). */
  reporting: { currency: string; fxRates: Readonly<Record<string, number>> }
  /** The alert sinks whose outbox rows the batch writes (none: alerts only go to fraud_alerts). */
  outbox?: readonly OutboxTarget[]
}

/** The settings a batch runs with; fraud scoring comes from the lake's active ruleset version. */
export function transformSettings(s: Pick<Settings, 'pipeline' | 'reporting'>, scoring: Scoring, outbox: readonly OutboxTarget[] = []): TransformSettings {
  return {
    outbox,
    scoring,
    windowMinutes: s.pipeline.windowMinutes,
    watermarkMinutes: s.pipeline.watermarkMinutes,
    memoryLimitMB: s.pipeline.memoryLimitMB,
    maxFutureSkewMinutes: s.pipeline.maxFutureSkewMinutes,
    reporting: s.reporting
  }
}

/** Rates of a batch: the reporting currency is 1 whatever the table says. */
function batchRates(settings: TransformSettings): [string, number][] {
  return Object.entries({ ...settings.reporting.fxRates, [settings.reporting.currency]: 1 })
}

/** What validation compares lines with, read once per batch: the clock, the rates. */
function validationContext(settings: TransformSettings): ValidationContext {
  return {
    clock: new Date().toISOString(),
    maxFutureSkewMinutes: settings.maxFutureSkewMinutes,
    ratedCurrencies: batchRates(settings).map(([c]) => c),
    reportingCurrency: settings.reporting.currency
  }
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

async function scalarRow(conn: DuckDBConnection, sql: string, values?: DuckDBValue[]): Promise<unknown[]> {
  const r = await conn.runAndReadAll(sql, values)
  return r.getRows()[0] ?? []
}

/**
 * The staged lines of a stream JavaScript did not already reject, with their processing order `pos` (segment, then position in it).
 * A replay reads bronze instead (replay.ts), re-validation the quarantine (revalidate.ts), with the same columns.
 */
export function batchRowsSql(stream: Stream, batchId: number): string {
  return `SELECT ${batchId}::BIGINT AS batch_id, b.source, b.byte_offset, b.kafka_partition, b.kafka_offset, b.kafka_key,
      ${stagedKafkaTimestamp('b')} AS kafka_timestamp, b.raw,
      b.seg_no::HUGEINT * 281474976710656 + coalesce(b.kafka_offset, b.byte_offset, 0) AS pos
    FROM ${stagedLines(stream)} b
    WHERE b.error IS NULL`
}

const QUARANTINE_COLUMNS = 'source, byte_offset, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, reason, raw'

/**
 * Customers: validate into `_c`, and the latest valid profile per customer_id into `_c_latest`,
 * leaving out lines read again after a rewind (`_reread`, when `rereads`): they are older than the
 * stored profile.
 */
export async function stageCustomers(conn: DuckDBConnection, settings: TransformSettings, rereads = false): Promise<{ read: number; bad: number }> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE _c AS
    WITH src AS (${batchRowsSql('customers', 0 /* customers keep no batch id: only orders pass it on */)}), ${customerValidationCtes(validationContext(settings))}
    SELECT source, byte_offset, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, pos, reason,
      CASE WHEN reason IS NOT NULL THEN raw END AS raw,
      ${ft('customer_id')} AS customer_id, ${ft('name')} AS name, ${ft('email')} AS email,
      try_cast(${ft('signup_ts')} AS TIMESTAMPTZ) AS signup_ts, upper(${ft('country')}) AS country, lower(${ft('segment')}) AS segment
    FROM v`)
  await conn.run(`CREATE OR REPLACE TEMP TABLE _c_latest AS
    SELECT customer_id, name, email, signup_ts, country, segment FROM _c
    WHERE reason IS NULL${rereads ? ` AND NOT ${isReread('customers', '_c')}` : ''} QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY pos DESC) = 1`)
  const [read, bad] = await scalarRow(conn, `SELECT count(*), count(reason) FROM _c`)
  return { read: num(read), bad: num(bad) }
}

export interface StagedOrders extends Omit<TransformCounts, 'rowsRead'> {
  read: number
}

/**
 * The order lines to stage, and what of the lake was processed before them. A live batch is one
 * batch of staged lines after all of silver; a replay chunk is several original batches read back
 * from bronze, after the silver rows of the batches before them.
 */
export interface OrderInput {
  /** SQL of the lines: batch_id, bronze's columns and `pos`, their processing order across batches. */
  rows: string
  /** Silver rows processed before these lines (duplicates, velocity) are those of batches before this one; null: all of silver. */
  historyBefore: number | null
  /** The newest order_ts processed before these lines: the first batch's watermark is this minus the lateness. */
  previousMaxEventTs: string | null
  /** The staging database `_o` goes into (bronze-ingest.ts createStagedTable); unset: a temp table. */
  stage?: string | null
}

/**
 * The statement that scores the batch's enriched orders and inserts them, as silver rows, into a
 * table with silver's columns (`extra`: more columns of the SELECT, such as processed_at).
 */
export interface ScoredOrders {
  insertInto(table: string, extra?: string): { sql: string; values: DuckDBValue[]; types: SqlParams['types'] }
}

/**
 * Orders, up to their silver rows: validate into `_o`, then de-duplication, watermark and
 * velocity (`_new`, `_wm`, `_vel`); the silver rows themselves are made by the statement returned,
 * where the caller wants them (a live batch: straight into silver_orders inside its transaction;
 * a replay or re-validation: `_silver`, through stageOrders). `withCustomers`: `_c_latest` holds
 * this batch's customer profiles, which its orders see as if they were already in `customers`.
 */
export async function prepareOrders(
  conn: DuckDBConnection,
  input: OrderInput,
  settings: TransformSettings,
  withCustomers: boolean
): Promise<ScoredOrders> {
  const { watermarkMinutes } = settings
  const { previousMaxEventTs } = input
  const history = (alias: string) => (input.historyBefore === null ? 'true' : `${alias}batch_id < ${input.historyBefore}`)
  const lateness = `to_microseconds(${Math.round(watermarkMinutes * 60e6)})`

  // 1. parse + validate; raw is kept only for the bad lines. A valid line's currency has a rate
  //    (validation quarantines the others): the amount in the reporting currency, rounded to cents.
  const rates = batchRates(settings)
  const fxRate = `CASE upper(${ft('currency')}) ${rates.map(([c, r]) => `WHEN '${c}' THEN ${r}::DOUBLE`).join(' ')} END`
  await conn.run(`${createStagedTable('_o', input.stage)} AS
    WITH src AS (${input.rows}), ${orderValidationCtes(validationContext(settings))}
    SELECT *, try_cast(round(total_cents * fx_rate) AS BIGINT) AS reporting_cents FROM (
    SELECT batch_id, source, byte_offset, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, pos, reason,
      CASE WHEN reason IS NOT NULL THEN raw END AS raw,
      ${ft('order_id')} AS order_id, ${ft('customer_id')} AS customer_id,
      try_cast(${ft('order_ts')} AS TIMESTAMPTZ) AS order_ts, lower(${ft('status')}) AS status,
      upper(${ft('currency')}) AS currency, try_cast(round(${clean.amount} * 100) AS BIGINT) AS total_cents,
      ${clean.items} AS items,
      ${ft('payment_method')} AS payment_method, upper(${ft('shipping_country')}) AS shipping_country,
      upper(${ft('billing_country')}) AS billing_country, lower(${ft('channel')}) AS channel,
      CASE WHEN reason IS NULL THEN ${fxRate} END AS fx_rate
    FROM v)`)

  // 2. the first occurrence of each order_id in this batch that silver does not hold yet.
  await conn.run(`CREATE OR REPLACE TEMP TABLE _new AS
    WITH firsts AS (SELECT order_id, min(pos) AS pos FROM _o WHERE reason IS NULL GROUP BY order_id)
    SELECT f.pos FROM firsts f
    WHERE f.order_id NOT IN (SELECT order_id FROM silver_orders WHERE ${history('')} AND order_id IN (SELECT order_id FROM firsts))`)

  // 2b. each batch's watermark: the newest order_ts processed before it (earlier batches of the
  //     input included) minus the allowed lateness. Within a batch orders are not late to each other.
  await conn.run(`CREATE OR REPLACE TEMP TABLE _wm AS
    WITH newest AS (SELECT o.batch_id, max(o.order_ts) AS ts FROM _o o JOIN _new USING (pos) GROUP BY o.batch_id),
    b AS (SELECT DISTINCT batch_id FROM _o)
    SELECT b.batch_id, greatest((SELECT max(ts) FROM newest WHERE newest.batch_id < b.batch_id),
      ${previousMaxEventTs ? `TIMESTAMPTZ '${previousMaxEventTs}'` : 'NULL::TIMESTAMPTZ'}) - ${lateness} AS watermark
    FROM b`)

  // 3. velocity, only when a rule reads orders_last_10m: this customer's orders in the 10 minutes
  //    up to and including this one, among orders processed so far (silver, plus earlier orders
  //    of this batch). That is a 2-D dominance count (same customer, order_ts in [ts - window,
  //    ts], processed no later), and a join on customer_id plus the time range builds every pair
  //    in reach: n²/2 rows for one busy customer (a guest checkout, a burst). A framed rank counts
  //    them instead: the RANGE frame holds the customer's orders in the window, and rank(ORDER BY
  //    pos) within it is 1 + those processed earlier, which DuckDB answers from a merge-sort tree
  //    in O(n log n). Silver orders have no pos and sort first: they were all processed earlier.
  //    Silver is read only near this batch's orders: a slot is one window wide, so an order in
  //    [ts - window, ts] lies in ts's slot or the one before (`//` truncates toward zero, which
  //    makes slot 0 two windows wide, never narrower). A customer with no other order in reach
  //    counts 1 without the rank: most customers, in most batches.
  const { scoring } = settings
  const needsVelocity = [scoring.ruleset, scoring.shadow?.ruleset].some((r) => r && attributesOf(r).has('orders_last_10m'))
  if (needsVelocity) {
    const windowUs = VELOCITY_WINDOW_MINUTES * 60_000_000
    const vw = `to_microseconds(${windowUs})`
    const slot = (col: string) => `epoch_us(${col}) // ${windowUs}`
    // The batch's time range as literals: DuckDB skips silver's row groups outside them by their
    // min/max, which it does not for bounds computed by a subquery in the same statement (each
    // small batch of a long run read all of silver: 214 ms per batch after 12 minutes at 1,000
    // orders/s, against 35 ms on an empty lake).
    const [from, to] = (await conn.runAndReadAll(`SELECT epoch_us(min(o.order_ts)), epoch_us(max(o.order_ts)) FROM _o o JOIN _new USING (pos)`)).getRows()[0]
    const inRange = from === null ? 'false' : `s.order_ts >= make_timestamptz(${from}) - ${vw} AND s.order_ts <= make_timestamptz(${to})`
    await conn.run(`CREATE OR REPLACE TEMP TABLE _vel AS
      WITH cur AS (SELECT o.pos, o.customer_id, o.order_ts FROM _o o JOIN _new USING (pos)),
      reach AS (SELECT DISTINCT customer_id, ${slot('order_ts')} - d AS slot FROM cur, (VALUES (0), (1)) s(d)),
      hist AS (
        SELECT s.customer_id, s.order_ts, NULL::HUGEINT AS pos FROM silver_orders s
        SEMI JOIN reach r ON r.customer_id = s.customer_id AND r.slot = ${slot('s.order_ts')}
        WHERE ${history('s.')} AND ${inRange}
        UNION ALL SELECT customer_id, order_ts, pos FROM cur),
      several AS (SELECT customer_id FROM hist GROUP BY customer_id HAVING count(*) > 1),
      counted AS (
        SELECT pos, rank(ORDER BY pos ASC NULLS FIRST) OVER (PARTITION BY customer_id ORDER BY order_ts
            RANGE BETWEEN ${vw} PRECEDING AND CURRENT ROW) AS n
        FROM hist WHERE customer_id IN (SELECT customer_id FROM several))
      SELECT pos, n FROM counted WHERE pos IS NOT NULL`)
  }

  // 4. enrich: the silver rows of this batch, before scoring. A profile this batch brought
  //    replaces the stored one (it replaces it in \`customers\` at commit).
  // Two plain equi-joins: a join condition that also tests the other join's column is not a
  // hash join any more (a second batch with 166k stored customers took 19 s instead of 0.5 s).
  const customer = withCustomers
    ? `LEFT JOIN customers c ON c.customer_id = o.customer_id LEFT JOIN _c_latest cl ON cl.customer_id = o.customer_id`
    : `LEFT JOIN customers c USING (customer_id)`
  const profile = (col: string) => (withCustomers ? `CASE WHEN cl.customer_id IS NOT NULL THEN cl.${col} ELSE c.${col} END` : `c.${col}`)
  const preSql = `WITH e AS (
      SELECT o.*, ${profile('segment')} AS customer_segment, ${profile('signup_ts')} AS customer_signup_ts,
        ${needsVelocity ? 'coalesce(v.n, 1)' : 'NULL::BIGINT'} AS ${VELOCITY_COLUMN},
        coalesce(o.order_ts < w.watermark, false) AS is_late
      FROM _o o JOIN _new USING (pos) JOIN _wm w USING (batch_id) ${customer} ${needsVelocity ? 'LEFT JOIN _vel v USING (pos)' : ''})
    SELECT pos, order_id, customer_id, order_ts, status, currency, (total_cents / 100)::DECIMAL(18,2) AS total_amount, total_cents, items,
      coalesce(list_sum(list_transform(items, x -> x.quantity)), 0) AS item_count,
      list_sort(list_distinct(list_transform(items, x -> x.category))) AS categories,
      payment_method, shipping_country, billing_country, channel,
      -- UTC hour and ISO weekday by integer arithmetic on epoch microseconds (1970-01-01 was a
      -- Thursday); time-zone functions cost far more per row.
      ((epoch_us(order_ts) // 3600000000) % 24 + 24) % 24 AS order_hour, ((epoch_us(order_ts) // 86400000000 + 3) % 7 + 7) % 7 + 1 AS order_weekday,
      customer_segment, customer_signup_ts, billing_country <> shipping_country AS is_cross_border,
      is_late, batch_id, source,
      CASE WHEN kafka_partition IS NOT NULL THEN 'partition ' || kafka_partition || ' offset ' || kafka_offset ELSE 'byte ' || byte_offset END AS source_position,
      fx_rate, '${settings.reporting.currency}' AS reporting_currency, (reporting_cents / 100)::DECIMAL(18,2) AS reporting_amount, reporting_cents,
      ${VELOCITY_COLUMN}
    FROM e`

  // 4b. score with the active ruleset version: set-based, every value of a rule bound; a shadow
  //     ruleset scores the same rows into `_shadow`, apart from silver. Without a shadow the
  //     enriched rows are scored as they are made: materializing them first cost a copy of every
  //     row (~1 s for 300k orders).
  const pre = scoring.shadow ? '_pre' : `(${preSql})`
  if (scoring.shadow) await conn.run(`CREATE OR REPLACE TEMP TABLE _pre AS ${preSql}`)
  const insertLive = (table: string, extra = '') => {
    const params = new SqlParams()
    const live = scoredBatchSql(scoring.ruleset, scoring.lists, params, pre)
    return {
      sql: `INSERT INTO ${table} BY NAME SELECT * EXCLUDE (pos, ${VELOCITY_COLUMN}), ${params.integer(scoring.version)} AS ruleset_version${extra} FROM (${live})`,
      values: params.values,
      types: params.types
    }
  }
  if (scoring.shadow) {
    const sp = new SqlParams()
    const shadow = scoredBatchSql(scoring.shadow.ruleset, scoring.lists, sp, pre)
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE _shadow AS
        SELECT order_id, batch_id, fraud_score, fraud_score >= ${sp.integer(scoring.shadow.ruleset.threshold)} AS is_alert, fraud_rules, fraud_reasons
        FROM (${shadow})`,
      sp.values,
      sp.types
    )
  }
  return { insertInto: insertLive }
}

/**
 * Orders, all staged: prepareOrders, and the silver rows into `_silver`, with the counts.
 */
export async function stageOrders(
  conn: DuckDBConnection,
  input: OrderInput,
  settings: TransformSettings,
  withCustomers: boolean
): Promise<StagedOrders> {
  const scored = await prepareOrders(conn, input, settings, withCustomers)
  // silver's own column names and types (CREATE TABLE AS would name them after the expressions)
  await conn.run(`CREATE OR REPLACE TEMP TABLE _silver AS SELECT * EXCLUDE (processed_at) FROM silver_orders LIMIT 0`)
  const insert = scored.insertInto('_silver')
  await conn.run(insert.sql, insert.values, insert.types)
  return orderCounts(conn, '_silver', input.previousMaxEventTs, settings)
}

/**
 * A batch's order counts: lines read and quarantined (`_o`), its silver rows `silverRows`
 * (a table or a subquery): valid, late and alerting; and the new event-time high-water mark and
 * watermark.
 */
export async function orderCounts(
  conn: DuckDBConnection,
  silverRows: string,
  previousMaxEventTs: string | null,
  settings: TransformSettings
): Promise<StagedOrders> {
  const lateness = `to_microseconds(${Math.round(settings.watermarkMinutes * 60e6)})`
  const previous = previousMaxEventTs ? `TIMESTAMPTZ '${previousMaxEventTs}'` : 'NULL'
  const [read, bad, valid, late, alerts, maxTs, wm] = await scalarRow(
    conn,
    `SELECT (SELECT count(*) FROM _o), (SELECT count(reason) FROM _o),
      count(*), count(*) FILTER (WHERE is_late), count(*) FILTER (WHERE fraud_score >= $1),
      greatest(max(order_ts), ${previous})::VARCHAR,
      (greatest(max(order_ts), ${previous}) - ${lateness})::VARCHAR
     FROM ${silverRows}`,
    [settings.scoring.ruleset.threshold]
  )
  const newMax = (maxTs as string | null) ?? previousMaxEventTs

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

/**
 * The enriched rows `pre` (a table or a subquery) scored by `ruleset`: its rows plus
 * fraud_score, fraud_rules (ids of the rules that fired, in ruleset order) and fraud_reasons
 * (their inputs lines). Only the attributes the ruleset uses are computed, as prefixed columns
 * dropped again after scoring.
 */
function scoredBatchSql(ruleset: CheckedRuleset, lists: ListSet, params: SqlParams, pre: string): string {
  const prefix = '_attr_'
  const attrs = [...attributesOf(ruleset)]
  const inputs = `SELECT s.*${attrs.map((a) => `, ${ATTRIBUTES.get(a)!.silver} AS "${prefix}${a}"`).join('')} FROM ${pre} s`
  const scored = scoredSql(ruleset, inputs, { params, lists: listValues(lists) }, { inputs: true, attributePrefix: prefix })
  const ids = params.textList(ruleset.rules.map((r) => r.id))
  const dropped = [...attrs.map((a) => `"${prefix}${a}"`), 'rules_score', 'rules_inputs', 'rules_fired'].join(', ')
  return `SELECT sc.* EXCLUDE (${dropped}), sc.rules_score AS fraud_score, sc.rules_inputs AS fraud_reasons,
      list_transform(sc.rules_fired, k -> list_extract(${ids}, k + 1)) AS fraud_rules
    FROM (${scored}) sc`
}

/** The watermark for a high-water mark of event time, as SQL. */
export function watermarkSql(maxEventTs: string | null, watermarkMinutes: number): string {
  return maxEventTs ? `(TIMESTAMPTZ '${maxEventTs}' - to_microseconds(${Math.round(watermarkMinutes * 60e6)}))` : 'NULL::TIMESTAMPTZ'
}

export interface StagedBatch {
  customers: boolean
  orders: boolean
  fraudThreshold: number
  /** The shadow whose scores `_shadow` holds, if one ran beside the live version. */
  shadowId: number | null
  /** The watermark after this batch, as SQL. */
  watermarkSql: string
  /** Whether `_reread` holds lines (lake/reread.ts). */
  rereads?: boolean
  /**
   * The batch's silver rows when they are in silver_orders already (a subquery), else they are
   * copied from `_silver`. Either way `_touched` and `_windows` hold the windows they change.
   */
  silverRows?: string
}

/**
 * Inside the batch's transaction: copies what was staged into the lake. Every line goes to
 * bronze; each line rejected by JavaScript or by validation to quarantine, unless it is read
 * again after a rewind (`_reread`, lake/reread.ts).
 */
export async function commitStaged(conn: DuckDBConnection, batchId: number, staged: StagedBatch): Promise<void> {
  const notReread = (stream: Stream) => (staged.rereads ? ` AND NOT ${isReread(stream, 'x')}` : '')
  // SQL, or SQL with the values it binds
  const statements: (string | [string, DuckDBValue[]])[] = []
  const rejected: string[] = []
  for (const [stream, kind, table] of [
    ['customers', 'customer', 'bronze_customers'],
    ['orders', 'order', 'bronze_orders']
  ] as const) {
    if (!staged[stream]) continue
    statements.push(`INSERT INTO ${table} (batch_id, ingested_at, source, byte_offset, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, raw)
      SELECT ${batchId}, now(), source, byte_offset, kafka_partition, kafka_offset, kafka_key, ${stagedKafkaTimestamp()}, raw FROM ${stagedLines(stream)}`)
    // a line read again after a rewind was quarantined by its first reading (lake/reread.ts)
    rejected.push(
      `SELECT '${kind}' AS kind, ${QUARANTINE_COLUMNS.replace('reason', 'error').replace('kafka_timestamp', stagedKafkaTimestamp())} FROM ${stagedLines(stream)} x WHERE error IS NOT NULL${notReread(stream)}`
    )
    rejected.push(`SELECT '${kind}', ${QUARANTINE_COLUMNS} FROM ${stream === 'orders' ? '_o' : '_c'} x WHERE reason IS NOT NULL${notReread(stream)}`)
  }
  if (rejected.length) {
    statements.push(`INSERT INTO quarantine (batch_id, kind, ${QUARANTINE_COLUMNS}, ingested_at)
      SELECT ${batchId}, * , now() FROM (${rejected.join('\n      UNION ALL ')})`)
  }
  if (staged.customers) {
    // Latest profile per customer: replace the rows of the customers this batch saw. A plain
    // delete + insert; a primary-key index would make every batch pay for index maintenance.
    statements.push(`DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM _c_latest)`)
    statements.push(`INSERT INTO customers SELECT *, ${batchId}, now() FROM _c_latest`)
  }
  if (staged.orders) {
    // by name: processed_at sits before the columns schema 4 appended
    if (!staged.silverRows) statements.push(`INSERT INTO silver_orders BY NAME SELECT *, now() AS processed_at FROM _silver`)
    if (staged.rereads) {
      // a line quarantined at its first reading that passes today's checks: resolved by this
      // batch, as a re-validation would (it counts once as quarantined, once as valid or duplicate)
      statements.push(`UPDATE quarantine SET resolved_batch_id = ${batchId} FROM _o x
        WHERE x.reason IS NULL AND ${isReread('orders', 'x')} AND quarantine.kind = 'order' AND quarantine.resolved_batch_id IS NULL
          AND quarantine.source = x.source AND quarantine.byte_offset IS NOT DISTINCT FROM x.byte_offset
          AND quarantine.kafka_partition IS NOT DISTINCT FROM x.kafka_partition AND quarantine.kafka_offset IS NOT DISTINCT FROM x.kafka_offset`)
    }
    statements.push([alertsFromSilverSql(staged.silverRows ?? '_silver'), [staged.fraudThreshold]])
    if (staged.shadowId !== null) statements.push([`INSERT INTO shadow_scores SELECT $1, * FROM _shadow`, [staged.shadowId]])
    statements.push(...replaceWindowsSql(staged.watermarkSql))
  }
  for (const s of statements) await (typeof s === 'string' ? conn.run(s) : conn.run(s[0], s[1]))
}

/** Tables a batch may put in the staging database (createStagedTable). */
const STAGEABLE = [stagedLines('customers'), stagedLines('orders'), '_o']

/**
 * Drops what stage*() created, in temp and in `stage` when given; they are replaced by the next
 * batch anyway, this frees the memory.
 */
export async function dropStaged(conn: DuckDBConnection, stage: string | null = null): Promise<void> {
  const tables = ['_reread', '_c', '_c_latest', '_new', '_wm', '_vel', '_pre', '_silver', '_shadow', '_touched', '_windows']
  const drops = [...tables, ...STAGEABLE].map((t) => `DROP TABLE IF EXISTS temp.main.${t}`)
  if (stage) drops.push(...STAGEABLE.map((t) => `DROP TABLE IF EXISTS ${stage}.main.${t}`))
  await conn.run(drops.join('; '))
}

const windowBucket = (width: string, col: string) => `time_bucket(${width}, ${col}, TIMESTAMPTZ '2000-01-01 00:00:00+00')`

/**
 * Stages into `_windows` the exact contents of every window holding a timestamp of `touchedSql`
 * (one column, order_ts): silver's on-time rows in them, plus `_silver`'s when `withStaged`.
 */
export async function stageWindows(
  conn: DuckDBConnection,
  batchId: number,
  windowMinutes: number,
  watermarkSql: string,
  touchedSql: string,
  withStaged: boolean
): Promise<void> {
  const width = `INTERVAL ${windowMinutes} MINUTE`
  const bucket = (col: string) => windowBucket(width, col)
  const kept = `status NOT IN ('cancelled', 'refunded')`
  await conn.run(`CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT ${bucket('order_ts')} AS window_start FROM (${touchedSql})`)
  // money in the reporting currency, whatever currency each order came in
  const rows = `SELECT order_ts, status, reporting_cents, customer_id FROM silver_orders
      WHERE NOT is_late AND order_ts >= (SELECT min(window_start) FROM _touched) AND ${bucket('order_ts')} IN (SELECT window_start FROM _touched)
    ${withStaged ? 'UNION ALL SELECT order_ts, status, reporting_cents, customer_id FROM _silver WHERE NOT is_late' : ''}`
  await conn.run(`CREATE OR REPLACE TEMP TABLE _windows AS
    SELECT ${bucket('order_ts')} AS ws, ws + ${width} AS window_end, count(*) AS orders,
      (coalesce(sum(reporting_cents) FILTER (WHERE ${kept}), 0) / 100)::DECIMAL(18,2) AS revenue,
      count(*) FILTER (WHERE ${kept}) AS revenue_orders,
      CASE WHEN count(*) FILTER (WHERE ${kept}) > 0
        THEN (coalesce(sum(reporting_cents) FILTER (WHERE ${kept}), 0) / 100 / count(*) FILTER (WHERE ${kept}))::DECIMAL(18,2) END AS avg_order_value,
      count(DISTINCT customer_id) AS unique_customers,
      coalesce(ws + ${width} <= ${watermarkSql}, false) AS is_final, ${batchId} AS updated_batch_id
    FROM (${rows})
    GROUP BY ws`)
}

/** Silver rows `from` (a table or subquery) scoring at least $1 into fraud_alerts. */
export const alertsFromSilverSql = (from: string) => `INSERT INTO fraud_alerts
  SELECT order_id, customer_id, order_ts, total_amount, currency, status, fraud_score, fraud_reasons,
    shipping_country, billing_country, customer_segment, batch_id, now(), fx_rate, reporting_currency, reporting_amount,
    fraud_rules, ruleset_version
  FROM ${from} WHERE fraud_score >= $1`

/** The staged silver rows (`_silver`) scoring at least $1 into fraud_alerts (a replay, a re-validation). */
export const ALERTS_FROM_SILVER_SQL = alertsFromSilverSql('_silver')

/** Replaces the staged windows in order_windows and finalizes every window the watermark passed. */
export function replaceWindowsSql(watermarkSql: string): string[] {
  return [
    `DELETE FROM order_windows WHERE window_start IN (SELECT window_start FROM _touched)`,
    `INSERT INTO order_windows SELECT * FROM _windows`,
    `UPDATE order_windows SET is_final = true WHERE NOT is_final AND window_end <= ${watermarkSql}`
  ]
}

/** Recomputes, from silver alone, the windows containing any timestamp of `touchedSql` (one column, order_ts). */
export async function recomputeWindows(
  conn: DuckDBConnection,
  batchId: number,
  windowMinutes: number,
  watermarkSql: string,
  touchedSql: string
): Promise<void> {
  await stageWindows(conn, batchId, windowMinutes, watermarkSql, touchedSql, false)
  for (const sql of replaceWindowsSql(watermarkSql)) await conn.run(sql)
  await conn.run(`DROP TABLE _touched; DROP TABLE _windows`)
}
