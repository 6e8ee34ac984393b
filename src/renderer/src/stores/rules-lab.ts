import { createStore, type StoreApi } from 'zustand/vanilla'
import type { EngineClient } from '../../../shared/api'
import type { ActiveRulesetDto, BacktestReport, RulesetIssueDto, RulesetVersionDto, ShadowReport } from '../../../shared/rules'
import { toApiError } from '../client/errors'

// The Rules tab: the active version, the candidate being edited (JSON text, checked by the
// engine as it is typed), its backtest, and the versions to promote or roll back to. Checks and
// backtests answer out of order while someone types; only the answer to the latest text counts.

export interface RulesLabState {
  active: ActiveRulesetDto | null
  versions: RulesetVersionDto[]
  text: string
  /** Issues of `text` (empty: it checks), or null before the first check. */
  issues: RulesetIssueDto[] | null
  report: BacktestReport | null
  /** The text the report was computed for: a changed text makes it stale. */
  reportText: string | null
  /** Live against the running (or last) shadow; null if none ever ran. */
  shadow: ShadowReport | null
  busy: 'backtest' | 'promote' | 'shadow' | null
  error: string | null
  /** What the last promote or rollback did. */
  notice: string | null
  /** Reads the active version and the versions; `resetText` puts the active ruleset in the editor. */
  load(resetText?: boolean): Promise<void>
  setText(text: string): void
  check(): Promise<void>
  backtest(range: { from?: string; to?: string }): Promise<void>
  promote(note: string): Promise<void>
  restore(version: number, note: string): Promise<void>
  /** Re-reads the shadow's report (after new batches). */
  loadShadow(): Promise<void>
  /** Runs the edited ruleset in shadow beside the active version. */
  startShadow(note: string): Promise<void>
  endShadow(action: 'promote' | 'drop'): Promise<void>
}

export const rulesetText = (r: ActiveRulesetDto['ruleset']): string => JSON.stringify(r, null, 2)

export function createRulesLab(client: EngineClient): StoreApi<RulesLabState> {
  let latestCheck = 0
  return createStore<RulesLabState>((set, get) => {
    // the notice comes with the reloaded versions, so what it says is what the page shows
    const promoted = async (v: RulesetVersionDto, what: string) => {
      await get().load(true)
      set({ busy: null, error: null, notice: `version ${v.version} is active (${what}); the next batch scores with it` })
    }
    const fail = (err: unknown) => set({ busy: null, error: toApiError(err).message })
    return {
      active: null,
      versions: [],
      text: '',
      issues: null,
      report: null,
      reportText: null,
      shadow: null,
      busy: null,
      error: null,
      notice: null,
      async load(resetText = false) {
        try {
          const [active, versions, shadow] = await Promise.all([client.invoke('rules.active', {}), client.invoke('rules.versions', {}), client.invoke('rules.shadow', {})])
          set({ active, versions, shadow, error: null })
          if (resetText || get().text === '') {
            set({ text: rulesetText(active.ruleset), issues: [] })
          }
        } catch (err) {
          fail(err)
        }
      },
      setText(text) {
        set({ text, notice: null })
      },
      async check() {
        const request = ++latestCheck
        const text = get().text
        try {
          const r = await client.invoke('rules.check', { text })
          if (request !== latestCheck) return
          set({ issues: r.ok ? [] : r.issues, error: null })
        } catch (err) {
          if (request === latestCheck) fail(err)
        }
      },
      async backtest({ from, to }) {
        const text = get().text
        set({ busy: 'backtest', error: null, notice: null })
        try {
          const report = await client.invoke('rules.backtest', { text, ...(from ? { from } : {}), ...(to ? { to } : {}) })
          set({ report, reportText: text, busy: null })
        } catch (err) {
          fail(err)
        }
      },
      async promote(note) {
        set({ busy: 'promote', error: null, notice: null })
        try {
          await promoted(await client.invoke('rules.promote', { text: get().text, note }), 'the edited ruleset')
        } catch (err) {
          fail(err)
        }
      },
      async loadShadow() {
        try {
          set({ shadow: await client.invoke('rules.shadow', {}) })
        } catch (err) {
          fail(err)
        }
      },
      async startShadow(note) {
        set({ busy: 'shadow', error: null, notice: null })
        try {
          const run = await client.invoke('rules.shadowStart', { text: get().text, note })
          await get().load()
          set({ busy: null, notice: `shadow ${run.shadowId} scores the next batches beside version ${get().active?.version ?? '?'}` })
        } catch (err) {
          fail(err)
        }
      },
      async endShadow(action) {
        set({ busy: 'shadow', error: null, notice: null })
        try {
          const r = await client.invoke('rules.shadowEnd', { action, note: '' })
          if (r.version) return await promoted(r.version, `the rules of shadow ${r.shadow?.shadowId ?? ''}`.trim())
          await get().load()
          set({ busy: null, notice: `shadow ${r.shadow?.shadowId ?? ''} dropped` })
        } catch (err) {
          fail(err)
        }
      },
      async restore(version, note) {
        set({ busy: 'promote', error: null, notice: null })
        try {
          await promoted(await client.invoke('rules.promote', { restore: version, note }), `the rules of version ${version}`)
        } catch (err) {
          fail(err)
        }
      }
    }
  })
}
