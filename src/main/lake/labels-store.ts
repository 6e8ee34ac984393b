import { INTEGER, LIST, listValue, VARCHAR, type DuckDBConnection } from '@duckdb/node-api'
import { LABEL_VALUES, type LabelValue } from '../rules'

// Analysts' verdicts on orders (schema 5's labels table). Labels are appended, never updated:
// an order's label is its latest row, and 'cleared' withdraws a verdict, so who said what, and
// when, stays in the lake.

export class LabelError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LabelError'
  }
}

export interface LabelInput {
  orderId: string
  label: LabelValue
  author: string
  note: string
}

export interface OrderLabel {
  orderId: string
  label: 'fraud' | 'legit'
  author: string
  labelledAt: string
  note: string
}

/** Appends a label; refuses an order silver does not hold. */
export async function addLabel(conn: DuckDBConnection, input: LabelInput): Promise<void> {
  if (!LABEL_VALUES.includes(input.label)) throw new LabelError(`label must be one of ${LABEL_VALUES.join(', ')}, got ${JSON.stringify(input.label)}`)
  const r = await conn.runAndReadAll(
    `INSERT INTO labels (order_id, label, author, labelled_at, note)
      SELECT order_id, $2, $3, now(), $4 FROM silver_orders WHERE order_id = $1 LIMIT 1 RETURNING label_id`,
    [input.orderId, input.label, input.author, input.note]
  )
  if (r.getRows().length === 0) throw new LabelError(`there is no order ${JSON.stringify(input.orderId)} in the lake`)
}

/** Current verdicts (not withdrawn), newest first; of `orderIds` only when given. */
export async function currentLabels(conn: DuckDBConnection, opts: { limit: number; orderIds?: readonly string[] }): Promise<OrderLabel[]> {
  const filter = opts.orderIds ? `WHERE list_contains($2, order_id)` : ''
  const r = await conn.runAndReadAll(
    `SELECT order_id, label, author, strftime(labelled_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS at, note FROM (
        SELECT * FROM labels ${filter}
        QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY labelled_at DESC, label_id DESC) = 1)
      WHERE label IN ('fraud', 'legit') ORDER BY labelled_at DESC, label_id DESC LIMIT $1`,
    opts.orderIds ? [opts.limit, listValue([...opts.orderIds])] : [opts.limit],
    opts.orderIds ? [INTEGER, LIST(VARCHAR)] : [INTEGER]
  )
  return r.getRows().map((row) => ({
    orderId: String(row[0]),
    label: row[1] as 'fraud' | 'legit',
    author: String(row[2]),
    labelledAt: String(row[3]),
    note: String(row[4])
  }))
}
