import { RuleError } from './errors'
import type { ListSet } from './lists'
import { parseCondition } from './parser'
import { parseRulesetJson, RulesetError, type Rule, type Ruleset, type RulesetIssue } from './ruleset'
import { checkCondition, type CheckedCondition } from './typecheck'

// Parses and type-checks the condition of every rule, reporting every bad rule at once (a file
// written by hand usually has more than one mistake), each with its position in its condition.

export interface CheckedRule extends Rule {
  condition: CheckedCondition
}

export interface CheckedRuleset {
  threshold: number
  rules: CheckedRule[]
}

export function checkRuleset(ruleset: Ruleset, lists: ListSet): CheckedRuleset {
  const names = new Set(lists.keys())
  const issues: RulesetIssue[] = []
  const rules: CheckedRule[] = []
  ruleset.rules.forEach((rule, i) => {
    try {
      rules.push({ ...rule, condition: checkCondition(rule.when, parseCondition(rule.when), names) })
    } catch (err) {
      if (!(err instanceof RuleError)) throw err
      issues.push({ path: `rules[${i}].when (${rule.id})`, message: err.message, position: err.position })
    }
  })
  if (issues.length) throw new RulesetError(issues)
  return { threshold: ruleset.threshold, rules }
}

/** The attributes any rule of the ruleset reads. */
export function attributesOf(ruleset: CheckedRuleset): Set<string> {
  return new Set(ruleset.rules.flatMap((r) => [...r.condition.attributes]))
}

/** A ruleset file's text, its shape and every condition checked. */
export function readRuleset(text: string, lists: ListSet): CheckedRuleset {
  return checkRuleset(parseRulesetJson(text), lists)
}
