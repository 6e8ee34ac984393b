import type { DuckDBConnection } from '@duckdb/node-api'
import { attributesOf, type CheckedRuleset } from './check-ruleset'
import { currentLabelsSql } from './labels'
import { listValues, type ListSet } from './lists'
import { scoredSql } from './score-sql'
import { normalizeTime, silverInputsSql, TimeRangeError, type TimeRange } from './silver-inputs'
import { SqlParams } from './sql-params'
import type { BacktestReport, LabelReport, Outcome, RuleBreakdown } from '../../shared/rules'

// What a candidate ruleset would have alerted on, against what silver's scores did: one
// set-based pass over silver_orders in a time range into a temp table of this connection (one
// row per order: current alert, candidate alert, rules fired, label), then counts and samples
// from it. Only that pass reads the lake, so every figure comes from one snapshot; run it on a
// connection of its own (lake.connect()) and ingest goes on beside it.

export interface BacktestOptions {
  candidate: CheckedRuleset
  /** The lists the candidate's conditions were checked against. */
  lists: ListSet
  /** The threshold silver's scores are alerts at (the live ruleset's)… */
  currentThreshold: number
  /** …unless the version that scored a row is here: version → its threshold. */
  versionThresholds?: ReadonlyMap<number, number>
  /** order_ts from (inclusive) and to (exclusive); the whole of silver when omitted. */
  from?: string | Date
  to?: string | Date
  /** A table of labels (labels.ts); without it the report has no label figures. */
  labelsTable?: string
  /** Order ids kept behind each count, newest first; default 10. */
  sampleSize?: number
}

// the report's shape is part of the contract (API and `rules backtest --json`)
export type { BacktestReport, LabelReport, Outcome, RuleBreakdown } from '../../shared/rules'

export const DEFAULT_SAMPLE_SIZE = 10
export const MAX_SAMPLE_SIZE = 100

const ALERTS = { current_alerts: 'cur', candidate_alerts: 'cand', gained: 'cand AND NOT cur', lost: 'cur AND NOT cand' }
const outcome = (alert: string) => ({
  caught: `label = 'fraud' AND ${alert}`,
  missed: `label = 'fraud' AND NOT ${alert}`,
  legit_flagged: `label = 'legit' AND ${alert}`
})
const prefixed = (prefix: string, preds: Record<string, string>) => Object.fromEntries(Object.entries(preds).map(([k, v]) => [`${prefix}${k}`, v]))
const LABEL_TOTALS = { fraud: `label = 'fraud'`, legit: `label = 'legit'`, ...prefixed('current_', outcome('cur')), ...prefixed('candidate_', outcome('cand')) }
const RULE = { matched: 'true', alerts: 'cand', gained: ALERTS.gained, lost: ALERTS.lost }
const RULE_LABELS = { matched_fraud: `label = 'fraud'`, matched_legit: `label = 'legit'`, alerts_fraud: `cand AND label = 'fraud'`, alerts_legit: `cand AND label = 'legit'` }

/** count and sample columns (c_<name>, s_<name>) for each predicate over the backtest table. */
function aggregates(preds: Record<string, string>, sample: string): string {
  return Object.entries(preds)
    .map(([name, p]) => `count(*) FILTER (WHERE ${p}) AS c_${name}, arg_min(order_id, seq, ${sample}) FILTER (WHERE ${p}) AS s_${name}`)
    .join(',\n      ')
}

type Row = Record<string, unknown>
const count = (row: Row, name: string) => Number(row[`c_${name}`] ?? 0)
const sample = (row: Row | undefined, name: string) => ((row?.[`s_${name}`] as string[] | null) ?? []).map(String)
const ratio = (num: number, den: number) => (den > 0 ? num / den : null)

let tableSeq = 0

export async function backtest(conn: DuckDBConnection, opts: BacktestOptions): Promise<BacktestReport> {
  const sampleSize = opts.sampleSize ?? DEFAULT_SAMPLE_SIZE
  if (!Number.isInteger(sampleSize) || sampleSize < 1 || sampleSize > MAX_SAMPLE_SIZE) {
    throw new RangeError(`sampleSize must be a whole number from 1 to ${MAX_SAMPLE_SIZE}, got ${sampleSize}`)
  }
  if (!Number.isInteger(opts.currentThreshold)) throw new RangeError(`currentThreshold must be a whole number, got ${opts.currentThreshold}`)
  const range: TimeRange = {
    from: opts.from === undefined ? undefined : normalizeTime('from', opts.from),
    to: opts.to === undefined ? undefined : normalizeTime('to', opts.to)
  }
  if (range.from && range.to && range.from >= range.to) throw new TimeRangeError(`from (${range.from}) must be before to (${range.to})`)

  const { candidate } = opts
  const params = new SqlParams()
  const scored = scoredSql(candidate, silverInputsSql(params, range, attributesOf(candidate)), { params, lists: listValues(opts.lists) })
  const labels = opts.labelsTable ? currentLabelsSql(opts.labelsTable) : null
  const table = `_rules_backtest_${++tableSeq}`
  // each row against the threshold of the version that scored it; rows scored before versions
  // were recorded (NULL) against the current one
  const versions = [...(opts.versionThresholds ?? [])]
  const currentThreshold = versions.length
    ? `CASE x.silver_version ${versions.map(([v, t]) => `WHEN ${params.integer(v)} THEN ${params.number(t)}`).join(' ')} ELSE ${params.number(opts.currentThreshold)} END`
    : params.number(opts.currentThreshold)
  await conn.run(
    `CREATE TEMP TABLE ${table} AS
    SELECT x.order_id, x.silver_score >= ${currentThreshold} AS cur, x.rules_score >= ${params.number(candidate.threshold)} AS cand,
      x.rules_fired AS fired, ${labels ? 'l.label' : 'NULL::VARCHAR AS label'},
      row_number() OVER (ORDER BY x.order_ts DESC, x.order_id) AS seq
    FROM (${scored}) x ${labels ? `LEFT JOIN (${labels}) l ON l.order_id = x.order_id` : ''}`,
    params.values,
    params.types
  )
  try {
    const totalPreds = { orders: 'true', ...ALERTS, ...(labels ? LABEL_TOTALS : {}) }
    const rulePreds = { ...RULE, ...(labels ? RULE_LABELS : {}) }
    const n = new SqlParams()
    const s = n.integer(sampleSize)
    const totals = (await conn.runAndReadAll(`SELECT ${aggregates(totalPreds, s)} FROM ${table}`, n.values, n.types)).getRowObjectsJS()[0] as Row
    const byRule = new Map(
      (
        await conn.runAndReadAll(
          `SELECT rule, ${aggregates(rulePreds, s)} FROM (SELECT * EXCLUDE (fired), unnest(fired) AS rule FROM ${table}) GROUP BY rule`,
          n.values,
          n.types
        )
      )
        .getRowObjectsJS()
        .map((r) => [Number(r.rule), r as Row])
    )
    return {
      from: range.from ?? null,
      to: range.to ?? null,
      current_threshold: opts.currentThreshold,
      candidate_threshold: candidate.threshold,
      orders: count(totals, 'orders'),
      current_alerts: count(totals, 'current_alerts'),
      candidate_alerts: count(totals, 'candidate_alerts'),
      gained: count(totals, 'gained'),
      lost: count(totals, 'lost'),
      samples: {
        current_alerts: sample(totals, 'current_alerts'),
        candidate_alerts: sample(totals, 'candidate_alerts'),
        gained: sample(totals, 'gained'),
        lost: sample(totals, 'lost')
      },
      per_rule: candidate.rules.map((rule, k) => ruleBreakdown(rule.id, rule.points, byRule.get(k), labels !== null)),
      labels: labels ? labelReport(opts.labelsTable!, totals) : null
    }
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${table}`)
  }
}

function ruleBreakdown(id: string, points: number, row: Row | undefined, withLabels: boolean): RuleBreakdown {
  const c = (name: string) => (row ? count(row, name) : 0)
  return {
    id,
    points,
    matched: c('matched'),
    alerts: c('alerts'),
    gained: c('gained'),
    lost: c('lost'),
    samples: { matched: sample(row, 'matched'), alerts: sample(row, 'alerts'), gained: sample(row, 'gained'), lost: sample(row, 'lost') },
    labels: withLabels
      ? {
          matched_fraud: c('matched_fraud'),
          matched_legit: c('matched_legit'),
          alerts_fraud: c('alerts_fraud'),
          alerts_legit: c('alerts_legit'),
          precision: ratio(c('alerts_fraud'), c('alerts_fraud') + c('alerts_legit'))
        }
      : null
  }
}

function labelReport(table: string, totals: Row): LabelReport {
  const fraud = count(totals, 'fraud')
  const side = (prefix: string): Outcome => {
    const caught = count(totals, `${prefix}caught`)
    const legitFlagged = count(totals, `${prefix}legit_flagged`)
    return {
      caught,
      missed: count(totals, `${prefix}missed`),
      legit_flagged: legitFlagged,
      precision: ratio(caught, caught + legitFlagged),
      recall: ratio(caught, fraud),
      samples: { caught: sample(totals, `${prefix}caught`), missed: sample(totals, `${prefix}missed`), legit_flagged: sample(totals, `${prefix}legit_flagged`) }
    }
  }
  return { table, fraud, legit: count(totals, 'legit'), current: side('current_'), candidate: side('candidate_') }
}
