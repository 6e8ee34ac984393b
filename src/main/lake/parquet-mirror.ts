import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, relative, isAbsolute } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { sqlString, type Lake } from './lake'
import { canonicalDir } from './lake-folder'

// A continuous Parquet copy of silver_orders, fraud_alerts and order_windows for engines that do
// not read DuckDB files (docs/SCALING.md). After each commit the rows of the batches not mirrored
// yet are copied out, Hive-partitioned by UTC date:
//
//   <mirror>/silver_orders/order_date=2026-12-01/b<from>-<to>-<k>.parquet   batches from..to
//   <mirror>/fraud_alerts/order_date=…/b…-…-<k>.parquet
//   <mirror>/order_windows/window_date=…/windows.parquet                   that day's windows
//   <mirror>/_streamdesk_mirror.json                                        which lake, through which batch
//
// Every file is written under _staging/ and renamed into place, so a reader never sees half a
// file. Silver and alerts only grow, so their batches go to new files; a day's windows are
// recomputed by later batches, so that day's file is replaced whole. A replay rewrites rows of
// earlier batches in place: after one, the mirror is written again from the first batch (readers
// see it partly filled meanwhile). The state file moves on
// last: a crash before it leaves files past its mark, which the next open removes (they are
// written again). Compaction merges a day's files into c<from>-<to>.parquet and then removes the
// merged ones. A name the mirror did not give is never touched, nor is a folder without its
// state file, and `_`-prefixed names are skipped by Spark and Hive readers.

export class MirrorError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MirrorError'
  }
}

const STATE_FILE = '_streamdesk_mirror.json'
const STAGING = '_staging'
const FORMAT = 'streamdesk-parquet-mirror'
const WINDOWS_FILE = 'windows.parquet'
/** b<from>-<to>-<k>: rows of batches from..to; c<from>-<to>: a compaction of such files. */
const DATA_FILE = /^([bc])(\d{12})-(\d{12})(?:-(\d+))?\.parquet$/

const GROWING = [
  { table: 'silver_orders', partition: 'order_date', dateOf: 'order_ts' },
  { table: 'fraud_alerts', partition: 'order_date', dateOf: 'order_ts' }
] as const
const WINDOWS = { table: 'order_windows', partition: 'window_date', dateOf: 'window_start' } as const

const utcDate = (col: string) => `strftime(${col} AT TIME ZONE 'UTC', '%Y-%m-%d')`
const pad = (n: number) => String(n).padStart(12, '0')

interface MirrorState {
  format: typeof FORMAT
  lake: string
  through: number
}

interface DataFile {
  name: string
  kind: 'b' | 'c'
  from: number
  to: number
}

function dataFiles(dir: string): DataFile[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const m = DATA_FILE.exec(name)
    return m ? [{ name, kind: m[1] as 'b' | 'c', from: Number(m[2]), to: Number(m[3]) }] : []
  })
}

/** Partition folders (`<column>=<value>`) of one table folder. */
function partitions(tableDir: string, column: string): string[] {
  if (!existsSync(tableDir)) return []
  return readdirSync(tableDir).filter((d) => d.startsWith(`${column}=`) && statSync(join(tableDir, d)).isDirectory())
}

const inside = (child: string, parent: string) => {
  const rel = relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

export interface MirrorOptions {
  /** Compaction runs after a sync once this long has passed since the last one. */
  compactEveryMs: number
  /** Folders the mirror must be neither in nor around (the input folder). */
  protectedDirs?: { dir: string; what: string }[]
  /** A sync that failed (the lake is the truth: the next commit tries again). */
  onError?: (err: Error) => void
}

export class ParquetMirror {
  private chain: Promise<void> = Promise.resolve()
  private pending = false
  private lastCompactAt = Date.now()
  /** The first sync rewrites every day's windows (a resize may have changed them all). */
  private windowsAll = true

  private constructor(
    private readonly lake: Lake,
    readonly dir: string,
    private state: MirrorState,
    private readonly conn: DuckDBConnection,
    private readonly opts: MirrorOptions
  ) {}

  /** Opens (or starts) the mirror of `lake` in `dir`; refuses a folder that is not one. */
  static async open(lake: Lake, dirIn: string, opts: MirrorOptions): Promise<ParquetMirror> {
    const dir = canonicalDir(dirIn)
    for (const p of [{ dir: lake.dir, what: 'the lake folder' }, ...(opts.protectedDirs ?? [])]) {
      const other = canonicalDir(p.dir)
      if (inside(dir, other) || inside(other, dir)) {
        throw new MirrorError(`the Parquet mirror folder ${dir} cannot be in or around ${p.what} ${other}; choose a folder of its own`)
      }
    }
    const state = readOrStartState(dir, lake.file)
    const conn = await lake.connect()
    const [[last]] = (await conn.runAndReadAll('SELECT coalesce(max(batch_id), 0)::DOUBLE FROM batches')).getRows()
    if (state.through > Number(last)) {
      conn.closeSync()
      throw new MirrorError(
        `the Parquet mirror in ${dir} is ahead of the lake (through batch ${state.through}; the lake's last is ${Number(last)}): it mirrors an earlier lake at ${lake.file}; choose a new mirror folder`
      )
    }
    const mirror = new ParquetMirror(lake, dir, state, conn, opts)
    mirror.recover()
    return mirror
  }

  /** Mirrors what the lake committed since the last sync; runs behind the pipeline, one at a time. */
  afterCommit(): void {
    if (this.pending) return
    this.pending = true
    this.enqueue(async () => {
      this.pending = false
      await this.sync()
      if (Date.now() - this.lastCompactAt >= this.opts.compactEveryMs) await this.compactNow()
    }).catch(() => undefined) // said through onError
  }

  /** Merges each day's files into one (also run by afterCommit every compactEveryMs). */
  compact(): Promise<void> {
    return this.enqueue(() => this.compactNow())
  }

  /** Mirrors everything committed so far, and waits for it. */
  flush(): Promise<void> {
    return this.enqueue(() => this.sync())
  }

  /** Waits for the work in flight, then lets go of the lake. */
  async close(): Promise<void> {
    await this.chain
    this.conn.closeSync()
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => this.lake.use(work))
    this.chain = run.catch((err: Error) => this.opts.onError?.(err))
    return run
  }

  /** Removes what an interrupted sync or compaction of this mirror left behind (its own names only). */
  private recover(): void {
    rmSync(join(this.dir, STAGING), { recursive: true, force: true })
    for (const t of GROWING) {
      const tableDir = join(this.dir, t.table)
      for (const p of partitions(tableDir, t.partition)) {
        const files = dataFiles(join(tableDir, p))
        const compacted = files.filter((f) => f.kind === 'c')
        for (const f of files) {
          const uncommitted = f.to > this.state.through
          const merged = compacted.some((c) => c !== f && c.from <= f.from && f.to <= c.to)
          if (uncommitted || merged) unlinkSync(join(tableDir, p, f.name))
        }
      }
    }
  }

  private async sync(): Promise<void> {
    const [[last, replayed]] = (
      await this.conn.runAndReadAll(
        `SELECT coalesce(max(batch_id), 0)::DOUBLE, count(*) FILTER (WHERE kind = 'replay' AND batch_id > ${this.state.through})::DOUBLE FROM batches`
      )
    ).getRows()
    if (Number(replayed) > 0 && this.state.through > 0) {
      // A replay rewrote rows of earlier batches where they were (docs/LAKE.md, Replay), which
      // the files hold as they were: the mirror starts over. The mark goes back first, so a crash
      // from here on leaves files past it, which recover() removes and the next sync writes again.
      this.writeState({ ...this.state, through: 0 })
      this.recover()
      this.windowsAll = true
    }
    const from = this.state.through + 1
    const to = Number(last)
    if (to < from && !this.windowsAll) return
    const staging = join(this.dir, STAGING)
    rmSync(staging, { recursive: true, force: true })
    mkdirSync(staging, { recursive: true })
    try {
      await this.copyOut(staging, from, to)
    } catch (err) {
      // what this sync renamed into place is past the mark: gone, so the retry cannot double it
      this.recover()
      throw err
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
  }

  private async copyOut(staging: string, from: number, to: number): Promise<void> {
    if (to >= from) {
      for (const t of GROWING) {
        const staged = join(staging, t.table)
        await this.copyPartitioned(`SELECT *, ${utcDate(t.dateOf)} AS ${t.partition} FROM ${t.table} WHERE batch_id BETWEEN ${from} AND ${to}`, staged, t.partition)
        for (const p of partitions(staged, t.partition)) {
          const target = join(this.dir, t.table, p)
          mkdirSync(target, { recursive: true })
          readdirSync(join(staged, p))
            .sort()
            .forEach((f, k) => renameSync(join(staged, p, f), join(target, `b${pad(from)}-${pad(to)}-${k}.parquet`)))
        }
      }
    }
    await this.syncWindows(staging, from, to)
    this.writeState({ ...this.state, through: Math.max(this.state.through, to) })
  }

  /** Replaces the windows file of every day a batch in from..to touched (every day on the first sync). */
  private async syncWindows(staging: string, from: number, to: number): Promise<void> {
    const all = this.windowsAll
    const day = utcDate(WINDOWS.dateOf)
    const where = all ? '' : `WHERE ${day} IN (SELECT DISTINCT ${day} FROM ${WINDOWS.table} WHERE updated_batch_id BETWEEN ${from} AND ${to})`
    const staged = join(staging, WINDOWS.table)
    await this.copyPartitioned(`SELECT *, ${day} AS ${WINDOWS.partition} FROM ${WINDOWS.table} ${where}`, staged, WINDOWS.partition)
    const written = new Set(partitions(staged, WINDOWS.partition))
    for (const p of written) {
      const files = readdirSync(join(staged, p))
      if (files.length !== 1) throw new Error(`expected one windows file for ${p}, DuckDB wrote ${files.length}`)
      const target = join(this.dir, WINDOWS.table, p)
      mkdirSync(target, { recursive: true })
      renameSync(join(staged, p, files[0]), join(target, WINDOWS_FILE))
    }
    if (all) {
      // days without windows any more (a resize moved their starts): only the file the mirror wrote goes
      const tableDir = join(this.dir, WINDOWS.table)
      for (const p of partitions(tableDir, WINDOWS.partition)) {
        if (written.has(p)) continue
        rmSync(join(tableDir, p, WINDOWS_FILE), { force: true })
        if (readdirSync(join(tableDir, p)).length === 0) rmdirSync(join(tableDir, p))
      }
    }
    this.windowsAll = false
  }

  private async compactNow(): Promise<void> {
    this.lastCompactAt = Date.now()
    const staging = join(this.dir, STAGING)
    mkdirSync(staging, { recursive: true })
    try {
      for (const t of GROWING) {
        const tableDir = join(this.dir, t.table)
        for (const p of partitions(tableDir, t.partition)) {
          const files = dataFiles(join(tableDir, p))
          if (files.length < 2) continue
          const list = files.map((f) => sqlString(join(tableDir, p, f.name))).join(', ')
          const tmp = join(staging, `compact-${t.table}-${p}.parquet`)
          await this.conn.run(`COPY (SELECT * FROM read_parquet([${list}], hive_partitioning = false)) TO ${sqlString(tmp)} (FORMAT parquet)`)
          const name = `c${pad(Math.min(...files.map((f) => f.from)))}-${pad(Math.max(...files.map((f) => f.to)))}.parquet`
          renameSync(tmp, join(tableDir, p, name))
          for (const f of files) if (f.name !== name) unlinkSync(join(tableDir, p, f.name))
        }
      }
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
  }

  private async copyPartitioned(select: string, dir: string, column: string): Promise<void> {
    await this.conn.run(`COPY (${select}) TO ${sqlString(dir)} (FORMAT parquet, PARTITION_BY (${column}), FILENAME_PATTERN 'part_{i}')`)
  }

  private writeState(state: MirrorState): void {
    const tmp = join(this.dir, `${STATE_FILE}.tmp`)
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`)
    renameSync(tmp, join(this.dir, STATE_FILE))
    this.state = state
  }
}

/** The state of the mirror in `dir`, or a new one in a missing or empty folder. */
function readOrStartState(dir: string, lakeFile: string): MirrorState {
  const st = statSync(dir, { throwIfNoEntry: false })
  if (st && !st.isDirectory()) throw new MirrorError(`the Parquet mirror folder ${dir} is a file`)
  const entries = st ? readdirSync(dir) : []
  if (entries.includes(STATE_FILE)) {
    let state: MirrorState
    try {
      state = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as MirrorState
    } catch (err) {
      throw new MirrorError(`cannot read ${join(dir, STATE_FILE)}: ${(err as Error).message}`)
    }
    if (state.format !== FORMAT || typeof state.through !== 'number') throw new MirrorError(`${join(dir, STATE_FILE)} is not a StreamDesk mirror's state`)
    if (state.lake !== lakeFile) {
      throw new MirrorError(`the folder ${dir} holds the Parquet mirror of another lake (${state.lake}); choose another mirror folder`)
    }
    return state
  }
  const foreign = entries.filter((e) => e !== `${STATE_FILE}.tmp`)
  if (foreign.length > 0) {
    throw new MirrorError(`the folder ${dir} is not empty and holds no StreamDesk mirror (${foreign.slice(0, 3).join(', ')}); a mirror starts in an empty or new folder`)
  }
  mkdirSync(dir, { recursive: true })
  const state: MirrorState = { format: FORMAT, lake: lakeFile, through: 0 }
  writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`)
  return state
}
