import { z } from 'zod'
import { positionAt, type SourcePosition } from './errors'
import { jsonErrorOffset } from './json-position'

// A ruleset is a threshold plus rules; a rule is an id, a description, a condition (`when`, in
// the language of parser.ts) and the points it adds when the condition holds. An order whose
// points reach the threshold is an alert. This JSON is the form of `streamdesk rules export`:
//   {"threshold": 3, "rules": [{"id": "...", "description": "...", "when": "...", "points": 2}]}

export const RULE_ID = /^[a-z][a-z0-9_]{0,63}$/
export const MAX_RULES = 200
export const MAX_POINTS = 1000

export const ruleSchema = z
  .object({
    id: z.string().regex(RULE_ID, 'must start with a lower-case letter and hold only a-z, 0-9 and _ (at most 64)'),
    description: z.string().max(500).default(''),
    when: z.string(),
    // negative points let a rule vouch for an order (a trusted customer list)
    points: z.number().int().min(-MAX_POINTS).max(MAX_POINTS)
  })
  .strict()

export const rulesetSchema = z
  .object({
    threshold: z.number().int().min(0).max(MAX_POINTS),
    rules: z.array(ruleSchema).max(MAX_RULES)
  })
  .strict()
  .superRefine((r, ctx) => {
    const seen = new Map<string, number>()
    r.rules.forEach((rule, i) => {
      const first = seen.get(rule.id)
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `'${rule.id}' is also the id of rules[${first}]` })
      else seen.set(rule.id, i)
    })
  })

export type Rule = z.infer<typeof ruleSchema>
export type Ruleset = z.infer<typeof rulesetSchema>

export interface RulesetIssue {
  /** Where in the JSON, e.g. "rules[2].when". */
  path: string
  message: string
  /** Inside the condition (for `when`) or the JSON text (for a JSON syntax error). */
  position?: SourcePosition
}

export class RulesetError extends Error {
  constructor(readonly issues: RulesetIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('\n'))
    this.name = 'RulesetError'
  }
}

const pathText = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '') || '(ruleset)'

/** A ruleset object; RulesetError naming every bad field. */
export function validateRuleset(json: unknown): Ruleset {
  const r = rulesetSchema.safeParse(json)
  if (r.success) return r.data
  throw new RulesetError(r.error.issues.map((i) => ({ path: pathText(i.path), message: i.message })))
}

/** A ruleset from JSON text; a syntax error names its line and column in the text. */
export function parseRulesetJson(text: string): Ruleset {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    const offset = jsonErrorOffset(text)
    const position = positionAt(text, offset ?? 0)
    const found = offset === null || offset >= text.length ? 'the end of the text' : JSON.stringify(text[offset])
    throw new RulesetError([
      { path: '(json)', message: `line ${position.line}, column ${position.column}: not valid JSON, unexpected ${found}`, position }
    ])
  }
  return validateRuleset(json)
}
