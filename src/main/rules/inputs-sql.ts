import type { Expr, InTarget } from './ast'
import { attribute, type ValueType } from './attributes'
import type { SqlContext } from './compile-sql'

// The "inputs" of a fired rule: its condition written out with each attribute's value beside
// its name, then the points, e.g.  amount 5,200 > 5,000: +4  — what an analyst needs to see why
// an alert was raised. Text taken from the condition (literals, list names) is bound like any
// other value; only the formatting of attribute values is SQL of our own.

type Piece = { text: string } | { sql: string }

/** How many values of an  in ( … )  are written out before "… N more". */
const TUPLE_SHOWN = 5

const PRECEDENCE = { or: 1, and: 2, not: 3, compare: 4, additive: 5, multiplicative: 6, negate: 7, atom: 8 } as const

function precedence(e: Expr): number {
  switch (e.kind) {
    case 'logical':
      return PRECEDENCE[e.op]
    case 'not':
      return PRECEDENCE.not
    case 'compare':
    case 'in':
    case 'isNull':
      return PRECEDENCE.compare
    case 'arith':
      return e.op === '+' || e.op === '-' ? PRECEDENCE.additive : PRECEDENCE.multiplicative
    case 'negate':
      return PRECEDENCE.negate
    default:
      return PRECEDENCE.atom
  }
}

export const formatNumber = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 6 })

/** An attribute's value as display text; 'unknown' for NULL. */
function valueText(type: ValueType, sql: string): string {
  switch (type) {
    case 'number':
      // up to 4 decimals, trailing zeros dropped: 23.999 hours must not read as 24 beside "< 24"
      return `CASE WHEN ${sql} IS NULL THEN 'unknown' WHEN ${sql} = trunc(${sql}) AND abs(${sql}) < 1e15 THEN format('{:,}', (${sql})::BIGINT) ELSE rtrim(rtrim(format('{:,.4f}', ${sql}), '0'), '.') END`
    case 'string':
      return `coalesce(${sql}, 'unknown')`
    case 'boolean':
      return `coalesce((${sql})::VARCHAR, 'unknown')`
    case 'list':
      return `coalesce('[' || array_to_string(${sql}, ', ') || ']', 'unknown')`
  }
}

function pieces(e: Expr | InTarget, ctx: SqlContext, out: Piece[]): void {
  const text = (t: string): void => {
    out.push({ text: t })
  }
  const child = (c: Expr, min: number) => {
    const wrap = precedence(c) < min
    if (wrap) text('(')
    pieces(c, ctx, out)
    if (wrap) text(')')
  }
  switch (e.kind) {
    case 'number':
      return text(formatNumber(e.value))
    case 'string':
      return text(`'${e.value.replace(/'/g, "''")}'`)
    case 'boolean':
      return text(String(e.value))
    case 'attribute': {
      text(`${e.name} `)
      out.push({ sql: valueText(attribute(e.name)!.type, ctx.column(e.name)) })
      return
    }
    case 'not':
      text('not ')
      return child(e.operand, PRECEDENCE.not)
    case 'negate':
      text('-')
      return child(e.operand, PRECEDENCE.negate)
    case 'logical':
    case 'compare':
    case 'arith': {
      const p = precedence(e)
      child(e.left, p)
      text(` ${e.op} `)
      // and/or are associative; the others need parentheses on the right at equal precedence
      return child(e.right, e.kind === 'logical' ? p : p + 1)
    }
    case 'isNull':
      child(e.operand, PRECEDENCE.compare + 1)
      return text(e.negated ? ' is not null' : ' is null')
    case 'in':
      child(e.value, PRECEDENCE.compare + 1)
      text(e.negated ? ' not in ' : ' in ')
      return pieces(e.target, ctx, out)
    case 'tuple': {
      text('(')
      e.items.slice(0, TUPLE_SHOWN).forEach((item, i) => {
        if (i > 0) text(', ')
        child(item, PRECEDENCE.compare + 1)
      })
      if (e.items.length > TUPLE_SHOWN) text(`, … ${e.items.length - TUPLE_SHOWN} more`)
      return text(')')
    }
    case 'namedList':
      return text(`list('${e.name.replace(/'/g, "''")}')`)
  }
}

/** SQL text of the rule's inputs line, e.g. 'amount 5,200 > 5,000: +4'. */
export function inputsSql(e: Expr, points: number, ctx: SqlContext): string {
  const out: Piece[] = []
  pieces(e, ctx, out)
  out.push({ text: `: ${points >= 0 ? '+' : ''}${points}` })
  const parts: string[] = []
  let pending = ''
  for (const p of out) {
    if ('text' in p) pending += p.text
    else {
      if (pending) parts.push(ctx.params.text(pending))
      pending = ''
      parts.push(p.sql)
    }
  }
  if (pending) parts.push(ctx.params.text(pending))
  return parts.length === 1 ? parts[0] : `concat(${parts.join(', ')})`
}
