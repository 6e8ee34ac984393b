import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, join, parse, resolve } from 'node:path'
import { ENDPOINT_FILE_NAME } from './lake-endpoint-file'

// What is at a lake path, looked at without opening anything with DuckDB: DuckDB writes a new
// database into an empty file and tries to load an extension for a SQLite file, so a file must
// prove it is a DuckDB database by its header before DuckDB sees it.

export const LAKE_FILE_NAME = 'lake.duckdb'
/** The writer's staging database (lake.ts), next to the lake while a process writes it. */
export const STAGE_FILE_NAME = `${LAKE_FILE_NAME}.stage`

/**
 * Files DuckDB keeps next to a database, a new lake being written and the writer's staging
 * database (lake.ts), and the note of the process holding the lake (lake-endpoint-file.ts; a
 * crash can leave it behind).
 */
const isCompanion = (name: string): boolean =>
  name === `${LAKE_FILE_NAME}.wal` ||
  name === `${LAKE_FILE_NAME}.tmp` ||
  name === STAGE_FILE_NAME ||
  name === `${STAGE_FILE_NAME}.wal` ||
  /^\.lake\.duckdb\.creating-\d+(\.wal)?$/.test(name) ||
  name === ENDPOINT_FILE_NAME

export type LakeFolder =
  /** No lake yet; a new one may be created here (the folder is missing or empty). */
  | { kind: 'new'; dir: string; file: string }
  /** A DuckDB database file; whether it is a StreamDesk lake is for its tables to say. */
  | { kind: 'duckdb'; dir: string; file: string }
  /** Anything else: refused, with the sentence that says what is there. */
  | { kind: 'refused'; dir: string; file: string; reason: string; missing?: boolean }

/** The lake folder's canonical path: symlinks resolved as far as the path exists. */
export function canonicalDir(dir: string): string {
  const abs = resolve(dir)
  try {
    return realpathSync(abs)
  } catch {
    const parent = dirname(abs)
    return parent === abs ? abs : join(canonicalDir(parent), basename(abs))
  }
}

function describeHeader(file: string): 'duckdb' | string {
  const head = Buffer.alloc(16)
  const fd = openSync(file, 'r')
  let n: number
  try {
    n = readSync(fd, head, 0, 16, 0)
  } finally {
    closeSync(fd)
  }
  if (n === 0) return 'an empty file'
  if (n >= 12 && head.subarray(8, 12).toString('latin1') === 'DUCK') return 'duckdb'
  if (head.subarray(0, 15).toString('latin1') === 'SQLite format 3') return 'a SQLite database'
  return 'not a DuckDB database (unknown content)'
}

/**
 * Classifies `dir` as a lake folder. With `create`, a missing or empty folder may hold a new
 * lake; without it (export, queries) only an existing lake file will do.
 */
export function inspectLakeFolder(dir: string, create: boolean): LakeFolder {
  const abs = canonicalDir(dir)
  const file = join(abs, LAKE_FILE_NAME)
  const refuse = (reason: string, missing = false): LakeFolder => ({ kind: 'refused', dir: abs, file, reason, missing })
  if (abs === parse(abs).root) return refuse(`the lake folder cannot be the root folder ${abs}; choose a folder of its own`)
  let dirStat
  try {
    dirStat = statSync(abs)
  } catch {
    return create ? { kind: 'new', dir: abs, file } : refuse(`there is no lake at ${abs} (the folder does not exist)`, true)
  }
  if (!dirStat.isDirectory()) return refuse(`the lake folder ${abs} is a file, not a folder`)
  let fileStat
  try {
    fileStat = statSync(file)
  } catch {
    if (!create) return refuse(`there is no lake at ${abs} (no ${LAKE_FILE_NAME} in it)`, true)
    let entries: string[]
    try {
      entries = readdirSync(abs)
    } catch (err) {
      return refuse(`cannot read the lake folder ${abs}: ${(err as Error).message}`)
    }
    const foreign = entries.filter((e) => !isCompanion(e))
    if (foreign.length > 0) {
      const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} entries)` : '')
      return refuse(
        `the folder ${abs} is not empty and holds no StreamDesk lake (${shown}); a new lake is only created in an empty or new folder`
      )
    }
    if (entries.includes(`${LAKE_FILE_NAME}.wal`)) {
      return refuse(`the folder ${abs} holds ${LAKE_FILE_NAME}.wal without ${LAKE_FILE_NAME}; was the lake moved? Move it back or choose another folder`)
    }
    return { kind: 'new', dir: abs, file }
  }
  if (!fileStat.isFile()) return refuse(`${file} is not a file`)
  let header: string
  try {
    header = describeHeader(file)
  } catch (err) {
    return refuse(`cannot read ${file}: ${(err as Error).message}`)
  }
  if (header !== 'duckdb') return refuse(`${file} is ${header}, not a StreamDesk lake; it was left unchanged`)
  return { kind: 'duckdb', dir: abs, file }
}
