import { LIST, listValue, VARCHAR, type DuckDBConnection } from '@duckdb/node-api'
import type { FraudSettings } from '../../shared/settings'
import { checkRuleset, defaultRuleset, validateRuleset, valueListSchema, type ListSet, type Ruleset, type ValueList } from '../rules'

// Rulesets and lists as the lake keeps them (schema 5). A promoted ruleset is a new version,
// never an edit of an old one: every silver row names the version that scored it, so that
// version must stay what it was. Rolling back promotes an earlier version's rules again, as a
// new version that says where it came from. Every value goes in as a bound parameter.

export interface StoredVersion {
  version: number
  ruleset: Ruleset
  promotedBy: string
  promotedAt: string
  note: string
  /** The version this one restored (a rollback), or null. */
  restoredFrom: number | null
}

export class RulesStoreError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RulesStoreError'
  }
}

const VERSION_COLUMNS = `version, ruleset::VARCHAR, promoted_by, strftime(promoted_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ'), note, restored_from`

function toVersion(row: unknown[]): StoredVersion {
  return {
    version: Number(row[0]),
    ruleset: validateRuleset(JSON.parse(String(row[1]))),
    promotedBy: String(row[2]),
    promotedAt: String(row[3]),
    note: String(row[4]),
    restoredFrom: row[5] === null ? null : Number(row[5])
  }
}

/** Every version, newest first. */
export async function rulesetVersions(conn: DuckDBConnection): Promise<StoredVersion[]> {
  const r = await conn.runAndReadAll(`SELECT ${VERSION_COLUMNS} FROM ruleset_versions ORDER BY version DESC`)
  return r.getRows().map(toVersion)
}

/** The active version (the highest), or null before the first run seeded one. */
export async function activeVersion(conn: DuckDBConnection): Promise<StoredVersion | null> {
  const r = await conn.runAndReadAll(`SELECT ${VERSION_COLUMNS} FROM ruleset_versions ORDER BY version DESC LIMIT 1`)
  const row = r.getRows()[0]
  return row ? toVersion(row) : null
}

export async function rulesetVersion(conn: DuckDBConnection, version: number): Promise<StoredVersion | null> {
  const r = await conn.runAndReadAll(`SELECT ${VERSION_COLUMNS} FROM ruleset_versions WHERE version = $1`, [version])
  const row = r.getRows()[0]
  return row ? toVersion(row) : null
}

export interface PromoteMeta {
  /** The OS user (CLI) or 'app'. */
  by: string
  note: string
  restoredFrom?: number
}

/**
 * Stores `ruleset` as the next version, after checking every condition against the lake's lists
 * (a ruleset that cannot be compiled must never become active). Run it on a connection of its
 * own: the pipeline's writer may be in the middle of a batch.
 */
export async function promoteRuleset(conn: DuckDBConnection, ruleset: Ruleset, meta: PromoteMeta): Promise<StoredVersion> {
  checkRuleset(ruleset, await readLists(conn))
  const r = await conn.runAndReadAll(
    `INSERT INTO ruleset_versions
      SELECT coalesce(max(version), 0) + 1, $1::JSON, $2, now(), $3, $4 FROM ruleset_versions
      RETURNING ${VERSION_COLUMNS}`,
    [JSON.stringify(ruleset), meta.by, meta.note, meta.restoredFrom ?? null]
  )
  return toVersion(r.getRows()[0])
}

/** Promotes version `version`'s rules again (a rollback). */
export async function restoreVersion(conn: DuckDBConnection, version: number, meta: Omit<PromoteMeta, 'restoredFrom'>): Promise<StoredVersion> {
  const old = await rulesetVersion(conn, version)
  if (!old) throw new RulesStoreError(`there is no ruleset version ${version} in this lake (see \`streamdesk rules versions\`)`)
  return promoteRuleset(conn, old.ruleset, { ...meta, restoredFrom: version })
}

/**
 * Version 1 of a lake that has none: the settings' fraud rules as a ruleset (what scored the
 * lake's orders so far, if the settings did not change meanwhile). Returns the active version.
 */
export async function seedRuleset(conn: DuckDBConnection, fraud: FraudSettings): Promise<StoredVersion> {
  const active = await activeVersion(conn)
  if (active) return active
  return promoteRuleset(conn, defaultRuleset(fraud), { by: 'app', note: 'seeded from the fraud settings (weights and threshold)' })
}

/** What a lake without versions would be scored with: its seed, not stored yet. */
export async function activeOrSeed(conn: DuckDBConnection, fraud: FraudSettings): Promise<{ version: number | null; ruleset: Ruleset }> {
  const active = await activeVersion(conn)
  return active ? { version: active.version, ruleset: active.ruleset } : { version: null, ruleset: defaultRuleset(fraud) }
}

// ---------------------------------------------------------------------------------------------
// lists

export async function readLists(conn: DuckDBConnection): Promise<ListSet> {
  const r = await conn.runAndReadAll(`SELECT name, description, entries FROM rule_lists ORDER BY name`)
  return new Map(
    r.getRowObjectsJS().map((row) => {
      const list: ValueList = { name: String(row.name), description: String(row.description), values: (row.entries as string[]).map(String) }
      return [list.name, list]
    })
  )
}

/** Creates or replaces a list whole. */
export async function saveList(conn: DuckDBConnection, list: ValueList, by: string): Promise<void> {
  const ok = valueListSchema.parse(list)
  await conn.run('BEGIN TRANSACTION')
  try {
    await conn.run(`DELETE FROM rule_lists WHERE name = $1`, [ok.name])
    await conn.run(`INSERT INTO rule_lists SELECT $1, $2, $3, $4, now()`, [ok.name, ok.description, listValue(ok.values), by], [VARCHAR, VARCHAR, LIST(VARCHAR), VARCHAR])
    await conn.run('COMMIT')
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined)
    throw err
  }
}
