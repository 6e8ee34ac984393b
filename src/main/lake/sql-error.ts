import { positionOf, type SqlPosition, type SqlProblem } from '../../shared/sql'

// DuckDB's error for a statement as the console shows it: the message as DuckDB wrote it, and
// the position it points at. The C API hands Node only the text, so the position is read back
// from DuckDB's own "LINE n: <excerpt>" and caret lines.

const INTERRUPTED = /^INTERRUPT Error|Interrupted/i

/** DuckDB names the kind of every error it raises: "Binder Error: …", "Conversion Error: …". */
export function isDuckDBError(err: unknown): boolean {
  return err instanceof Error && /^[A-Z][A-Za-z ]* Error: /.test(err.message)
}

export function isInterrupt(err: unknown): boolean {
  return err instanceof Error && INTERRUPTED.test(err.message)
}

/** The position DuckDB's message marks with its caret in `sql`, when it marks one. */
export function positionFromMessage(sql: string, message: string): SqlPosition | undefined {
  const lines = message.split('\n')
  const at = lines.findIndex((l) => /^LINE \d+: /.test(l))
  if (at < 0 || at + 1 >= lines.length) return undefined
  const prefix = /^LINE (\d+): /.exec(lines[at])!
  const lineNo = Number(prefix[1])
  const caret = lines[at + 1].indexOf('^')
  if (caret < 0) return undefined
  // DuckDB shows a window of a long line with "..." on either side; find it in the line itself
  let excerpt = lines[at].slice(prefix[0].length)
  let shift = caret - prefix[0].length
  if (excerpt.startsWith('...')) {
    excerpt = excerpt.slice(3)
    shift -= 3
  }
  excerpt = excerpt.replace(/\.\.\.$/, '')
  const sqlLines = sql.split('\n')
  const text = sqlLines[lineNo - 1]
  if (text === undefined) return undefined
  const start = text.indexOf(excerpt)
  if (start < 0 || shift < 0) return undefined
  const lineStart = sqlLines.slice(0, lineNo - 1).reduce((n, l) => n + l.length + 1, 0)
  return positionOf(sql, lineStart + start + shift)
}

export function problemFromError(sql: string, err: unknown): SqlProblem {
  const message = err instanceof Error ? err.message : String(err)
  if (isInterrupt(err)) return { kind: 'cancelled', message: 'the query was cancelled' }
  const position = positionFromMessage(sql, message)
  return { kind: 'invalid', message, ...(position ? { position } : {}) }
}
