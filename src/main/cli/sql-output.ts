import { toCsv } from '../../shared/csv'
import type { SqlRows, SqlValue } from '../../shared/sql'

// How `streamdesk sql` prints rows: an aligned table for people, CSV and JSON for scripts.

export type SqlFormat = 'table' | 'csv' | 'json'
export const SQL_FORMATS: readonly SqlFormat[] = ['table', 'csv', 'json']

const MAX_CELL = 60

function text(v: SqlValue): string {
  if (v === null) return 'NULL'
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function table(result: SqlRows): string {
  const cells = result.rows.map((r) =>
    r.map((v) => {
      const t = text(v).replace(/\s+/g, ' ')
      return t.length > MAX_CELL ? `${t.slice(0, MAX_CELL - 1)}…` : t
    })
  )
  const widths = result.columns.map((c, i) => Math.max(c.name.length, ...cells.map((r) => r[i].length)))
  const numeric = result.columns.map((c) => /INT|DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC/.test(c.type))
  const line = (r: string[]) => r.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd()
  return [line(result.columns.map((c) => c.name)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n') + '\n'
}

function json(result: SqlRows): string {
  const objects = result.rows.map((r) => JSON.stringify(Object.fromEntries(result.columns.map((c, i) => [c.name, r[i]]))))
  return objects.length === 0 ? '[]\n' : `[\n${objects.join(',\n')}\n]\n`
}

export function formatRows(result: SqlRows, format: SqlFormat): string {
  if (format === 'csv') return toCsv(result.columns, result.rows)
  if (format === 'json') return json(result)
  return table(result)
}

/** The line under the rows (stderr, so CSV and JSON stay clean): how many, and whether capped. */
export function rowsSummary(result: SqlRows): string {
  const n = result.rows.length
  if (result.truncated) return `(the first ${n} rows; the result has more: raise --max-rows, up to 100000)`
  return `(${n} row${n === 1 ? '' : 's'}, ${result.elapsedMs} ms)`
}
