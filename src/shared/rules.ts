// Fraud rules as the contract carries them (API, CLI JSON): rulesets, versions, lists, labels,
// and the backtest report. snake_case where `streamdesk rules backtest --json` prints the same
// object. The engine's rules module (src/main/rules) produces these.

export interface RuleDto {
  id: string
  description: string
  when: string
  points: number
}

export interface RulesetDto {
  threshold: number
  rules: RuleDto[]
}

export interface RulesetVersionDto {
  version: number
  ruleset: RulesetDto
  promotedBy: string
  promotedAt: string
  note: string
  restoredFrom: number | null
}

export interface ActiveRulesetDto {
  /** null: the lake has no version yet; the first run stores this seed as version 1. */
  version: number | null
  ruleset: RulesetDto
}

export interface RulePosition {
  offset: number
  line: number
  column: number
}

export interface RulesetIssueDto {
  /** Where in the JSON, e.g. "rules[2].when (velocity)". */
  path: string
  message: string
  /** Inside the condition (for `when`) or the JSON text (for a JSON syntax error). */
  position?: RulePosition
}

export type RulesCheckResult = { ok: true; ruleset: RulesetDto } | { ok: false; issues: RulesetIssueDto[] }

export interface ValueListDto {
  name: string
  description: string
  values: string[]
}

export type LabelValueDto = 'fraud' | 'legit' | 'cleared'

export interface OrderLabelDto {
  orderId: string
  label: 'fraud' | 'legit'
  author: string
  labelledAt: string
  note: string
}

export interface Outcome {
  caught: number
  missed: number
  legit_flagged: number
  /** caught ÷ (caught + legit_flagged); null without any. */
  precision: number | null
  /** caught ÷ labelled fraud; null without labelled fraud. */
  recall: number | null
  samples: { caught: string[]; missed: string[]; legit_flagged: string[] }
}

export interface LabelReport {
  table: string
  /** Orders in the range whose current label is fraud, legit. */
  fraud: number
  legit: number
  current: Outcome
  candidate: Outcome
}

export interface RuleBreakdown {
  id: string
  points: number
  /** Orders the rule fired on. */
  matched: number
  /** …of them, candidate alerts. */
  alerts: number
  /** …of them, alerts the candidate gains (silver's score did not alert). */
  gained: number
  /** …of them, alerts the candidate loses (silver's score alerted, the candidate does not). */
  lost: number
  samples: { matched: string[]; alerts: string[]; gained: string[]; lost: string[] }
  labels: {
    matched_fraud: number
    matched_legit: number
    alerts_fraud: number
    alerts_legit: number
    /** Share of its candidate alerts labelled fraud, of those labelled; null without any. */
    precision: number | null
  } | null
}

/** snake_case: this is what `streamdesk rules backtest --json` prints. */
export interface BacktestReport {
  from: string | null
  to: string | null
  current_threshold: number
  candidate_threshold: number
  orders: number
  current_alerts: number
  candidate_alerts: number
  gained: number
  lost: number
  samples: { current_alerts: string[]; candidate_alerts: string[]; gained: string[]; lost: string[] }
  per_rule: RuleBreakdown[]
  labels: LabelReport | null
}

/** A candidate ruleset scoring new batches beside the active version (shadow mode). */
export interface ShadowRunDto {
  shadowId: number
  ruleset: RulesetDto
  startedBy: string
  startedAt: string
  note: string
  /** null while it runs. */
  endedAt: string | null
  /** 'dropped' or 'promoted as version N'; null while it runs. */
  outcome: string | null
}

/** Live against shadow, over the orders the shadow scored. snake_case like the backtest report. */
export interface ShadowReport {
  run: ShadowRunDto
  orders: number
  /** Of those orders, alerts of the live version(s) (in fraud_alerts). */
  live_alerts: number
  shadow_alerts: number
  both: number
  live_only: number
  shadow_only: number
  /** Up to 10 order ids each, newest batch first. */
  samples: { live_only: string[]; shadow_only: string[] }
  /** Orders each shadow rule fired on. */
  per_rule: { id: string; matched: number }[]
}
