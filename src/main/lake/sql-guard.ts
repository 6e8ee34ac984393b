import type { DuckDBConnection } from '@duckdb/node-api'
import { sqlString } from './lake'

// Decides whether a console statement may run, from DuckDB's own parse tree
// (json_serialize_sql), never from keywords: a keyword test is fooled by comments, quoting and
// casing, the parser is not. json_serialize_sql only serializes SELECT statements, so anything
// that writes, attaches, installs, loads, copies, sets or checkpoints fails here already. What a
// SELECT can still do beyond the lake's tables is reach a table function (read_csv, glob, query…),
// a function with side effects (nextval, getenv), or a replacement scan: `FROM 'x.csv'` is a base
// table that does not exist, which DuckDB turns into read_csv. The tree walk refuses those three.
// The statement then runs in a READ ONLY transaction (sql-console.ts), a second lock on writes.

export type GuardVerdict = { ok: true } | { ok: false; kind: 'refused' | 'invalid'; message: string; offset?: number }

/** Table functions that read only the catalog or compute rows: nothing outside the lake. */
const ALLOWED_TABLE_FUNCTIONS = new Set([
  'range',
  'generate_series',
  'unnest',
  'json_each',
  'json_tree',
  'duckdb_tables',
  'duckdb_views',
  'duckdb_columns',
  'duckdb_schemas',
  'duckdb_types',
  'duckdb_functions',
  'duckdb_constraints',
  'duckdb_indexes',
  'duckdb_keywords',
  'pragma_table_info',
  'pragma_show'
])

/** Named in the refusal so the user learns why, not just that. */
const FILE_READERS = /^(read_|parquet_|sniff_csv$|glob$|.*_scan$|st_read|iceberg_|delta_|sqlite_|postgres_|mysql_)/

/** Functions a SELECT may call that change state or read outside the lake. */
const REFUSED_FUNCTIONS = new Map<string, string>([
  ['nextval', 'advances a sequence (a write)'],
  ['setval', 'sets a sequence (a write)'],
  ['getenv', 'reads the environment of the process'],
  ['query', 'runs SQL given as text, which cannot be checked'],
  ['query_table', 'reads tables named as text, which cannot be checked']
])

const NO_LOCATION = 18446744073709551615

type Node = { [key: string]: unknown }
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v)

function locationOf(node: Node): number | undefined {
  const at = node.query_location
  return typeof at === 'number' && at !== NO_LOCATION ? at : undefined
}

interface TableRef {
  catalog: string
  schema: string
  name: string
  offset?: number
}

/** Every problem the tree holds, first one found wins; base tables are collected for the catalog check. */
function walk(value: unknown, ctes: ReadonlySet<string>, tables: TableRef[]): GuardVerdict {
  if (Array.isArray(value)) {
    for (const v of value) {
      const verdict = walk(v, ctes, tables)
      if (!verdict.ok) return verdict
    }
    return { ok: true }
  }
  if (!isNode(value)) return { ok: true }
  let scope = ctes
  // A CTE is visible in the node that defines it and everything nested in it, as in DuckDB.
  const cteMap = (value.cte_map as Node | undefined)?.map
  if (Array.isArray(cteMap) && cteMap.length > 0) {
    scope = new Set([...ctes, ...cteMap.map((e) => String((e as Node).key).toLowerCase())])
  }
  if (value.type === 'TABLE_FUNCTION' && isNode(value.function)) {
    const name = String(value.function.function_name).toLowerCase()
    if (!ALLOWED_TABLE_FUNCTIONS.has(name)) {
      const why = FILE_READERS.test(name) ? 'reads files' : (REFUSED_FUNCTIONS.get(name) ?? 'is not one the console allows')
      return refuse(`the table function ${name}() ${why}; the console reads only the lake's tables`, locationOf(value))
    }
  } else if (value.type === 'BASE_TABLE') {
    const name = String(value.table_name)
    const qualified = value.catalog_name !== '' || value.schema_name !== ''
    if (qualified || !scope.has(name.toLowerCase())) {
      tables.push({ catalog: String(value.catalog_name), schema: String(value.schema_name), name, offset: locationOf(value) })
    }
  }
  if (typeof value.function_name === 'string') {
    const name = value.function_name.toLowerCase()
    const why = REFUSED_FUNCTIONS.get(name) ?? (FILE_READERS.test(name) ? 'reads files' : undefined)
    if (why) return refuse(`the function ${name}() ${why}; the console only reads the lake`, locationOf(value))
  }
  for (const child of Object.values(value)) {
    const verdict = walk(child, scope, tables)
    if (!verdict.ok) return verdict
  }
  return { ok: true }
}

/** DuckDB also turns a PIVOT without an IN list into two statements: a CREATE TYPE (a write) and the query. */
function tooMany(count: number): GuardVerdict {
  return refuse(`one statement at a time; DuckDB reads this text as ${count} (a PIVOT needs its values listed: ON col IN ('a', 'b'))`)
}

function refuse(message: string, offset?: number): GuardVerdict {
  return { ok: false, kind: 'refused', message: `refused: ${message}`, offset }
}

/** Tables and views the statement may name, as catalog.schema.name keys in lower case. */
async function knownRelations(conn: DuckDBConnection): Promise<Set<string>> {
  const reader = await conn.runAndReadAll(
    `SELECT database_name, schema_name, table_name FROM duckdb_tables()
     UNION ALL SELECT database_name, schema_name, view_name FROM duckdb_views()`
  )
  return new Set(reader.getRows().map((r) => r.map((v) => String(v).toLowerCase()).join('.')))
}

function resolves(ref: TableRef, known: Set<string>): boolean {
  const want = [ref.catalog, ref.schema, ref.name].map((s) => s.toLowerCase())
  for (const key of known) {
    const parts = key.split('.')
    if (parts.length !== 3) continue
    // an unqualified part matches any; DuckDB's own binder then picks the one it means
    if (want.every((w, i) => w === '' || w === parts[i])) return true
  }
  return false
}

/** Checks `sql` on `conn` (the connection it will run on, so the catalog is the one it sees). */
export async function checkReadOnly(conn: DuckDBConnection, sql: string): Promise<GuardVerdict> {
  const reader = await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`)
  const parsed = JSON.parse(String(reader.getRows()[0][0])) as Node
  if (parsed.error) {
    const message = String(parsed.error_message)
    if (parsed.error_type === 'parser') {
      const at = Number(parsed.position)
      return { ok: false, kind: 'invalid', message: `Parser Error: ${message}`, offset: Number.isFinite(at) ? at : undefined }
    }
    if (/Only SELECT statements/i.test(message)) {
      // extracting parses and runs nothing; it tells a script from one statement that is not a SELECT
      const count = (await conn.extractStatements(sql)).count
      if (count > 1) return tooMany(count)
      return refuse(`only a SELECT statement (or DESCRIBE/SHOW/SUMMARIZE) can run here, and this statement is not one (${statementKind(sql)})`)
    }
    return { ok: false, kind: 'invalid', message }
  }
  const statements = parsed.statements as unknown[]
  if (statements.length === 0) return { ok: false, kind: 'invalid', message: 'there is no statement to run' }
  if (statements.length > 1) return tooMany(statements.length)
  const tables: TableRef[] = []
  const verdict = walk(statements[0], new Set(), tables)
  if (!verdict.ok || tables.length === 0) return verdict
  const known = await knownRelations(conn)
  const unknown = tables.find((t) => !resolves(t, known))
  if (unknown) {
    const name = [unknown.catalog, unknown.schema, unknown.name].filter(Boolean).join('.')
    return refuse(`${JSON.stringify(name)} is not a table of the lake (DuckDB would read it as a file)`, unknown.offset)
  }
  return { ok: true }
}

/** For the refusal's wording only (the parser decided): the statement's first word. */
function statementKind(sql: string): string {
  const word = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase()
  return word ? `it starts with ${word}` : 'DuckDB cannot serialize it as a SELECT'
}
