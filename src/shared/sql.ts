// The SQL console's part of the contract: what a query returns to the app, the CLI and the serve
// API alike. Values are JSON (DuckDB's own JSON form: big integers and decimals as strings,
// timestamps as ISO text), so every transport carries them unchanged.

export type SqlValue = null | boolean | number | string | SqlValue[] | { [key: string]: SqlValue }

export interface SqlColumn {
  name: string
  /** DuckDB's type name, e.g. BIGINT, VARCHAR, TIMESTAMP WITH TIME ZONE. */
  type: string
}

export interface SqlRows {
  columns: SqlColumn[]
  rows: SqlValue[][]
  /** The statement produced more rows than `maxRows`; only the first `maxRows` are here. */
  truncated: boolean
  maxRows: number
  elapsedMs: number
}

/** Where in the statement a problem is; line and column count from 1. */
export interface SqlPosition {
  offset: number
  line: number
  column: number
}

export interface SqlProblem {
  /**
   * refused: the statement would write, attach, load, read files or change settings;
   * invalid: DuckDB rejected it (syntax, unknown table or column, a conversion while running);
   * cancelled: sql.cancel or the client going away stopped it.
   */
  kind: 'refused' | 'invalid' | 'cancelled'
  message: string
  position?: SqlPosition
}

export type SqlFailure = { ok: false; problem: SqlProblem }

/** A problem with the statement is an answer, not an API error: it carries its position. */
export type SqlAnswer = ({ ok: true } & SqlRows) | SqlFailure

/** A result written whole to a new Parquet file (docs/SQL.md, *Export*). */
export type ParquetAnswer = { ok: true; file: string; rows: number; elapsedMs: number } | SqlFailure

export interface SqlSchemaTable {
  name: string
  kind: 'table' | 'view'
  columns: SqlColumn[]
}

/** A `.sql` file in the saved-queries folder. */
export interface SavedQuery {
  /** The file name without `.sql`. */
  name: string
  bytes: number
  modifiedAt: string
}

export const SQL_DEFAULT_MAX_ROWS = 1000
export const SQL_MAX_MAX_ROWS = 100_000
/** Longest statement accepted (characters): a console query, not a data load. */
export const SQL_MAX_LENGTH = 100_000

/** 1-based line and column of a character offset in `sql`. */
export function positionOf(sql: string, offset: number): SqlPosition {
  const clamped = Math.max(0, Math.min(offset, sql.length))
  const before = sql.slice(0, clamped)
  const line = before.split('\n').length
  return { offset: clamped, line, column: clamped - before.lastIndexOf('\n') }
}
