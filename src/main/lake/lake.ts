import { linkSync, mkdirSync, rmSync, unlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { LAKE_FORMAT, LAKE_STORAGE_VERSION, SCHEMA_SQL, SCHEMA_VERSION } from './schema'
import { identifyLake, migrateLake } from './migrations'
import { inspectLakeFolder, LAKE_FILE_NAME, STAGE_FILE_NAME } from './lake-folder'

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
  /**
   * The writer's staging database (a catalog name), where batch-writer.ts stages a mid-sized
   * batch so DuckDB scans it on every core; null: temp tables only (in-memory and read-only lakes).
   */
  readonly stage: string | null
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

/**
 * The row group size the writer writes the lake in (DuckDB's default is 122,880 rows). DuckDB
 * writes an insert of at least one row group straight to the file, compressed by every thread
 * of the insert; a smaller insert goes to the WAL and is compressed at the next checkpoint, on
 * one thread, inside some later COMMIT (0.6-1.4 s of a 100k-order Kafka batch). Smaller groups
 * compress slightly worse: a 300k-order lake is 8 % larger at this size, 17 % at 16,384.
 * Any DuckDB reads any row group size, so this is not part of the lake's format.
 */
export const LAKE_ROW_GROUP_SIZE = 32_768

/** The lake's catalog name on a writable instance (which attaches it to an in-memory one). */
const LAKE_CATALOG = 'lake'
const STAGE_CATALOG = 'stage'
/**
 * DuckDB scans a table on several threads only by row group, and keeps the tables of an
 * in-memory database (temp tables included) in groups of 122,880 rows whatever it is told: a
 * smaller batch staged there is parsed, scored and inserted on one core. A file database keeps
 * the row group size it is attached with.
 */
const STAGE_ROW_GROUP_SIZE = 16_384

/** The writer's staging database file, next to the lake (lake-folder.ts counts it a companion). */
export const stageFile = (lakeFile: string): string => join(dirname(lakeFile), STAGE_FILE_NAME)

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
    // An in-memory instance with the lake attached: only ATTACH takes a row group size.
    instance = await DuckDBInstance.create(
      ':memory:',
      instanceOptions({
        // Insertion order is irrelevant to every lake table; not preserving it lets DuckDB write
        // large micro-batches in parallel with less memory.
        preserve_insertion_order: 'false',
        // where DuckDB spills: next to the lake, as for an instance opened on the file itself
        temp_directory: `${where.file}.tmp`,
        ...(opts.threads ? { threads: String(opts.threads) } : {})
      })
    )
  } catch (err) {
    throw explainOpenError(where.file, err)
  }
  const connect = async () => {
    const conn = await instance.connect()
    await conn.run(`USE ${LAKE_CATALOG}`)
    return conn
  }
  const writer = await instance.connect()
  try {
    await writer.run(`ATTACH ${sqlString(where.file)} AS ${LAKE_CATALOG} (ROW_GROUP_SIZE ${LAKE_ROW_GROUP_SIZE})`)
  } catch (err) {
    writer.closeSync()
    instance.closeSync()
    throw explainOpenError(where.file, err)
  }
  let reader: DuckDBConnection | null = null
  try {
    await writer.run(`USE ${LAKE_CATALOG}`)
    await attachStage(writer, where.file)
    // the writer finds staged tables by name wherever a batch put them: temp, then the stage
    await writer.run(`SET search_path = '${LAKE_CATALOG}.main,${STAGE_CATALOG}.main'`)
    reader = await connect()
    if (version < SCHEMA_VERSION) await migrateLake(writer, version)
  } catch (err) {
    reader?.closeSync()
    writer.closeSync()
    instance.closeSync()
    removeStage(where.file)
    throw new LakeError(`cannot open the lake ${where.file}: ${(err as Error).message.split('\n')[0]}`)
  }
  return trackedLake(where.dir, where.file, instance, writer, reader, { connect, stage: STAGE_CATALOG })
}

/**
 * Attaches a new, empty staging database. Only the process holding the lake gets here (its
 * ATTACH took the lock), so a file at that name is a staging database a crash left behind:
 * it held copies of a batch's input, nothing else.
 */
async function attachStage(writer: DuckDBConnection, lake: string): Promise<void> {
  removeStage(lake)
  // no WAL: its contents never need to survive a crash
  await writer.run(`ATTACH ${sqlString(stageFile(lake))} AS ${STAGE_CATALOG} (ROW_GROUP_SIZE ${STAGE_ROW_GROUP_SIZE}, RECOVERY_MODE no_wal_writes)`)
}

function removeStage(lake: string): void {
  for (const f of [stageFile(lake), `${stageFile(lake)}.wal`]) rmSync(f, { force: true })
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
  return trackedLake(dir, file, instance, reader, reader, { readOnly: true })
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

interface TrackedOptions {
  readOnly?: boolean
  /** How to connect to the lake (an instance with the lake attached says which catalog to USE). */
  connect?: () => Promise<DuckDBConnection>
  stage?: string
}

function trackedLake(
  dir: string,
  file: string,
  instance: DuckDBInstance,
  writer: DuckDBConnection,
  reader: DuckDBConnection,
  { readOnly = false, connect = () => instance.connect(), stage }: TrackedOptions = {}
): Lake {
  const inFlight = new Set<Promise<unknown>>()
  const closingListeners = new Set<() => void>()
  let closing: Promise<void> | null = null
  const lake: Lake = {
    dir,
    file,
    writer,
    reader,
    stage: stage ?? null,
    connect,
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
        if (stage) await writer.run(`DETACH ${stage}`).catch(() => undefined)
        reader.closeSync()
        if (writer !== reader) writer.closeSync()
        instance.closeSync()
        if (stage) removeStage(file)
      })()
      return closing
    }
  }
  return lake
}

export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`
