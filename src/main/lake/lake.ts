import { linkSync, mkdirSync, rmSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { LAKE_FORMAT, LAKE_STORAGE_VERSION, SCHEMA_SQL, SCHEMA_VERSION } from './schema'
import { identifyLake, migrateLake } from './migrations'
import { inspectLakeFolder, LAKE_FILE_NAME } from './lake-folder'

// The lake is one DuckDB file. This module is the only one that opens it; everything else gets
// a Lake with a writer connection (micro-batches, one transaction each) and a reader connection
// (dashboard queries, which see only committed batches thanks to DuckDB's MVCC). A process holds
// a lake through lake-registry.ts, so it never opens the same file twice.
//
// Nothing is written to a file before it has proved to be a StreamDesk lake: its header is read
// first, then its tables on a read-only instance; only a StreamDesk lake is opened for writing.

export type LakeErrorCode = 'missing' | 'refused' | 'in-use' | 'unreadable' | 'closing'

export class LakeError extends Error {
  constructor(
    message: string,
    readonly code: LakeErrorCode = 'unreadable'
  ) {
    super(message)
    this.name = 'LakeError'
  }
}

export interface Lake {
  readonly dir: string
  readonly file: string
  readonly writer: DuckDBConnection
  readonly reader: DuckDBConnection
  /** A fresh connection for long jobs (export) that must not block the dashboard reader. */
  connect(): Promise<DuckDBConnection>
  /** Runs `work` on this lake; close() waits for every such call to finish first. */
  use<T>(work: (lake: Lake) => Promise<T>): Promise<T>
  /**
   * Calls `listener` when close() begins, before it waits for work in flight: a console query
   * interrupts itself rather than hold up a Stop. Returns the disposer.
   */
  onClosing(listener: () => void): () => void
  close(): Promise<void>
}

export interface OpenLakeOptions {
  /** Create a new lake if the folder is missing or empty (Start, pipeline, run); never for reads. */
  create: boolean
  threads?: number
  /**
   * Open on a read-only instance that cannot read or write any other file either (the SQL
   * console when no process holds the lake): no migration, no repair, no writes at all.
   */
  readOnly?: boolean
  /** With readOnly: the one folder the instance may write files into (a Parquet export of the console). */
  exportDir?: string
}

export function lakeFile(dir: string): string {
  return inspectLakeFolder(dir, false).file
}

/** Settings every lake instance gets. No extension is ever fetched (only built-ins exist). */
function instanceOptions(extra: Record<string, string>): Record<string, string> {
  return {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    ...extra
  }
}

function explainOpenError(file: string, err: unknown): LakeError {
  const msg = err instanceof Error ? err.message : String(err)
  if (/Could not set lock|Conflicting lock/i.test(msg)) {
    const pid = /PID (\d+)/.exec(msg)?.[1]
    return new LakeError(
      `the lake ${file} is in use by another process${pid ? ` (PID ${pid})` : ''}; stop it or choose another lake folder`,
      'in-use'
    )
  }
  return new LakeError(`cannot open the lake ${file}: ${msg.split('\n')[0]}`)
}

/** Writes a new, empty lake under a temporary name and moves it into place without clobbering. */
async function createLakeFile(dir: string, file: string): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw new LakeError(`cannot create the lake folder ${dir}: ${(err as Error).message}`, 'refused')
  }
  const tmp = join(dir, `.${LAKE_FILE_NAME}.creating-${process.pid}`)
  rmSync(tmp, { force: true })
  try {
    const instance = await DuckDBInstance.create(tmp, instanceOptions({ storage_compatibility_version: LAKE_STORAGE_VERSION }))
    const conn = await instance.connect()
    try {
      await conn.run('BEGIN TRANSACTION')
      await conn.run(SCHEMA_SQL)
      await conn.run(`INSERT INTO lake_meta VALUES ('format', '${LAKE_FORMAT}'), ('schema_version', '${SCHEMA_VERSION}')`)
      await conn.run('COMMIT')
    } finally {
      conn.closeSync()
      instance.closeSync()
    }
    // link() fails if a lake appeared meanwhile (another process creating one): never replace it
    linkSync(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return
    throw new LakeError(`cannot create the lake ${file}: ${(err as Error).message.split('\n')[0]}`, 'refused')
  } finally {
    try {
      unlinkSync(tmp)
    } catch {
      /* already gone */
    }
    rmSync(`${tmp}.wal`, { force: true })
  }
}

/** Checks on a read-only instance that `file` is a StreamDesk lake this version can open. */
async function checkLake(file: string): Promise<number> {
  let instance: DuckDBInstance
  try {
    instance = await DuckDBInstance.create(file, instanceOptions({ access_mode: 'READ_ONLY' }))
  } catch (err) {
    throw explainOpenError(file, err)
  }
  try {
    const conn = await instance.connect()
    try {
      const id = await identifyLake(conn, file)
      if (!id.ok) throw new LakeError(id.reason, 'refused')
      return id.version
    } finally {
      conn.closeSync()
    }
  } finally {
    instance.closeSync()
  }
}

/**
 * Opens the StreamDesk lake in `dir`. Refuses (LakeError) a folder or file that is not one, a
 * lake from a newer version, a lake another process holds, and — unless `create` — a missing
 * lake. Use lake-registry.ts's acquireLake() rather than this, so a process opens a file once.
 */
export async function openLake(dir: string, opts: OpenLakeOptions): Promise<Lake> {
  const where = inspectLakeFolder(dir, opts.create)
  if (where.kind === 'refused') throw new LakeError(where.reason, where.missing ? 'missing' : 'refused')
  if (where.kind === 'new') await createLakeFile(where.dir, where.file)
  if (opts.readOnly) return openReadOnly(where.dir, where.file, opts.exportDir)
  const version = await checkLake(where.file)
  let instance: DuckDBInstance
  try {
    instance = await DuckDBInstance.create(
      where.file,
      instanceOptions({
        // Insertion order is irrelevant to every lake table; not preserving it lets DuckDB write
        // large micro-batches in parallel with less memory.
        preserve_insertion_order: 'false',
        ...(opts.threads ? { threads: String(opts.threads) } : {})
      })
    )
  } catch (err) {
    throw explainOpenError(where.file, err)
  }
  const writer = await instance.connect()
  const reader = await instance.connect()
  try {
    if (version < SCHEMA_VERSION) await migrateLake(writer, version)
  } catch (err) {
    writer.closeSync()
    reader.closeSync()
    instance.closeSync()
    throw new LakeError(`cannot open the lake ${where.file}: ${(err as Error).message.split('\n')[0]}`)
  }
  return trackedLake(where.dir, where.file, instance, writer, reader)
}

async function openReadOnly(dir: string, file: string, exportDir?: string): Promise<Lake> {
  let instance: DuckDBInstance
  try {
    // DuckDB takes allowed_directories only while external access is still on, so then both are
    // set on the running instance, before any statement of a user: once off, it cannot be turned on
    const access: Record<string, string> = exportDir === undefined ? { enable_external_access: 'false' } : {}
    instance = await DuckDBInstance.create(file, instanceOptions({ access_mode: 'READ_ONLY', ...access }))
  } catch (err) {
    throw explainOpenError(file, err)
  }
  const reader = await instance.connect()
  if (exportDir !== undefined) {
    await reader.run(`SET allowed_directories = [${sqlString(join(exportDir, '/'))}]`)
    await reader.run('SET enable_external_access = false')
  }
  const id = await identifyLake(reader, file).catch((err: Error) => ({ ok: false as const, reason: err.message }))
  if (!id.ok) {
    reader.closeSync()
    instance.closeSync()
    throw new LakeError(id.reason, 'refused')
  }
  // `writer` is only there to satisfy the Lake shape: the instance refuses every write
  return trackedLake(dir, file, instance, reader, reader, true)
}

/**
 * An empty lake in memory: what the dashboard reads before Start has created a lake on disk
 * (its `file` is ':memory:'). Nothing is written anywhere.
 */
export async function openScratchLake(): Promise<Lake> {
  const instance = await DuckDBInstance.create(':memory:', instanceOptions({}))
  const writer = await instance.connect()
  await writer.run(SCHEMA_SQL)
  await writer.run(`INSERT INTO lake_meta VALUES ('format', '${LAKE_FORMAT}'), ('schema_version', '${SCHEMA_VERSION}')`)
  return trackedLake(':memory:', ':memory:', instance, writer, await instance.connect())
}

/**
 * The closing checkpoint, run here so it does not block the JavaScript thread in closeSync().
 * It skips DuckDB's vacuum: after a large parallel insert, merging its last part-filled row group
 * into the others rewrites (and re-compresses) whole row groups, ~1 s for a 300k-order batch, to
 * save one row group. Checkpoints while running still vacuum, and a table's next change lets them
 * merge what this one left.
 */
async function checkpointForClose(writer: DuckDBConnection, file: string): Promise<void> {
  try {
    await writer.run('SET max_vacuum_tasks = 0')
    await writer.run('CHECKPOINT')
  } catch {
    // closeSync() checkpoints again and reports what matters; a failed early checkpoint loses nothing
  }
}

function trackedLake(
  dir: string,
  file: string,
  instance: DuckDBInstance,
  writer: DuckDBConnection,
  reader: DuckDBConnection,
  readOnly = false
): Lake {
  const inFlight = new Set<Promise<unknown>>()
  const closingListeners = new Set<() => void>()
  let closing: Promise<void> | null = null
  const lake: Lake = {
    dir,
    file,
    writer,
    reader,
    connect: () => instance.connect(),
    use(work) {
      if (closing) return Promise.reject(new LakeError(`the lake ${file} is closing`, 'closing'))
      const p = (async () => work(lake))()
      const tracked = p.then(
        () => undefined,
        () => undefined
      )
      inFlight.add(tracked)
      void tracked.then(() => inFlight.delete(tracked))
      return p
    },
    onClosing(listener) {
      closingListeners.add(listener)
      return () => closingListeners.delete(listener)
    },
    close() {
      closing ??= (async () => {
        for (const listener of closingListeners) listener()
        // queries in flight finish before DuckDB goes away (closing under them hangs the thread)
        while (inFlight.size > 0) await Promise.all([...inFlight])
        if (!readOnly && file !== ':memory:') await checkpointForClose(writer, file)
        reader.closeSync()
        if (writer !== reader) writer.closeSync()
        instance.closeSync()
      })()
      return closing
    }
  }
  return lake
}

export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`
