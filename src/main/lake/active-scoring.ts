import type { DuckDBConnection } from '@duckdb/node-api'
import { checkRuleset, type CheckedRuleset, type ListSet, type Ruleset } from '../rules'
import { activeVersion, readLists, rulesetVersions, RulesStoreError } from './rules-store'
import { runningShadow } from './shadow-store'

// What a batch scores with: the active version, checked, with the lists it reads, and the
// shadow running beside it, if any. Cached between batches while none of versions, lists and
// shadows change (a list can hold a million values).

export interface Scoring {
  version: number
  ruleset: CheckedRuleset
  lists: ListSet
  /** A candidate scoring beside the live version, its scores kept apart (shadow-store.ts). */
  shadow: { shadowId: number; ruleset: CheckedRuleset } | null
}

export class ActiveScoring {
  private key = ''
  private scoring: Scoring | null = null

  async current(conn: DuckDBConnection): Promise<Scoring> {
    const r = await conn.runAndReadAll(
      `SELECT concat_ws('/', (SELECT max(version) FROM ruleset_versions), (SELECT count(*) FROM rule_lists), (SELECT max(updated_at) FROM rule_lists),
        (SELECT max(shadow_id) FROM shadow_runs WHERE ended_at IS NULL))`
    )
    const key = String(r.getRows()[0][0])
    if (this.scoring && key === this.key) return this.scoring
    const active = await activeVersion(conn)
    if (!active) throw new RulesStoreError('the lake has no ruleset version; seed one before the first batch')
    const lists = await readLists(conn)
    const shadow = await runningShadow(conn)
    this.scoring = {
      version: active.version,
      ruleset: checkRuleset(active.ruleset, lists),
      lists,
      shadow: shadow ? { shadowId: shadow.shadowId, ruleset: checkRuleset(shadow.ruleset, lists) } : null
    }
    this.key = key
    return this.scoring
  }
}

/** Keys sorted at every level: two rulesets are the same version when their canonical JSON is. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}

/**
 * What a replay scores with: the active version, or the stored version equal to `ruleset`. A
 * replay never scores with a ruleset the lake has no version of (every silver row names the
 * version that scored it), and runs no shadow.
 */
export async function replayScoring(conn: DuckDBConnection, ruleset?: Ruleset): Promise<Scoring> {
  const lists = await readLists(conn)
  let stored = await activeVersion(conn)
  if (ruleset) {
    const want = canonical(ruleset)
    stored = (await rulesetVersions(conn)).find((v) => canonical(v.ruleset) === want) ?? null
    if (!stored) {
      throw new RulesStoreError('the rules file is not a ruleset version of this lake: promote it first (streamdesk rules promote), or export one with rules export --version N')
    }
  } else if (!stored) {
    throw new RulesStoreError('the lake has no ruleset version: it has never ingested a batch')
  }
  return { version: stored.version, ruleset: checkRuleset(stored.ruleset, lists), lists, shadow: null }
}
