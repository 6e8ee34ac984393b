import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, parse, relative } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { ExportedFile, ExportFormat, ExportProgress, ExportResult } from '../../shared/dto'
import { APP_VERSION } from '../version'
import { canonicalDir } from './lake-folder'
import { LAKE_TABLES } from './schema'
import { sqlString, type Lake } from './lake'

// A snapshot of every lake table, taken inside ONE read transaction so the files agree with
// each other even while the pipeline keeps committing batches, plus a manifest.
//
// The target folder may hold someone's files, so nothing there is touched until the whole
// snapshot exists: it is written into a hidden folder next to the target (same parent, so the
// final renames stay on one file system) and moved into place at the end. A failure before that
// leaves the target as it was. In a folder that already has files, only the files an earlier
// StreamDesk export listed in its manifest.json may be replaced or removed, and only after the
// caller confirmed (`overwrite`); a file of anyone else with a snapshot file's name stops the
// export, confirmed or not.

export const MANIFEST_NAME = 'manifest.json'
const DUCKDB_SNAPSHOT_NAME = 'lake-snapshot.duckdb'
/** A folder with these subfolders is what the folder source reads (sources/folder-source.ts). */
const INPUT_STREAM_DIRS = ['orders', 'customers']
/** An earlier manifest larger than this was not written by StreamDesk (a few KiB at most). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

export type ExportErrorCode =
  /** The target holds files and the caller has not confirmed replacing the earlier export. */
  | 'needs-overwrite'
  /** The target may not be used at all (bad input): confirming would not help. */
  | 'refused'
  /** Anything else (disk, DuckDB); nothing was left in the target. */
  | 'failed'

export interface ExportConflict {
  outDir: string
  /** Files of an earlier StreamDesk export (manifest.json included) that would be replaced or removed. */
  replaces: string[]
  /** Entries in the folder that are not StreamDesk's; the export leaves them alone. */
  others: string[]
}

export class ExportError extends Error {
  constructor(
    message: string,
    readonly code: ExportErrorCode = 'failed',
    readonly conflict?: ExportConflict
  ) {
    super(message)
    this.name = 'ExportError'
  }
}

export interface ExportOptions {
  /** Replace the files an earlier StreamDesk export left in the target (asked for by the user). */
  overwrite?: boolean
  /** More folders the target must stay out of, with what they are (the app's input folder). */
  protectedDirs?: { dir: string; what: string }[]
  onProgress?: (p: ExportProgress) => void
}

interface SnapshotFile {
  name: string
  tables: string[]
}

function snapshotFiles(format: ExportFormat): SnapshotFile[] {
  if (format === 'duckdb') return [{ name: DUCKDB_SNAPSHOT_NAME, tables: [...LAKE_TABLES] }]
  return LAKE_TABLES.map((t) => ({ name: `${t}.${format}`, tables: [t] }))
}

const isInside = (dir: string, parent: string): boolean => {
  const rel = relative(parent, dir)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

const listNames = (names: string[], max = 5): string =>
  names.slice(0, max).join(', ') + (names.length > max ? `, … (${names.length} in all)` : '')

/** Refuses targets where snapshot files would be lost in or mistaken for StreamDesk's own data. */
function checkPlace(dir: string, lake: Lake, protectedDirs: { dir: string; what: string }[]): void {
  if (dir === parse(dir).root) throw new ExportError(`cannot export to the root folder ${dir}; choose a folder of its own`, 'refused')
  const lakeDir = canonicalDir(lake.dir)
  if (isInside(dir, lakeDir)) {
    throw new ExportError(`${dir} is inside the lake folder ${lakeDir}; the lake folder is StreamDesk's own, choose a folder outside it`, 'refused')
  }
  for (const p of protectedDirs) {
    const guarded = canonicalDir(p.dir)
    if (isInside(dir, guarded)) {
      throw new ExportError(`${dir} is inside ${p.what} ${guarded}; exported files there would be read back as input, choose a folder outside it`, 'refused')
    }
  }
  // Without the settings (CLI), an input folder is known by its shape.
  const streams = INPUT_STREAM_DIRS.filter((s) => isDir(join(dir, s)))
  if (streams.length > 0) {
    throw new ExportError(
      `${dir} looks like a StreamDesk input folder (it has ${streams.map((s) => `${s}/`).join(' and ')}); exported files there could be read back as input, choose another folder`,
      'refused'
    )
  }
  if (INPUT_STREAM_DIRS.includes(basename(dir)) && isDir(dir)) {
    throw new ExportError(
      `${dir} looks like the ${basename(dir)}/ folder of a StreamDesk input folder; exported files there would be read as input, choose another folder`,
      'refused'
    )
  }
}

// ---- what an earlier export left -----------------------------------------------------------

interface ManifestEntry {
  file: string
  bytes?: number
  sha256?: string
}

/** The files a StreamDesk manifest claims, or null when the text is not a StreamDesk manifest. */
function parseManifest(text: string): ManifestEntry[] | null {
  let m: unknown
  try {
    m = JSON.parse(text)
  } catch {
    return null
  }
  if (!m || typeof m !== 'object' || (m as { app?: unknown }).app !== 'StreamDesk') return null
  const out = new Map<string, ManifestEntry>()
  const { files, tables } = m as { files?: unknown; tables?: unknown }
  // A manifest names files in its own folder only; any other path is not trusted.
  const plain = (f: unknown): f is string => typeof f === 'string' && f !== '' && f === basename(f) && f !== '.' && f !== '..' && f !== MANIFEST_NAME
  if (Array.isArray(files)) {
    for (const f of files as { file?: unknown; bytes?: unknown; sha256?: unknown }[]) {
      if (!f || !plain(f.file)) continue
      out.set(f.file, {
        file: f.file,
        bytes: typeof f.bytes === 'number' ? f.bytes : undefined,
        sha256: typeof f.sha256 === 'string' ? f.sha256 : undefined
      })
    }
  }
  // manifests written before `files` existed list only tables
  if (Array.isArray(tables)) {
    for (const t of tables as { file?: unknown }[]) if (t && plain(t.file) && !out.has(t.file)) out.set(t.file, { file: t.file })
  }
  return [...out.values()]
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}

/** A file whose content was checked against its manifest entry, as it was then. */
type Verified = Map<string, { size: number; mtimeMs: number }>

interface TargetState {
  exists: boolean
  /** Files of an earlier StreamDesk export present in the folder (manifest.json included). */
  owned: Set<string>
  others: string[]
}

/**
 * Looks at the target and refuses what no confirmation can make safe: a file of someone else
 * where a snapshot file goes, or a file of an earlier export that was changed since.
 */
async function inspectTarget(dir: string, newNames: Set<string>, verified: Verified): Promise<TargetState> {
  let st
  try {
    st = lstatSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, owned: new Set(), others: [] }
    throw new ExportError(`cannot look at the export folder ${dir}: ${(err as Error).message}`, 'failed')
  }
  if (!st.isDirectory()) throw new ExportError(`${dir} exists and is not a folder`, 'refused')
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch (err) {
    throw new ExportError(`cannot read the export folder ${dir}: ${(err as Error).message}`, 'failed')
  }
  const owned = new Set<string>()
  const changed: string[] = []
  let foreignManifest = false
  if (entries.includes(MANIFEST_NAME)) {
    const path = join(dir, MANIFEST_NAME)
    let listed: ManifestEntry[] | null = null
    try {
      const s = lstatSync(path)
      if (s.isFile() && s.size <= MAX_MANIFEST_BYTES) listed = parseManifest(readFileSync(path, 'utf8'))
    } catch {
      listed = null
    }
    if (listed === null) foreignManifest = true
    else {
      owned.add(MANIFEST_NAME)
      for (const e of listed) {
        let s
        try {
          s = lstatSync(join(dir, e.file))
        } catch {
          continue // gone already
        }
        if (!s.isFile()) continue // something else now has the name: not ours
        if (e.sha256 !== undefined) {
          const seen = verified.get(e.file)
          const same =
            seen && seen.size === s.size && seen.mtimeMs === s.mtimeMs
              ? true
              : (e.bytes === undefined || e.bytes === s.size) && (await sha256Of(join(dir, e.file))) === e.sha256
          if (!same) {
            changed.push(e.file)
            continue
          }
          verified.set(e.file, { size: s.size, mtimeMs: s.mtimeMs })
        }
        owned.add(e.file)
      }
    }
  }
  if (changed.length > 0) {
    throw new ExportError(
      `${listNames(changed)} in ${dir} ${changed.length === 1 ? 'was' : 'were'} changed after StreamDesk exported ${changed.length === 1 ? 'it' : 'them'} ` +
        `(the checksum in ${MANIFEST_NAME} no longer matches), so ${changed.length === 1 ? 'it is' : 'they are'} yours now and StreamDesk will not replace or remove ${changed.length === 1 ? 'it' : 'them'}; ` +
        `move ${changed.length === 1 ? 'it' : 'them'} out of the folder or choose another folder`,
      'refused'
    )
  }
  const clashes = entries.filter((e) => newNames.has(e) && !owned.has(e))
  if (clashes.length > 0) {
    const why = foreignManifest && clashes.includes(MANIFEST_NAME) ? ` (its ${MANIFEST_NAME} is not a StreamDesk manifest)` : ''
    throw new ExportError(
      `${dir} already holds ${listNames(clashes)}, which ${clashes.length === 1 ? 'is' : 'are'} not from a StreamDesk export${why}; ` +
        `StreamDesk never overwrites files it did not write — move ${clashes.length === 1 ? 'it' : 'them'} away or choose another folder`,
      'refused'
    )
  }
  return { exists: true, owned, others: entries.filter((e) => !owned.has(e)) }
}

function needsOverwrite(dir: string, state: TargetState): ExportError {
  const replaces = [...state.owned].sort()
  const parts: string[] = []
  if (replaces.length > 0) parts.push(`the earlier StreamDesk export there would be replaced (${listNames(replaces, 12)})`)
  if (state.others.length > 0) parts.push(`${state.others.length} other ${state.others.length === 1 ? 'entry stays' : 'entries stay'} untouched (${listNames(state.others)})`)
  return new ExportError(`the export folder ${dir} is not empty: ${parts.join('; ')}`, 'needs-overwrite', {
    outDir: dir,
    replaces,
    others: state.others
  })
}

// ---- the export ----------------------------------------------------------------------------

/** Creates `dir`'s parent folders; returns those it created, deepest first, for undoing. */
function makeParents(dir: string): string[] {
  const parent = dirname(dir)
  let first: string | undefined
  try {
    first = mkdirSync(parent, { recursive: true })
  } catch (err) {
    throw new ExportError(`cannot create the folder ${parent}: ${(err as Error).message}`, 'failed')
  }
  const created: string[] = []
  if (first) for (let d = parent; isInside(d, first); d = dirname(d)) created.push(d)
  return created
}

function removeCreatedParents(created: string[]): void {
  for (const d of created) {
    try {
      rmdirSync(d) // only while empty: someone may have put something there meanwhile
    } catch {
      return
    }
  }
}

export async function exportLake(lake: Lake, outDir: string, format: ExportFormat, opts: ExportOptions = {}): Promise<ExportResult> {
  const dir = canonicalDir(outDir)
  checkPlace(dir, lake, opts.protectedDirs ?? [])
  const files = snapshotFiles(format)
  const newNames = new Set([...files.map((f) => f.name), MANIFEST_NAME])
  const verified: Verified = new Map()
  let before: TargetState
  try {
    before = await inspectTarget(dir, newNames, verified)
  } catch (err) {
    if (err instanceof ExportError) throw err
    throw new ExportError(`cannot check the export folder ${dir}: ${(err as Error).message}`, 'failed')
  }
  if (before.exists && (before.owned.size > 0 || before.others.length > 0) && !opts.overwrite) throw needsOverwrite(dir, before)

  const createdParents = makeParents(dir)
  let tmp: string
  try {
    tmp = join(dirname(dir), `.${basename(dir)}.streamdesk-export-${randomBytes(6).toString('hex')}`)
    // not recursive: fails rather than reuse a folder that is already there
    mkdirSync(tmp)
  } catch (err) {
    removeCreatedParents(createdParents)
    throw new ExportError(`cannot write next to the export folder ${dir}: ${(err as Error).message}`, 'failed')
  }

  let installed = false
  try {
    const written = await writeSnapshot(lake, tmp, format, files, opts.onProgress)
    const manifest = {
      app: 'StreamDesk',
      appVersion: APP_VERSION,
      exportedAt: new Date().toISOString(),
      lake: lake.file,
      format,
      lastBatchId: written.lastBatchId,
      orderTimeRange: written.orderTimeRange,
      tables: written.tables,
      files: written.files
    }
    writeFileSync(join(tmp, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + '\n')
    const replaced = await install(dir, tmp, written.files, newNames, verified, opts.overwrite === true)
    installed = true
    return {
      status: 'exported',
      outDir: dir,
      format,
      tables: written.tables.map((t) => ({ ...t, file: join(dir, t.file) })),
      files: written.files,
      manifestPath: join(dir, MANIFEST_NAME),
      replaced
    }
  } catch (err) {
    if (err instanceof ExportError) throw err
    throw new ExportError(`export to ${dir} failed: ${(err as Error).message.split('\n')[0]}; nothing was written there`, 'failed')
  } finally {
    // the hidden folder is ours alone; after a successful install it is empty or gone
    rmSync(tmp, { recursive: true, force: true })
    if (!installed) removeCreatedParents(createdParents)
  }
}

interface Written {
  tables: { name: string; rows: number; file: string }[]
  files: ExportedFile[]
  lastBatchId: number | null
  orderTimeRange: { from: unknown; to: unknown }
}

async function writeSnapshot(
  lake: Lake,
  tmp: string,
  format: ExportFormat,
  files: SnapshotFile[],
  onProgress?: (p: ExportProgress) => void
): Promise<Written> {
  const conn = await lake.connect()
  const tables: Written['tables'] = []
  let attached = false
  try {
    if (format === 'duckdb') {
      await conn.run(`ATTACH ${sqlString(join(tmp, DUCKDB_SNAPSHOT_NAME))} AS snap`)
      attached = true
    }
    await conn.run('BEGIN TRANSACTION')
    let done = 0
    for (const f of files) {
      for (const table of f.tables) {
        const count = await conn.runAndReadAll(`SELECT count(*) FROM ${table}`)
        const rows = Number(count.getRows()[0][0])
        if (format === 'duckdb') {
          await conn.run(`CREATE TABLE snap.${table} AS SELECT * FROM main.${table}`)
        } else {
          const copyOpts = format === 'parquet' ? `FORMAT parquet, COMPRESSION zstd` : `FORMAT csv, HEADER true`
          await conn.run(`COPY (SELECT * FROM main.${table}) TO ${sqlString(join(tmp, f.name))} (${copyOpts})`)
        }
        tables.push({ name: table, rows, file: f.name })
        onProgress?.({ table, done: ++done, total: LAKE_TABLES.length })
      }
    }
    const range = await conn.runAndReadAll(
      `SELECT min(order_ts)::VARCHAR, max(order_ts)::VARCHAR, (SELECT max(batch_id) FROM batches) FROM silver_orders`
    )
    const [from, to, lastBatch] = range.getRows()[0]
    await conn.run('COMMIT')
    if (attached) {
      await conn.run('DETACH snap')
      attached = false
    }
    const written: ExportedFile[] = []
    for (const f of files) {
      const path = join(tmp, f.name)
      written.push({
        file: f.name,
        tables: f.tables,
        rows: tables.filter((t) => f.tables.includes(t.name)).reduce((s, t) => s + t.rows, 0),
        bytes: statSync(path).size,
        sha256: await sha256Of(path)
      })
    }
    return { tables, files: written, lastBatchId: lastBatch === null ? null : Number(lastBatch), orderTimeRange: { from, to } }
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined)
    if (attached) await conn.run('DETACH snap').catch(() => undefined)
    throw err
  } finally {
    conn.closeSync()
  }
}

/**
 * Moves the finished snapshot from `tmp` into `dir`; returns the earlier export's files it
 * replaced or removed. Every step before the first rename into `dir` can still be refused.
 */
async function install(dir: string, tmp: string, files: ExportedFile[], newNames: Set<string>, verified: Verified, overwrite: boolean): Promise<string[]> {
  // The target is looked at again: files may have appeared while the snapshot was written.
  const now = await inspectTarget(dir, newNames, verified)
  if (!now.exists) {
    try {
      renameSync(tmp, dir)
      return []
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'EPERM') || !isDir(dir)) throw err
      // the folder appeared just now: treat it like one that was there
      return install(dir, tmp, files, newNames, verified, overwrite)
    }
  }
  if ((now.owned.size > 0 || now.others.length > 0) && !overwrite) throw needsOverwrite(dir, now)
  const stale = [...now.owned].filter((f) => !newNames.has(f))
  // A manifest that names the old files and the new ones goes first, so an install cut short
  // (power loss) leaves every StreamDesk file in the folder claimed and the next export can
  // clean up; the final manifest replaces it last.
  const interim = {
    app: 'StreamDesk',
    appVersion: APP_VERSION,
    incomplete: 'an export was being moved into this folder and did not finish; export again with overwrite',
    files: [...new Set([...now.owned, ...files.map((f) => f.file)])].filter((f) => f !== MANIFEST_NAME).map((file) => ({ file }))
  }
  const interimPath = join(tmp, `.${MANIFEST_NAME}.installing`)
  writeFileSync(interimPath, JSON.stringify(interim, null, 2) + '\n')
  renameSync(interimPath, join(dir, MANIFEST_NAME))
  try {
    for (const f of files) renameSync(join(tmp, f.file), join(dir, f.file))
    for (const f of stale) {
      try {
        unlinkSync(join(dir, f))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
    renameSync(join(tmp, MANIFEST_NAME), join(dir, MANIFEST_NAME))
  } catch (err) {
    throw new ExportError(
      `moving the export into ${dir} failed halfway: ${(err as Error).message.split('\n')[0]}; its ${MANIFEST_NAME} marks it incomplete, export again with overwrite`,
      'failed'
    )
  }
  return [...now.owned].filter((f) => f !== MANIFEST_NAME).sort()
}
