import type { DuckDBConnection } from '@duckdb/node-api'
import type { ShadowReport, ShadowRunDto } from '../../shared/rules'
import { checkRuleset, validateRuleset, type Ruleset } from '../rules'
import { promoteRuleset, readLists, RulesStoreError, type StoredVersion } from './rules-store'

// Shadow mode: a candidate ruleset scores every new batch beside the active version, into
// shadow_scores, while silver and fraud_alerts keep only the live scores. It runs until it is
// promoted (its rules become the next version) or dropped; its scores stay, under its id.

const RUN_COLUMNS = `shadow_id, ruleset::VARCHAR, started_by, strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ'),
  note, strftime(ended_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ'), outcome`

function toRun(row: unknown[]): ShadowRunDto {
  return {
    shadowId: Number(row[0]),
    ruleset: validateRuleset(JSON.parse(String(row[1]))),
    startedBy: String(row[2]),
    startedAt: String(row[3]),
    note: String(row[4]),
    endedAt: row[5] === null ? null : String(row[5]),
    outcome: row[6] === null ? null : String(row[6])
  }
}

/** The shadow running now, or null. */
export async function runningShadow(conn: DuckDBConnection): Promise<ShadowRunDto | null> {
  const r = await conn.runAndReadAll(`SELECT ${RUN_COLUMNS} FROM shadow_runs WHERE ended_at IS NULL`)
  const row = r.getRows()[0]
  return row ? toRun(row) : null
}

/** The running shadow, else the last one that ran. */
export async function latestShadow(conn: DuckDBConnection): Promise<ShadowRunDto | null> {
  const r = await conn.runAndReadAll(`SELECT ${RUN_COLUMNS} FROM shadow_runs ORDER BY shadow_id DESC LIMIT 1`)
  const row = r.getRows()[0]
  return row ? toRun(row) : null
}

/** Starts `ruleset` in shadow; refuses while another runs, or a ruleset that does not check. */
export async function startShadow(conn: DuckDBConnection, ruleset: Ruleset, meta: { by: string; note: string }): Promise<ShadowRunDto> {
  checkRuleset(ruleset, await readLists(conn))
  const running = await runningShadow(conn)
  if (running) throw new RulesStoreError(`shadow ${running.shadowId} is running; promote or drop it before starting another`)
  const r = await conn.runAndReadAll(
    `INSERT INTO shadow_runs SELECT coalesce(max(shadow_id), 0) + 1, $1::JSON, $2, now(), $3, NULL, NULL FROM shadow_runs RETURNING ${RUN_COLUMNS}`,
    [JSON.stringify(ruleset), meta.by, meta.note]
  )
  return toRun(r.getRows()[0])
}

async function end(conn: DuckDBConnection, shadowId: number, outcome: string): Promise<void> {
  await conn.run(`UPDATE shadow_runs SET ended_at = now(), outcome = $2 WHERE shadow_id = $1 AND ended_at IS NULL`, [shadowId, outcome])
}

async function requireRunning(conn: DuckDBConnection): Promise<ShadowRunDto> {
  const running = await runningShadow(conn)
  if (!running) throw new RulesStoreError('no shadow is running')
  return running
}

/** Stops the running shadow; its scores stay. */
export async function dropShadow(conn: DuckDBConnection): Promise<ShadowRunDto> {
  const running = await requireRunning(conn)
  await end(conn, running.shadowId, 'dropped')
  return (await latestShadow(conn))!
}

/** Promotes the running shadow's rules as the next version and ends it, in one transaction. */
export async function promoteShadow(conn: DuckDBConnection, meta: { by: string; note: string }): Promise<StoredVersion> {
  const running = await requireRunning(conn)
  await conn.run('BEGIN TRANSACTION')
  try {
    const v = await promoteRuleset(conn, running.ruleset, { by: meta.by, note: meta.note || `shadow ${running.shadowId}: ${running.note}` })
    await end(conn, running.shadowId, `promoted as version ${v.version}`)
    await conn.run('COMMIT')
    return v
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined)
    throw err
  }
}

const SAMPLE = 10

/** Live against shadow over the orders the shadow scored: alerts of each, both, either alone, per shadow rule. */
export async function shadowReport(conn: DuckDBConnection, run: ShadowRunDto): Promise<ShadowReport> {
  const scored = `SELECT s.order_id, s.batch_id, s.is_alert AS shadow, a.order_id IS NOT NULL AS live, s.fraud_rules
    FROM shadow_scores s LEFT JOIN fraud_alerts a USING (order_id) WHERE s.shadow_id = $1`
  const totals = (
    await conn.runAndReadAll(
      `SELECT count(*), count(*) FILTER (WHERE live), count(*) FILTER (WHERE shadow), count(*) FILTER (WHERE live AND shadow),
        count(*) FILTER (WHERE live AND NOT shadow), count(*) FILTER (WHERE shadow AND NOT live),
        (list(order_id ORDER BY batch_id DESC, order_id) FILTER (WHERE live AND NOT shadow))[1:${SAMPLE}],
        (list(order_id ORDER BY batch_id DESC, order_id) FILTER (WHERE shadow AND NOT live))[1:${SAMPLE}]
      FROM (${scored})`,
      [run.shadowId]
    )
  ).getRows()[0]
  const perRule = new Map(
    (await conn.runAndReadAll(`SELECT r, count(*) FROM (SELECT unnest(fraud_rules) AS r FROM shadow_scores WHERE shadow_id = $1) GROUP BY r`, [run.shadowId]))
      .getRows()
      .map((row) => [String(row[0]), Number(row[1])])
  )
  const ids = (v: unknown) => ((v as { items: unknown[] } | null)?.items ?? []).map(String)
  return {
    run,
    orders: Number(totals[0]),
    live_alerts: Number(totals[1]),
    shadow_alerts: Number(totals[2]),
    both: Number(totals[3]),
    live_only: Number(totals[4]),
    shadow_only: Number(totals[5]),
    samples: { live_only: ids(totals[6]), shadow_only: ids(totals[7]) },
    per_rule: run.ruleset.rules.map((r) => ({ id: r.id, matched: perRule.get(r.id) ?? 0 }))
  }
}
