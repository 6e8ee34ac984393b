import { randomBytes } from 'node:crypto'
import { linkSync, lstatSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { sqlString } from './lake'

// A console result written whole as Parquet by DuckDB itself (types kept, no row cap), from the
// same READ ONLY snapshot a query sees. Only SqlConsole.exportParquet calls this, after the guard
// accepted the statement on this very connection: the COPY wrapper is the one place user text
// meets a statement that writes a file, and it writes only a temporary name of ours.
//
// The target may sit among someone's files, so an existing file is never replaced: DuckDB writes
// a hidden temporary file next to it, which is then hard-linked to the chosen name (a link fails
// if that name appeared meanwhile, where a rename would silently replace it) and removed.

export class ParquetTargetError extends Error {
  constructor(
    message: string,
    /** What the user changes to fix it: the folder, or the file's name. */
    readonly field: 'dir' | 'name'
  ) {
    super(message)
    this.name = 'ParquetTargetError'
  }
}

/** Letters, digits, spaces, dots, dashes and underscores, not starting with a dot: no path. */
const NAME = /^[\p{L}\p{N}_\- ][\p{L}\p{N}_\-. ]{0,99}$/u

/** `<name>.parquet` directly in `dir` (the app's folder and name fields); `.parquet` may be typed or not. */
export function parquetFileIn(dir: string, name: string): string {
  const base = name.trim().replace(/\.parquet$/i, '')
  if (!NAME.test(base)) {
    throw new ParquetTargetError(`a file name is letters, digits, spaces, dots, dashes and underscores (up to 100), not starting with a dot; got ${JSON.stringify(name)}`, 'name')
  }
  return join(dir, `${base}.parquet`)
}

/** Refuses (ParquetTargetError) a target that is relative, in no folder, or already there. */
export function checkParquetTarget(file: string): void {
  if (!isAbsolute(file)) throw new ParquetTargetError(`the Parquet file must be an absolute path, got ${JSON.stringify(file)}`, 'dir')
  const dir = dirname(file)
  let dirOk = false
  try {
    dirOk = statSync(dir).isDirectory()
  } catch {
    // said below
  }
  if (!dirOk) throw new ParquetTargetError(`there is no folder ${dir} to write ${basename(file)} into`, 'dir')
  if (exists(file)) throw new ParquetTargetError(`${file} exists already; StreamDesk never replaces a file, so nothing was written (choose another name)`, 'name')
}

function exists(file: string): boolean {
  try {
    lstatSync(file)
    return true
  } catch {
    return false
  }
}

/** Runs `sql` (checked already, see above) into a new Parquet file `file`; the number of rows written. */
export async function copyToParquet(conn: DuckDBConnection, sql: string, file: string): Promise<number> {
  checkParquetTarget(file)
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  // The guard parsed the text alone as one complete statement, so it closes every quote and
  // comment it opens; the newline ends a trailing line comment, and a final `;` would end COPY.
  const body = sql.replace(/[\s;]+$/, '')
  try {
    const reader = await conn.runAndReadAll(`COPY (\n${body}\n) TO ${sqlString(tmp)} (FORMAT parquet, PRESERVE_ORDER true)`)
    const rows = Number(reader.getRows()[0][0])
    try {
      linkSync(tmp, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ParquetTargetError(`${file} appeared while the result was written; it was left alone and nothing was written`, 'name')
      throw err
    }
    return rows
  } finally {
    rmSync(tmp, { force: true })
  }
}
