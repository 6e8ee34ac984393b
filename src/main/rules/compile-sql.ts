import type { Expr } from './ast'
import type { SqlParams } from './sql-params'

// A checked condition as a DuckDB expression over the relation the rules read (one row per
// order, one column per attribute). Every literal, list content included, becomes a bound
// parameter; the SQL text is made only of operators, parentheses and attribute columns, whose
// names come from the attribute table, never from the condition.

export interface SqlContext {
  params: SqlParams
  /** The SQL of an attribute's value in the relation the rules read. */
  column: (attribute: string) => string
  /** Named lists: name → values. */
  lists: ReadonlyMap<string, readonly string[]>
}

const SQL_OP: Record<string, string> = { '=': '=', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=', '+': '+', '-': '-', '*': '*', '/': '/', '%': '%' }

/** A list bound once per statement, however many rules use it. */
const boundLists = new WeakMap<SqlParams, Map<string, string>>()

function listParam(ctx: SqlContext, name: string): string {
  let bound = boundLists.get(ctx.params)
  if (!bound) boundLists.set(ctx.params, (bound = new Map()))
  let p = bound.get(name)
  if (!p) {
    const values = ctx.lists.get(name)
    // the type checker refuses unknown lists; a list deleted since is a caller's bug
    if (!values) throw new Error(`list '${name}' is not among the lists given to the compiler`)
    p = ctx.params.textList(values)
    bound.set(name, p)
  }
  return p
}

/** The condition as SQL: true, false or NULL (unknown input). */
export function conditionSql(e: Expr, ctx: SqlContext): string {
  const sql = (x: Expr) => conditionSql(x, ctx)
  switch (e.kind) {
    case 'number':
      return ctx.params.number(e.value)
    case 'string':
      return ctx.params.text(e.value)
    case 'boolean':
      return ctx.params.boolean(e.value)
    case 'attribute':
      return ctx.column(e.name)
    case 'not':
      return `(NOT ${sql(e.operand)})`
    case 'negate':
      return `(- ${sql(e.operand)})`
    case 'logical':
      return `(${sql(e.left)} ${e.op === 'and' ? 'AND' : 'OR'} ${sql(e.right)})`
    case 'compare':
    case 'arith':
      return `(${sql(e.left)} ${SQL_OP[e.op]} ${sql(e.right)})`
    case 'isNull':
      return `(${sql(e.operand)} IS ${e.negated ? 'NOT ' : ''}NULL)`
    case 'in': {
      const not = e.negated ? 'NOT ' : ''
      const t = e.target
      if (t.kind === 'tuple') return `(${sql(e.value)} ${not}IN (${t.items.map(sql).join(', ')}))`
      // a semi-join: DuckDB hashes the list once instead of scanning it per order
      if (t.kind === 'namedList') return `(${sql(e.value)} ${not}IN (SELECT unnest(${listParam(ctx, t.name)})))`
      return `(${not}list_contains(${ctx.column(t.name)}, ${sql(e.value)}))`
    }
  }
}

/** Whether a rule fires: its condition, with unknown counted as not met. */
export function firedSql(e: Expr, ctx: SqlContext): string {
  return `coalesce(${conditionSql(e, ctx)}, false)`
}
