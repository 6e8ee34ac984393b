// Fraud rules as data: a ruleset (threshold + rules with conditions in a small language),
// checked, compiled to DuckDB SQL with bound values, and backtested over silver.

export type { Expr } from './ast'
export { ATTRIBUTES, VELOCITY_WINDOW_MINUTES, type Attribute, type ValueType } from './attributes'
export { backtest, DEFAULT_SAMPLE_SIZE, MAX_SAMPLE_SIZE, type BacktestOptions, type BacktestReport, type LabelReport, type Outcome, type RuleBreakdown } from './backtest'
export { attributesOf, checkRuleset, readRuleset, type CheckedRule, type CheckedRuleset } from './check-ruleset'
export { conditionSql, firedSql, type SqlContext } from './compile-sql'
export { defaultRuleset, DefaultRulesetError } from './default-ruleset'
export { positionAt, RuleError, type RuleErrorKind, type SourcePosition } from './errors'
export { inputsSql } from './inputs-sql'
export { currentLabelsSql, LABEL_VALUES, LabelsTableError, type LabelValue } from './labels'
export { importListFile, ListError, listSetFromJson, listSetToJson, listValues, parseListText, valueListSchema, withList, type ListSet, type ValueList } from './lists'
export { MAX_CONDITION_LENGTH, MAX_DEPTH, MAX_NODES, parseCondition } from './parser'
export { parseRulesetJson, RulesetError, validateRuleset, type Rule, type Ruleset, type RulesetIssue } from './ruleset'
export { scoredSql, type ScoreOptions } from './score-sql'
export { normalizeTime, silverInputsSql, TimeRangeError, type TimeRange } from './silver-inputs'
export { SqlParams } from './sql-params'
export { checkCondition, type CheckedCondition } from './typecheck'
