import { closeSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { LakeError, openLake } from './lake'
import { canonicalDir, inspectLakeFolder } from './lake-folder'

// What `streamdesk doctor` learns about a lake folder, changing nothing in it: whether this
// process may write there (by trying, with a probe file it removes: permission bits say nothing
// to root, and nothing at all about a read-only mount), and what the lake in it is, looked at on
// a read-only instance (no migration, no repair, no query endpoint).

export type WritableAnswer = { ok: true; where: string } | { ok: false; where: string; reason: string }

/** The nearest folder that exists on the way up to `dir` (where a new lake folder would be made). */
export function nearestExisting(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    try {
      statSync(d)
      return d
    } catch {
      if (dirname(d) === d) return d
    }
  }
}

/**
 * Can this process write the lake folder (or, when it does not exist yet, create it)? A probe file
 * is created with O_EXCL and removed again; the lake file itself is opened for writing, not written.
 */
export function checkLakeWritable(dir: string): WritableAnswer {
  const abs = canonicalDir(dir)
  const where = nearestExisting(abs)
  const fail = (reason: string): WritableAnswer => ({ ok: false, where, reason })
  const st = statSync(where, { throwIfNoEntry: false })
  if (!st?.isDirectory()) return fail(`${where} is a file, so no lake folder can be made at ${abs}`)
  const probe = join(where, `.streamdesk-doctor-probe-${process.pid}`)
  try {
    writeFileSync(probe, '', { flag: 'wx' })
  } catch (err) {
    return fail(`cannot create a file in ${where} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  rmSync(probe, { force: true })
  if (where === abs) {
    const file = inspectLakeFolder(abs, true).file
    if (statSync(file, { throwIfNoEntry: false })?.isFile()) {
      try {
        closeSync(openSync(file, 'r+'))
      } catch (err) {
        return fail(`cannot open ${file} for writing (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
      }
    }
  }
  return { ok: true, where }
}

export type LakeHealth =
  | { kind: 'new'; dir: string }
  | { kind: 'refused'; dir: string; reason: string }
  | { kind: 'in-use'; dir: string; reason: string }
  | {
      kind: 'lake'
      dir: string
      schemaVersion: number
      orders: number
      batches: number
      /** Totals in `batches` that do not match the tables they count (empty when sound). */
      mismatches: string[]
      /** ISO times, null on an empty lake. */
      newestOrderTs: string | null
      newestCommitAt: string | null
    }

/** Sums of `batches` against the rows they count: they can only differ on a damaged lake. */
const CONSISTENCY = [
  { what: 'valid orders', batches: 'sum(valid)', table: 'SELECT count(*) FROM silver_orders' },
  { what: 'alerts', batches: 'sum(alerts)', table: 'SELECT count(*) FROM fraud_alerts' },
  { what: 'quarantined lines', batches: 'sum(quarantined)', table: 'SELECT count(*) FROM quarantine' }
]

/**
 * Looks at the lake in `dir` on a read-only instance of its own. Only for a process that does not
 * hold that lake: the one that does reads it with readLakeHealth() on its own connection.
 */
export async function inspectLakeHealth(dir: string): Promise<LakeHealth> {
  const where = inspectLakeFolder(dir, true)
  if (where.kind === 'new') return { kind: 'new', dir: where.dir }
  if (where.kind === 'refused') return { kind: 'refused', dir: where.dir, reason: where.reason }
  let lake
  try {
    lake = await openLake(where.dir, { create: false, readOnly: true })
  } catch (err) {
    if (err instanceof LakeError && err.code === 'in-use') return { kind: 'in-use', dir: where.dir, reason: err.message }
    return { kind: 'refused', dir: where.dir, reason: (err as Error).message }
  }
  try {
    return await readLakeHealth(lake.reader, where.dir, where.file)
  } finally {
    await lake.close()
  }
}

/** Schema version, size, newest times and the consistency of a lake open on `c`. */
export async function readLakeHealth(c: DuckDBConnection, dir: string, file: string): Promise<LakeHealth> {
  try {
    const one = async (sql: string) => (await c.runAndReadAll(sql)).getRows()[0]
    const [version] = await one(`SELECT value FROM lake_meta WHERE key = 'schema_version'`)
    const [orders, batches, newestOrder, newestCommit] = await one(`SELECT
        (SELECT count(*) FROM silver_orders)::DOUBLE, (SELECT count(*) FROM batches)::DOUBLE,
        (SELECT strftime(max(order_ts) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') FROM silver_orders),
        (SELECT strftime(max(committed_at) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') FROM batches)`)
    const mismatches: string[] = []
    for (const k of CONSISTENCY) {
      const [counted, rows] = await one(`SELECT coalesce(${k.batches}, 0)::DOUBLE, (${k.table})::DOUBLE FROM batches`)
      if (Number(counted) !== Number(rows)) mismatches.push(`${k.what}: batches count ${counted}, the table holds ${rows}`)
    }
    return {
      kind: 'lake',
      dir,
      schemaVersion: Number(version),
      orders: Number(orders),
      batches: Number(batches),
      mismatches,
      newestOrderTs: newestOrder === null ? null : String(newestOrder),
      newestCommitAt: newestCommit === null ? null : String(newestCommit)
    }
  } catch (err) {
    return { kind: 'refused', dir, reason: `the lake ${file} opens but cannot be read: ${(err as Error).message.split('\n')[0]}` }
  }
}
