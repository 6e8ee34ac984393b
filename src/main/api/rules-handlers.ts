import { userInfo } from 'node:os'
import { ApiError, type Handlers } from '../../shared/api'
import type { Settings } from '../../shared/settings'
import type { PipelineController } from '../engine/pipeline-controller'
import * as rules from '../engine/rules-service'
import { LabelError } from '../lake/labels-store'
import { RulesStoreError } from '../lake/rules-store'
import { ListError, parseRulesetJson, RulesetError, TimeRangeError, valueListSchema, type Ruleset } from '../rules'

// The rules part of the contract: rulesets, versions, backtest, lists and labels, over the lake
// the dashboard reads. What a person can correct (a bad condition, an unknown version, a list
// name) comes back as a validation error naming it; a ruleset's issues keep their positions.

type RulesHandlerName =
  | 'rules.active'
  | 'rules.versions'
  | 'rules.check'
  | 'rules.backtest'
  | 'rules.promote'
  | 'rules.shadow'
  | 'rules.shadowStart'
  | 'rules.shadowEnd'
  | 'lists.get'
  | 'lists.set'
  | 'labels.set'
  | 'labels.list'

function engineUser(): string {
  try {
    return userInfo().username
  } catch {
    return 'app'
  }
}

/** Runs `work`, turning what a person can correct into a validation error. */
async function correctable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof RulesetError) throw new ApiError('validation', err.message, err.issues.map((i) => ({ field: i.path, message: i.message })))
    if (err instanceof ListError || err instanceof TimeRangeError || err instanceof RulesStoreError || err instanceof LabelError) {
      throw new ApiError('validation', err.message)
    }
    throw err
  }
}

export function rulesHandlers(controller: PipelineController, settings: () => Settings): Pick<Handlers, RulesHandlerName> {
  const fraud = () => settings().fraud
  const parse = (text: string): Ruleset => parseRulesetJson(text)
  return {
    'rules.active': () => controller.withLake((lake) => rules.active(lake, fraud())),
    'rules.versions': () => controller.withLake((lake) => rules.versions(lake)),
    'rules.check': ({ text }) =>
      controller.withLake(async (lake) => {
        try {
          const ruleset = parse(text)
          await rules.check(lake, ruleset)
          return { ok: true as const, ruleset }
        } catch (err) {
          if (err instanceof RulesetError) return { ok: false as const, issues: err.issues }
          throw err
        }
      }),
    'rules.backtest': ({ text, from, to, sampleSize }) =>
      correctable(() => controller.withExistingLake((lake) => rules.backtestRuleset(lake, fraud(), { candidate: parse(text), from, to, sampleSize }))),
    'rules.promote': ({ text, restore, note }) =>
      correctable(() =>
        controller.withExistingLake((lake) =>
          text !== undefined ? rules.promote(lake, fraud(), parse(text), 'app', note) : rules.restore(lake, fraud(), restore!, 'app', note)
        )
      ),
    'rules.shadow': () => controller.withLake((lake) => rules.shadow(lake)),
    'rules.shadowStart': ({ text, note }) => correctable(() => controller.withExistingLake((lake) => rules.shadowStart(lake, fraud(), parse(text), 'app', note))),
    'rules.shadowEnd': ({ action, note }) =>
      correctable(() =>
        controller.withExistingLake(async (lake) => {
          const version = action === 'promote' ? await rules.shadowPromote(lake, 'app', note) : null
          const shadow = action === 'drop' ? await rules.shadowDrop(lake) : ((await rules.shadow(lake))?.run ?? null)
          return { shadow, version }
        })
      ),
    'lists.get': () => controller.withLake((lake) => rules.lists(lake)),
    'lists.set': (args) =>
      correctable(() =>
        controller.withExistingLake(async (lake) => {
          const r = valueListSchema.safeParse(args)
          if (!r.success) {
            const fields = r.error.issues.map((i) => ({ field: i.path.join('.') || '(list)', message: i.message }))
            throw new ApiError('validation', fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields)
          }
          await rules.setList(lake, r.data, 'app')
          return r.data
        })
      ),
    'labels.set': ({ orderId, label, note, author }) =>
      correctable(() =>
        controller.withExistingLake(async (lake) => {
          await rules.label(lake, { orderId, label, note, author: author ?? engineUser() })
          return (await rules.labels(lake, { limit: 1, orderIds: [orderId] }))[0] ?? null
        })
      ),
    'labels.list': ({ limit, orderIds }) => controller.withLake((lake) => rules.labels(lake, { limit, orderIds }))
  }
}
