import type { CheckedRuleset } from './check-ruleset'
import { firedSql, type SqlContext } from './compile-sql'
import { inputsSql } from './inputs-sql'

// A ruleset applied to a relation of rule inputs (silver-inputs.ts, or a batch's rows later):
// every input column plus
//   rules_score   INTEGER    the points of the rules that fired
//   rules_fired   INTEGER[]  indexes (0-based, ruleset order) of the rules that fired
//   rules_inputs  VARCHAR[]  with `inputs`: each fired rule's inputs line, same order
// Rules are evaluated once each; score and lists are built from those results.

export interface ScoreOptions {
  /** Also build each fired rule's inputs line (costs a string per fired rule). */
  inputs?: boolean
  /** Attribute columns of `inputs` are named this prefix + the attribute (so they cannot clash with other columns `inputs` carries). */
  attributePrefix?: string
}

export function scoredSql(ruleset: CheckedRuleset, inputs: string, ctx: Omit<SqlContext, 'column'>, opts: ScoreOptions = {}): string {
  const prefix = opts.attributePrefix ?? ''
  const c: SqlContext = { ...ctx, column: (a) => `i."${prefix}${a}"` }
  const n = ruleset.rules.length
  const f = (k: number) => `_fired_${k}`
  const fired = ruleset.rules.map((r, k) => `${firedSql(r.condition.expr, c)} AS ${f(k)}`)
  if (n === 0) {
    return `SELECT i.*, 0 AS rules_score, []::INTEGER[] AS rules_fired${opts.inputs ? ', []::VARCHAR[] AS rules_inputs' : ''} FROM (${inputs}) i`
  }
  const score = ruleset.rules.map((r, k) => `CASE WHEN ${f(k)} THEN ${ctx.params.number(r.points)} ELSE 0 END`).join(' + ')
  const firedList = `list_filter([${ruleset.rules.map((_, k) => `CASE WHEN ${f(k)} THEN ${k} END`).join(', ')}], x -> x IS NOT NULL)`
  const inputsList = opts.inputs
    ? `, list_filter([${ruleset.rules.map((r, k) => `CASE WHEN ${f(k)} THEN ${inputsSql(r.condition.expr, r.points, c)} END`).join(', ')}], x -> x IS NOT NULL) AS rules_inputs`
    : ''
  return `SELECT i.* EXCLUDE (${ruleset.rules.map((_, k) => f(k)).join(', ')}),
    (${score})::INTEGER AS rules_score,
    ${firedList}::INTEGER[] AS rules_fired${inputsList}
  FROM (SELECT i.*, ${fired.join(',\n      ')} FROM (${inputs}) i) i`
}
