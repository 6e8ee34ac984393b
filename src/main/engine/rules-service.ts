import type { FraudSettings } from '../../shared/settings'
import type { Lake } from '../lake/lake'
import { addLabel, currentLabels, type LabelInput, type OrderLabel } from '../lake/labels-store'
import { dropShadow, latestShadow, promoteShadow, shadowReport, startShadow } from '../lake/shadow-store'
import type { ShadowReport, ShadowRunDto } from '../../shared/rules'
import { activeOrSeed, promoteRuleset, readLists, restoreVersion, rulesetVersions, saveList, seedRuleset, type StoredVersion } from '../lake/rules-store'
import { backtest, checkRuleset, type BacktestReport, type Ruleset, type ValueList } from '../rules'

// What the CLI and the API do with a lake's rules, in one place so both behave the same. Every
// call runs on a connection of its own: the pipeline's writer may be in the middle of a batch,
// and a backtest reads one snapshot while ingest goes on.

async function onOwnConnection<T>(lake: Lake, work: (conn: Awaited<ReturnType<Lake['connect']>>) => Promise<T>): Promise<T> {
  return lake.use(async () => {
    const conn = await lake.connect()
    try {
      return await work(conn)
    } finally {
      conn.closeSync()
    }
  })
}

export interface BacktestRequest {
  candidate: Ruleset
  from?: string
  to?: string
  sampleSize?: number
}

/**
 * The candidate over silver in [from, to), against the version that scored each row, with the
 * lake's labels. RulesetError when a condition does not check against the lake's lists.
 */
export function backtestRuleset(lake: Lake, fraud: FraudSettings, req: BacktestRequest): Promise<BacktestReport> {
  return onOwnConnection(lake, async (conn) => {
    const lists = await readLists(conn)
    const candidate = checkRuleset(req.candidate, lists)
    const current = await activeOrSeed(conn, fraud)
    const versions = await rulesetVersions(conn)
    return backtest(conn, {
      candidate,
      lists,
      currentThreshold: current.ruleset.threshold,
      versionThresholds: new Map(versions.map((v) => [v.version, v.ruleset.threshold])),
      from: req.from,
      to: req.to,
      labelsTable: 'labels',
      sampleSize: req.sampleSize
    })
  })
}

/** Checks every condition of `ruleset` against the lake's lists (RulesetError listing each issue). */
export function check(lake: Lake, ruleset: Ruleset): Promise<void> {
  return onOwnConnection(lake, async (conn) => {
    checkRuleset(ruleset, await readLists(conn))
  })
}

/** Makes `ruleset` the active version; a lake without versions gets its seed as version 1 first, so rolling back to it stays possible. */
export function promote(lake: Lake, fraud: FraudSettings, ruleset: Ruleset, by: string, note: string): Promise<StoredVersion> {
  return onOwnConnection(lake, async (conn) => {
    await seedRuleset(conn, fraud)
    return promoteRuleset(conn, ruleset, { by, note })
  })
}

/** Promotes version `version` again (a rollback). */
export function restore(lake: Lake, fraud: FraudSettings, version: number, by: string, note: string): Promise<StoredVersion> {
  return onOwnConnection(lake, async (conn) => {
    await seedRuleset(conn, fraud)
    return restoreVersion(conn, version, { by, note })
  })
}

export function versions(lake: Lake): Promise<StoredVersion[]> {
  return onOwnConnection(lake, (conn) => rulesetVersions(conn))
}

/** The active version, or (version null) the seed the next run will store. */
export function active(lake: Lake, fraud: FraudSettings): Promise<{ version: number | null; ruleset: Ruleset }> {
  return onOwnConnection(lake, (conn) => activeOrSeed(conn, fraud))
}

export function lists(lake: Lake): Promise<ValueList[]> {
  return onOwnConnection(lake, async (conn) => [...(await readLists(conn)).values()])
}

export function setList(lake: Lake, list: ValueList, by: string): Promise<void> {
  return onOwnConnection(lake, (conn) => saveList(conn, list, by))
}

export function label(lake: Lake, input: LabelInput): Promise<void> {
  return onOwnConnection(lake, (conn) => addLabel(conn, input))
}

export function labels(lake: Lake, opts: { limit: number; orderIds?: readonly string[] }): Promise<OrderLabel[]> {
  return onOwnConnection(lake, (conn) => currentLabels(conn, opts))
}

/** Starts `ruleset` scoring new batches beside the active version. */
export function shadowStart(lake: Lake, fraud: FraudSettings, ruleset: Ruleset, by: string, note: string): Promise<ShadowRunDto> {
  return onOwnConnection(lake, async (conn) => {
    await seedRuleset(conn, fraud)
    return startShadow(conn, ruleset, { by, note })
  })
}

export function shadowDrop(lake: Lake): Promise<ShadowRunDto> {
  return onOwnConnection(lake, (conn) => dropShadow(conn))
}

/** The running shadow's rules become the next version; the shadow ends. */
export function shadowPromote(lake: Lake, by: string, note: string): Promise<StoredVersion> {
  return onOwnConnection(lake, (conn) => promoteShadow(conn, { by, note }))
}

/** Live against shadow for the running shadow (else the last one); null if none ever ran. */
export function shadow(lake: Lake): Promise<ShadowReport | null> {
  return onOwnConnection(lake, async (conn) => {
    const run = await latestShadow(conn)
    return run ? shadowReport(conn, run) : null
  })
}
