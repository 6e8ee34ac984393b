import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SavedQuery } from '../../shared/sql'

// The SQL tab's saved queries: plain `.sql` files in a folder the user chooses, so they can be
// edited, versioned and shared with any other tool. Only files named `<name>.sql` directly in
// that folder are listed, read or written: a name cannot climb out of it, and nothing else in
// the folder is ever touched.

export class SavedQueryError extends Error {
  constructor(
    message: string,
    readonly field: 'dir' | 'name'
  ) {
    super(message)
    this.name = 'SavedQueryError'
  }
}

/** Letters, digits, spaces, dots, dashes and underscores, not starting with a dot. */
const NAME = /^[\p{L}\p{N}_\- ][\p{L}\p{N}_\-. ]{0,99}$/u
const MAX_SQL_BYTES = 1024 * 1024

function fileOf(dir: string, name: string): string {
  if (!NAME.test(name)) {
    throw new SavedQueryError(`a query name is letters, digits, spaces, dots, dashes and underscores (up to 100), not starting with a dot; got ${JSON.stringify(name)}`, 'name')
  }
  return join(dir, `${name}.sql`)
}

function checkDir(dir: string): void {
  let isDir: boolean
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    throw new SavedQueryError(`there is no folder ${dir}`, 'dir')
  }
  if (!isDir) throw new SavedQueryError(`${dir} is a file, not a folder`, 'dir')
}

export function listSavedQueries(dir: string): SavedQuery[] {
  checkDir(dir)
  const out: SavedQuery[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.sql')) continue
    const name = entry.name.slice(0, -'.sql'.length)
    if (!NAME.test(name)) continue
    const st = statSync(join(dir, entry.name))
    out.push({ name, bytes: st.size, modifiedAt: st.mtime.toISOString() })
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

export function readSavedQuery(dir: string, name: string): string {
  checkDir(dir)
  const file = fileOf(dir, name)
  let st
  try {
    st = statSync(file)
  } catch {
    throw new SavedQueryError(`there is no query ${name}.sql in ${dir}`, 'name')
  }
  if (!st.isFile()) throw new SavedQueryError(`${file} is not a file`, 'name')
  if (st.size > MAX_SQL_BYTES) throw new SavedQueryError(`${file} is larger than ${MAX_SQL_BYTES} bytes; not a console query`, 'name')
  return readFileSync(file, 'utf8')
}

/** Writes `<name>.sql` whole or not at all; an existing one only with `overwrite`. */
export function saveQuery(dir: string, name: string, sql: string, overwrite: boolean): 'saved' | 'exists' {
  const file = fileOf(dir, name)
  try {
    mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw new SavedQueryError(`cannot create the folder ${dir}: ${(err as Error).message}`, 'dir')
  }
  checkDir(dir)
  let exists = true
  try {
    statSync(file)
  } catch {
    exists = false
  }
  if (exists && !overwrite) return 'exists'
  const tmp = join(dir, `.${name}.sql.${process.pid}.tmp`)
  try {
    writeFileSync(tmp, sql.endsWith('\n') ? sql : `${sql}\n`)
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw new SavedQueryError(`cannot write ${file}: ${(err as Error).message}`, 'dir')
  }
  return 'saved'
}
