import type { SqlColumn, SqlValue } from './sql'

// RFC 4180 CSV of a query result, for `streamdesk sql --format csv` and the console's export.

function cell(v: SqlValue): string {
  if (v === null) return ''
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v)
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function toCsv(columns: readonly SqlColumn[], rows: readonly SqlValue[][]): string {
  const lines = [columns.map((c) => cell(c.name)), ...rows.map((r) => r.map(cell))]
  return lines.map((l) => l.join(',')).join('\r\n') + '\r\n'
}
