import type { DuckDBConnection } from '@duckdb/node-api'
import { positionOf, type ParquetAnswer, type SqlAnswer, type SqlFailure, type SqlSchemaTable, type SqlValue } from '../../shared/sql'
import type { Lake } from './lake'
import { checkReadOnly } from './sql-guard'
import { copyToParquet } from './sql-parquet'
import { isDuckDBError, isInterrupt, problemFromError } from './sql-error'

// Runs console statements on a lake. Each statement gets a connection of its own on the lake's
// instance, never the writer: DuckDB's MVCC gives it the last committed batch as one consistent
// snapshot, it takes no lock a batch waits for, and interrupting it (cancel) stops only it.
// It runs in a READ ONLY transaction after sql-guard.ts has accepted it, and its rows are
// streamed chunk by chunk until the row cap, so a huge result is never materialized.

export interface SqlRequest {
  sql: string
  maxRows: number
  /** Chosen by the caller, so it can cancel before the answer comes. */
  queryId?: string
}

export interface ParquetRequest {
  sql: string
  /** An absolute path whose folder exists and where no file is (sql-parquet.ts checks both again). */
  file: string
  queryId?: string
}

interface Running {
  /** null until the query has its connection. */
  conn: DuckDBConnection | null
  cancelled: boolean
}

const CANCELLED: SqlFailure = { ok: false, problem: { kind: 'cancelled', message: 'the query was cancelled' } }

export class SqlConsole {
  private readonly running = new Map<string, Running>()

  /** Runs one statement on `lake`; a problem with the statement is an answer, not a throw. */
  run(lake: Lake, req: SqlRequest): Promise<SqlAnswer> {
    return this.checked(lake, req.sql, req.queryId, async (conn, self, t0) => {
      const result = await conn.stream(req.sql)
      const rows: SqlValue[][] = []
      let truncated = false
      for await (const chunk of result.yieldRowsJson()) {
        if (self.cancelled) return CANCELLED
        const room = req.maxRows - rows.length
        if (chunk.length > room) {
          rows.push(...(chunk.slice(0, room) as SqlValue[][]))
          truncated = true
          break
        }
        rows.push(...(chunk as SqlValue[][]))
      }
      const types = result.columnTypes()
      const columns = result.columnNames().map((name, i) => ({ name, type: types[i].toString() }))
      return { ok: true, columns, rows, truncated, maxRows: req.maxRows, elapsedMs: Math.round(performance.now() - t0) }
    })
  }

  /**
   * Writes every row of one statement to a new Parquet file (sql-parquet.ts); the statement is
   * checked exactly as for run(). Cancelled or failed, nothing is left behind.
   */
  exportParquet(lake: Lake, req: ParquetRequest): Promise<ParquetAnswer> {
    return this.checked(lake, req.sql, req.queryId, async (conn, _self, t0) => {
      const rows = await copyToParquet(conn, req.sql, req.file)
      return { ok: true, file: req.file, rows, elapsedMs: Math.round(performance.now() - t0) }
    })
  }

  /**
   * `work` on a console connection of its own, in a READ ONLY transaction, after the guard
   * accepted `sql`: the one way any statement of a user reaches DuckDB.
   */
  private checked<A>(
    lake: Lake,
    sql: string,
    id: string | undefined,
    work: (conn: DuckDBConnection, self: Running, t0: number) => Promise<A | SqlFailure>
  ): Promise<A | SqlFailure> {
    // Registered before the first await, so a cancel sent right after the run always finds it.
    // DuckDB also forgets an interrupt that arrives between statements: a cancel is a flag too,
    // checked before each step.
    const self: Running = { conn: null, cancelled: false }
    if (id !== undefined) {
      if (this.running.has(id)) return Promise.resolve({ ok: false, problem: { kind: 'invalid', message: `a query with the id ${id} is already running` } })
      this.running.set(id, self)
    }
    const answer = lake.use(async (): Promise<A | SqlFailure> => {
      const t0 = performance.now()
      const conn = await lake.connect()
      self.conn = conn
      // Stopping or switching lakes waits for queries in flight; a console query is cut short.
      const offClosing = lake.onClosing(() => cancel(self))
      try {
        if (self.cancelled) return CANCELLED
        await conn.run('BEGIN TRANSACTION READ ONLY')
        const verdict = await checkReadOnly(conn, sql)
        if (!verdict.ok) {
          const position = verdict.offset === undefined ? undefined : positionOf(sql, verdict.offset)
          return { ok: false, problem: { kind: verdict.kind, message: verdict.message, ...(position ? { position } : {}) } }
        }
        if (self.cancelled) return CANCELLED
        return await work(conn, self, t0)
      } catch (err) {
        if (!isInterrupt(err) && !isDuckDBError(err)) throw err
        if (self.cancelled) return CANCELLED
        return { ok: false, problem: problemFromError(sql, err) }
      } finally {
        offClosing()
        conn.closeSync()
      }
    })
    return answer.finally(() => {
      if (id !== undefined) this.running.delete(id)
    })
  }

  /** Interrupts the query `queryId` if it is running; false when there is none by that id. */
  cancel(queryId: string): boolean {
    const running = this.running.get(queryId)
    if (!running) return false
    cancel(running)
    return true
  }
}

function cancel(running: Running): void {
  running.cancelled = true
  running.conn?.interrupt()
}

/** The lake's tables and views with their columns, for the editor's completion. */
export async function sqlSchema(conn: DuckDBConnection): Promise<SqlSchemaTable[]> {
  const reader = await conn.runAndReadAll(
    `SELECT c.table_name, t.table_type, c.column_name, c.data_type
     FROM information_schema.columns c
     JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
     WHERE c.table_catalog = current_database() AND c.table_schema = 'main'
     ORDER BY c.table_name, c.ordinal_position`
  )
  const tables = new Map<string, SqlSchemaTable>()
  for (const [table, kind, column, type] of reader.getRows().map((r) => r.map(String))) {
    let t = tables.get(table)
    if (!t) tables.set(table, (t = { name: table, kind: kind === 'VIEW' ? 'view' : 'table', columns: [] }))
    t.columns.push({ name: column, type })
  }
  return [...tables.values()]
}
