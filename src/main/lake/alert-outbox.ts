import type { DuckDBConnection } from '@duckdb/node-api'
import { sqlString, type Lake } from './lake'

// The alert outbox (schema 6, docs/LAKE.md): the lake's side of alert delivery. The batch writer
// queues a batch's alerts here inside its transaction; each sink's sender (src/main/alerts/)
// claims them into messages and marks them delivered, on a connection of its own.

/** A sink as the batch writer sees it: where its alerts are queued and which it takes. */
export interface OutboxTarget {
  sinkId: string
  minScore: number
}

/**
 * Queues the alerts batch `batchId` raised, one row per target that takes them. Runs in the
 * batch's transaction, after its fraud_alerts rows are written. An order already queued for a
 * sink is not queued again.
 */
export async function queueAlerts(conn: DuckDBConnection, batchId: number, targets: readonly OutboxTarget[]): Promise<void> {
  for (const t of targets) {
    await conn.run(
      `INSERT INTO alert_outbox (sink_id, order_id, batch_id, fraud_score, alert, queued_at)
      SELECT $1, order_id, batch_id, fraud_score, to_json({
          order_id: order_id, customer_id: customer_id, fraud_score: fraud_score, reasons: fraud_reasons,
          order_ts: strftime(order_ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ'), total_amount: total_amount::DOUBLE, currency: currency,
          reporting_amount: reporting_amount::DOUBLE, reporting_currency: reporting_currency, status: status,
          shipping_country: shipping_country, billing_country: billing_country, customer_segment: customer_segment,
          rules: fraud_rules, ruleset_version: ruleset_version, batch_id: batch_id}), now()
      FROM fraud_alerts WHERE batch_id = $2 AND fraud_score >= $3
      ON CONFLICT DO NOTHING`,
      [t.sinkId, batchId, t.minScore]
    )
  }
}

/** One alert as sinks send it (fraud_alerts' columns; `reasons` are the rules' explanations). */
export type OutboxAlert = { order_id: string; customer_id: string; fraud_score: number; reasons: string[] } & Record<string, unknown>

/** A message of a sink: the alerts it lists, and how many more it only counts. */
export interface OutboxMessage {
  key: string
  alerts: OutboxAlert[]
  more: number
}

export interface SinkBacklog {
  /** Alerts queued and not delivered yet. */
  backlog: number
  lastSuccessAt: string | null
}

/** Backlog of every sink with queued alerts, for status and /metrics (any connection). */
export async function outboxBacklogs(conn: DuckDBConnection): Promise<Map<string, SinkBacklog>> {
  const r = await conn.runAndReadAll(
    `SELECT sink_id, count(*) FILTER (WHERE delivered_at IS NULL), max(delivered_at)::VARCHAR FROM alert_outbox GROUP BY sink_id`
  )
  return new Map(r.getRows().map(([id, n, last]) => [String(id), { backlog: Number(n), lastSuccessAt: last === null ? null : new Date(String(last)).toISOString() }]))
}

/**
 * Deletes the alerts queued for `sinkId` and never delivered: only on the user's explicit
 * request for a sink no longer configured (an orphan; the caller checks). Delivered rows stay,
 * as the record of what was sent. Returns how many were discarded.
 */
export async function discardUndelivered(lake: Lake, sinkId: string): Promise<number> {
  const conn = await lake.connect()
  try {
    const r = await conn.runAndReadAll(`DELETE FROM alert_outbox WHERE sink_id = $1 AND delivered_at IS NULL RETURNING order_id`, [sinkId])
    return r.getRows().length
  } finally {
    conn.closeSync()
  }
}

/**
 * Outbox queries for one sink, on a connection of its own: a claim is a transaction, which must
 * not take in another sink's statements.
 */
export class SinkOutbox {
  private constructor(
    private readonly conn: DuckDBConnection,
    readonly sinkId: string
  ) {}

  static async open(lake: Lake, sinkId: string): Promise<SinkOutbox> {
    return new SinkOutbox(await lake.connect(), sinkId)
  }

  close(): void {
    this.conn.closeSync()
  }

  /** The message claimed before and not delivered (a crash or a failure came between), if any. */
  async inFlight(): Promise<OutboxMessage | null> {
    const r = await this.conn.runAndReadAll(
      `SELECT delivery_key FROM alert_outbox WHERE sink_id = $1 AND delivery_key IS NOT NULL AND delivered_at IS NULL
      ORDER BY batch_id, delivery_key LIMIT 1`,
      [this.sinkId]
    )
    const key = r.getRows()[0]?.[0]
    return key === undefined ? null : this.message(String(key))
  }

  /** Queued alerts not in any message yet, oldest first. */
  async unclaimed(limit: number): Promise<{ orderId: string; score: number }[]> {
    const r = await this.conn.runAndReadAll(
      `SELECT order_id, fraud_score FROM alert_outbox WHERE sink_id = $1 AND delivery_key IS NULL ORDER BY batch_id, order_id LIMIT $2`,
      [this.sinkId, limit]
    )
    return r.getRows().map(([o, s]) => ({ orderId: String(o), score: Number(s) }))
  }

  /** Puts alerts into message `key` before it is first sent; `listed` says which it lists. */
  async claim(key: string, listed: readonly string[], counted: readonly string[]): Promise<void> {
    const inList = (ids: readonly string[]) => ids.map(sqlString).join(', ')
    await this.conn.run('BEGIN TRANSACTION')
    try {
      for (const [ids, isListed] of [
        [listed, true],
        [counted, false]
      ] as const) {
        if (ids.length === 0) continue
        await this.conn.run(
          `UPDATE alert_outbox SET delivery_key = $1, listed = $2 WHERE sink_id = $3 AND delivery_key IS NULL AND order_id IN (${inList(ids)})`,
          [key, isListed, this.sinkId]
        )
      }
      await this.conn.run('COMMIT')
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined)
      throw err
    }
  }

  async message(key: string): Promise<OutboxMessage> {
    const r = await this.conn.runAndReadAll(
      `SELECT alert::VARCHAR, listed FROM alert_outbox WHERE sink_id = $1 AND delivery_key = $2 ORDER BY fraud_score DESC, order_id`,
      [this.sinkId, key]
    )
    const rows = r.getRows()
    return {
      key,
      alerts: rows.filter((row) => row[1] === true).map((row) => JSON.parse(String(row[0])) as OutboxAlert),
      more: rows.filter((row) => row[1] !== true).length
    }
  }

  async delivered(key: string): Promise<void> {
    await this.conn.run(
      `UPDATE alert_outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE sink_id = $1 AND delivery_key = $2`,
      [this.sinkId, key]
    )
  }

  async failed(key: string, error: string): Promise<void> {
    await this.conn.run(`UPDATE alert_outbox SET attempts = attempts + 1, last_error = $1 WHERE sink_id = $2 AND delivery_key = $3`, [
      error,
      this.sinkId,
      key
    ])
  }
}
