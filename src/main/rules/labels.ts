// Analysts' verdicts on orders, as the backtest reads them: the lake's labels table (schema 5,
// lake/labels-store.ts), or any table or view with these columns:
//   order_id VARCHAR, label VARCHAR ('fraud' | 'legit' | 'cleared'), labelled_at TIMESTAMPTZ,
//   label_id BIGINT (increasing; breaks ties between labels given in the same microsecond)
// Labels are appended, never updated: an order's label is its latest row, and 'cleared'
// withdraws a verdict, so the history of who said what stays.

export const LABEL_VALUES = ['fraud', 'legit', 'cleared'] as const
export type LabelValue = (typeof LABEL_VALUES)[number]

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

export class LabelsTableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LabelsTableError'
  }
}

/** `table` or `schema.table`, quoted; refuses anything else (it is spliced into SQL as a name). */
export function quotedTableName(name: string): string {
  const parts = name.split('.')
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new LabelsTableError(`labels table must be a plain name such as fraud_labels (or schema.name), got ${JSON.stringify(name)}`)
  }
  return parts.map((p) => `"${p}"`).join('.')
}

/** Each labelled order's current verdict: order_id, label ('fraud' or 'legit'). */
export function currentLabelsSql(table: string): string {
  return `SELECT order_id, label FROM (
      SELECT order_id, label FROM ${quotedTableName(table)}
      QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY labelled_at DESC, label_id DESC) = 1)
    WHERE label IN ('fraud', 'legit')`
}
