import { statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import type { BatchEvent } from '../../shared/dto'
import { MAX_LINE_BYTES } from '../../shared/events'
import {
  decodeIdentity,
  encodeIdentity,
  holdsCommittedBytes,
  identityAt,
  sameInode,
  fileStatOf,
  statHandle,
  type FileIdentity,
  type FileStat
} from './file-identity'
import { GeneratedFiles } from './generated-files'
import { inputFileFromBytes, openInputFile, readRange, type InputFile } from './input-file'
import { ReadAhead } from './read-ahead'
import { checkInputFolder, InputFolderError } from './input-folder'
import { type FileSegment, type InputLine, type LinesSegment, type OffsetUpdate, type PlannedBatch, type Segment, type Source, type Stream, type InputBacklog } from './source'

// Watches <input>/orders and <input>/customers. Progress is a byte offset per file, always just
// after a newline, so a line still being written is left for a later batch. The state this class
// holds is only a cache of the lake's `source_offsets`: the lake is the record. Each offset carries
// the identity of its file (file-identity.ts), so the state follows a renamed file, and a new,
// truncated or rewritten file under a known name is read from byte 0 (docs/EVENTS.md).

export const FILE_SOURCE_KIND = 'file'
const STREAMS: Stream[] = ['customers', 'orders']
/** Bytes read per step when looking for a newline. */
const SCAN_CHUNK = 64 * 1024
/**
 * Files one batch takes at most: a backlog of 100,000 small files is read in batches of bounded
 * memory (plan, offsets and the batch record all grow with the file count), not all at once.
 */
export const MAX_FILES_PER_BATCH = 20000
/** Files up to this size are read whole while planning (one read instead of one per fingerprint, plus the lake's). */
export const SMALL_FILE_BYTES = 64 * 1024
/**
 * Bytes read ahead at most (beside the batch being written, which holds its own small files'
 * bytes): the files it pays for are small, and many (20,000 one-line files are ~12 MB).
 */
const READ_AHEAD_MAX_BYTES = 32 * 1024 * 1024
/** A file after others in a batch still gets this much room. */
const MIN_WINDOW = 64 * 1024
/** Bytes of a line over MAX_LINE_BYTES kept in bronze and quarantine (the rest is never read into memory). */
export const LONG_LINE_PREFIX_BYTES = 1024
export { InputFolderError }

/** Files backlog() stats at most per look: a huge backlog is reported as "at least". */
const MAX_BACKLOG_STATS = 10_000

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}

export function isInputFile(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('.tmp') && /\.(jsonl|json|ndjson)$/i.test(name)
}

interface FileState {
  path: string
  stream: Stream
  /** Next byte to read; the lake's offset, or the one the next batch will write (pendingWrite). */
  offset: number
  /** The identity at `offset`; null for an offset stored by a StreamDesk that kept none. */
  id: FileIdentity | null
  /** The file's stat when it last proved to hold the committed bytes: the same stat needs no re-check. */
  verified: FileStat | null
  /** The last full scan that found it in the folder listing (a set of 100,000 listed paths cost more). */
  listed?: number
}

interface Candidate {
  stream: Stream
  path: string
  st: FileStat
}

/** What a plan carries beyond its segments, applied when it commits. */
interface PlanExtras {
  ids: Map<string, FileIdentity>
  verified: Map<string, FileStat>
  writes: string[]
  forgets: string[]
  events: BatchEvent[]
}

const inodeKey = (x: { dev: string; ino: string }) => `${x.dev}:${x.ino}`

const sameStat = (a: FileStat, b: FileStat) => sameInode(a, b) && a.size === b.size && a.mtimeMs === b.mtimeMs

async function statPath(path: string): Promise<FileStat | null> {
  try {
    // sync: see input-file.ts (a full scan stats every file of the folder)
    const st = statSync(path, { bigint: true })
    if (!st.isFile()) return null
    return { dev: String(st.dev), ino: String(st.ino), size: Number(st.size), mtimeMs: Number(st.mtimeMs) }
  } catch {
    return null
  }
}

/** Position just after the last newline in [from, to), or -1 when there is none. */
async function lastLineEnd(fh: InputFile, from: number, to: number): Promise<number> {
  const inMemory = fh.slice?.(from, to)
  if (inMemory) {
    const nl = inMemory.lastIndexOf(10)
    return nl >= 0 ? from + nl + 1 : -1
  }
  const buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, to - from))
  let hi = to
  while (hi > from) {
    const lo = Math.max(from, hi - buf.length)
    const { bytesRead } = await fh.read(buf, 0, hi - lo, lo)
    const nl = buf.subarray(0, bytesRead).lastIndexOf(10)
    if (nl >= 0) return lo + nl + 1
    hi = lo
  }
  return -1
}

/** Position of the first newline in [from, to), or -1; one chunk in memory at a time. */
async function firstNewline(fh: InputFile, from: number, to: number): Promise<number> {
  const buf = Buffer.allocUnsafe(SCAN_CHUNK)
  for (let lo = from; lo < to; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(SCAN_CHUNK, to - lo), lo)
    if (bytesRead === 0) return -1
    const nl = buf.subarray(0, bytesRead).indexOf(10)
    if (nl >= 0) return lo + nl
    lo += bytesRead
  }
  return -1
}

async function readAt(fh: InputFile, from: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length)
  const { bytesRead } = await fh.read(buf, 0, length, from)
  return buf.subarray(0, bytesRead)
}

/**
 * The record of a line over MAX_LINE_BYTES: its first bytes (cut at a character boundary) and a
 * reason with its length. Only those bytes are read.
 */
async function longLine(fh: InputFile, start: number, length: number): Promise<InputLine> {
  let head = await readAt(fh, start, Math.min(LONG_LINE_PREFIX_BYTES, length))
  let cut = head.length
  if (cut < length) while (cut > 0 && (head[cut] & 0xc0) === 0x80) cut-- // do not split a character
  head = head.subarray(0, cut)
  return {
    raw: head.toString('utf8'),
    error: `line over 1 MiB (${length} bytes); only its first ${head.length} bytes are kept`,
    byteOffset: start
  }
}

export class FolderSource implements Source {
  readonly inputDir: string
  readonly description
  /** State per path in orders/ and customers/. */
  private files = new Map<string, FileState>()
  /** The same states by device and inode, to find a file that turns up under another name. */
  private byInode = new Map<string, FileState>()
  /**
   * States of files no longer at their path (gone at a full scan, or another file took the name),
   * kept until the next full scan so a rename seen late (a directory listing that raced it, a
   * rotated file listed after its successor) still finds its state.
   */
  private graveyard = new Map<string, FileState>()
  /** Lake rows the next batch writes (a state moved to a new name, an identity learned)... */
  private pendingWrite = new Set<string>()
  /** ...deletes (files gone)... */
  private pendingForget = new Set<string>()
  /** ...and events it records. None of these alone makes a batch: they go with the next one. */
  private pendingEvents: BatchEvent[] = []
  private extras = new WeakMap<PlannedBatch, PlanExtras>()
  /** Bytes [start, upTo) of a file hold no newline: a long line is not scanned again from its start. */
  private noNewline = new Map<string, { start: number; upTo: number }>()
  private watcher: FSWatcher | null = null
  private listeners = new Set<() => void>()
  private warnings: string[] = []
  /** Files the watcher reported since the last poll; only these are stat'ed between full scans. */
  private dirty = new Set<string>()
  /**
   * Candidates a poll found but had no room for (batch size or file count), in their order: the
   * next poll starts from them instead of listing and stat'ing the whole folder again (a backlog
   * of 100,000 files was 20 full scans, 2 million stats).
   */
  private leftover: Candidate[] = []
  /** The leftover's small files, read while a batch is written (readAhead). */
  private ahead = new ReadAhead()
  /** Whether the last candidates() listed the whole folder. */
  private scannedAll = false
  private lastFullScan = 0
  /** Full scans so far: a state a scan listed carries its number (FileState.listed). */
  private fullScans = 0
  /** Full rescans catch changes a watcher can miss (network drives, events lost under load). */
  fullScanEveryMs = 30_000

  /** Set for the built-in generator's folder: removes the generator's files once ingested. */
  private readonly retention: GeneratedFiles | null

  /**
   * removeGenerated: remove the files the built-in generator wrote once the lake holds all of
   * them (sources/generated-files decides, by its record); they are only a hand-over (bronze
   * keeps every line), so hours of running leave neither the folder nor this class's state
   * growing. Every other file is only read, whatever the option.
   */
  constructor(
    inputDir: string,
    kind: 'folder' | 'generator' = 'folder',
    options: { removeGenerated?: boolean } = {}
  ) {
    this.inputDir = resolve(inputDir)
    this.description = { kind, label: this.inputDir }
    this.retention = options.removeGenerated ? new GeneratedFiles(this.inputDir) : null
  }

  async open(committed: ReadonlyMap<string, bigint>, identities?: ReadonlyMap<string, string>): Promise<void> {
    checkInputFolder(this.inputDir)
    for (const [path, offset] of committed) {
      // Offsets of files in other folders (an earlier input folder) are not this source's: they
      // are neither used nor pruned, so going back to that folder later reads nothing twice.
      const stream = this.streamOf(path)
      if (!stream) continue
      this.track({ path, stream, offset: Number(offset), id: decodeIdentity(identities?.get(path)), verified: null })
    }
  }

  private streamOf(path: string): Stream | undefined {
    return STREAMS.find((s) => dirname(path) === join(this.inputDir, s))
  }

  private track(s: FileState): void {
    this.files.set(s.path, s)
    if (s.id) this.byInode.set(inodeKey(s.id), s)
  }

  private untrack(s: FileState): void {
    if (this.files.get(s.path) === s) this.files.delete(s.path)
    if (s.id && this.byInode.get(inodeKey(s.id)) === s) this.byInode.delete(inodeKey(s.id))
    this.pendingWrite.delete(s.path)
    this.noNewline.delete(s.path)
  }

  /** The file left this path; its state waits (until the next full scan) to be found elsewhere. */
  private bury(s: FileState): void {
    this.untrack(s)
    if (s.id) this.graveyard.set(inodeKey(s.id), s)
  }

  /** A file the lake no longer needs to know: its row goes with the next batch. */
  private forget(s: FileState): void {
    this.untrack(s)
    this.pendingForget.add(s.path)
  }

  private warn(w: string): void {
    if (!this.warnings.includes(w)) this.warnings.push(w)
  }

  private async sweepGenerated(): Promise<void> {
    if (!this.retention) return
    const offsets = new Map([...this.files.values()].map((s) => [s.path, s.offset]))
    for (const path of await this.retention.sweep(offsets).catch(() => [])) {
      const s = this.files.get(path)
      if (s) this.forget(s)
    }
  }

  /** Starts watching; new or grown files wake the engine. */
  startWatching(): void {
    if (this.watcher) return
    this.watcher = watch(STREAMS.map((s) => join(this.inputDir, s)), {
      ignoreInitial: true,
      depth: 0,
      ignored: (p, stats) => !!stats?.isFile() && !isInputFile(p.split(/[\\/]/).pop() ?? '')
    })
    const wake = (path?: string) => {
      if (path) this.dirty.add(resolve(path))
      this.listeners.forEach((l) => l())
    }
    this.watcher
      .on('add', wake)
      .on('change', wake)
      .on('addDir', () => {
        this.lastFullScan = 0
        wake()
      })
  }

  /**
   * The writer is done and the pipeline drains: the next poll looks at the whole folder, not
   * only at what the watcher reported, so a missed event cannot end the drain early.
   */
  drain(): void {
    this.lastFullScan = 0
  }

  /** These files changed while being read: look at them again, checking their identity afresh. */
  replan(paths: string[]): void {
    for (const path of paths) {
      const s = this.files.get(path)
      if (s) s.verified = null
      this.noNewline.delete(path)
      this.dirty.add(path)
    }
    this.listeners.forEach((l) => l())
  }

  onInput(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  status(): string | null {
    return this.warnings.at(-1) ?? null
  }

  /**
   * Bytes of input files beyond what the lake holds (docs/OPERATIONS.md, *Health alerts*): a
   * file's size past its offset (all of it for a file not read yet or rewritten shorter), except
   * a last line planning already found incomplete. Reads the folder listing and stats only.
   */
  async backlog(): Promise<InputBacklog> {
    let files = 0
    let bytes = 0
    let error: string | null = null
    if (!statSync(this.inputDir, { throwIfNoEntry: false })?.isDirectory()) error = `the input folder ${this.inputDir} is not there any more`
    const paths: string[] = []
    for (const stream of STREAMS) {
      if (error) break
      const dir = join(this.inputDir, stream)
      try {
        for (const name of await readdir(dir)) if (isInputFile(name)) paths.push(join(dir, name))
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        // a folder with only orders/ is fine; one that cannot be listed is not
        if (code !== 'ENOENT') error = `cannot list ${dir} (${code ?? (err as Error).message}); nothing in it is read`
      }
    }
    // files never read first: within the cap, what waits is found before what was read long ago
    paths.sort((a, b) => Number(this.files.has(a)) - Number(this.files.has(b)))
    for (const path of paths.slice(0, MAX_BACKLOG_STATS)) {
      const st = await statPath(path)
      if (!st) continue
      const s = this.files.get(path) ?? this.byInode.get(inodeKey(st))
      const offset = s && st.size >= s.offset ? s.offset : 0
      const known = this.noNewline.get(path)
      const incomplete = known && known.start === offset && known.upTo >= st.size
      if (st.size > offset && !incomplete) {
        files++
        bytes += st.size - offset
      }
    }
    const more = paths.length > MAX_BACKLOG_STATS ? 'at least ' : ''
    return {
      waiting: files > 0,
      description: files > 0 ? `${more}${files} file${files === 1 ? '' : 's'}, ${formatBytes(bytes)}` : null,
      messages: null,
      error
    }
  }

  private async candidates(): Promise<Candidate[]> {
    // Without a watcher (until idle) only a full scan can find new files, so one is made
    // whenever nothing is left over or reported; with one, at the rescan interval.
    const idle = this.dirty.size === 0 && this.leftover.length === 0
    const full = (!this.watcher && idle) || Date.now() - this.lastFullScan >= this.fullScanEveryMs
    this.scannedAll = full
    const paths: { stream: Stream; path: string }[] = []
    const carried = full ? [] : this.leftover
    this.leftover = []
    if (full) {
      this.lastFullScan = Date.now()
      // What was buried at the previous full scan had a whole scan to turn up under a new name.
      this.graveyard.clear()
      // The first poll is a full scan: it removes the generator's files an earlier run left that
      // the lake now holds; later ones retry a removal that failed after its commit.
      await this.sweepGenerated()
      const scan = ++this.fullScans
      for (const stream of STREAMS) {
        const dir = join(this.inputDir, stream)
        let names: string[]
        try {
          names = await readdir(dir)
        } catch {
          continue
        }
        for (const name of names) {
          if (!isInputFile(name)) continue
          // (not join(): dir is normalized and a listed name holds no separator; 100,000 files)
          const path = dir + sep + name
          const s = this.files.get(path)
          if (s) s.listed = scan
          paths.push({ stream, path })
        }
      }
      // Files that are gone are forgotten, so the state tracks the folder, not all history. A
      // listing that raced a rename can miss a file that is there: stat says.
      for (const s of [...this.files.values()]) {
        if (s.listed === scan) continue
        if (await statPath(s.path)) paths.push({ stream: s.stream, path: s.path })
        else {
          this.forget(s)
          if (s.id) this.graveyard.set(inodeKey(s.id), s)
        }
      }
    } else {
      const inCarried = this.dirty.size ? new Set(carried.map((c) => c.path)) : null
      for (const path of this.dirty) {
        if (inCarried!.has(path)) continue
        const stream = STREAMS.find((s) => path.startsWith(join(this.inputDir, s) + sep))
        if (stream && isInputFile(basename(path))) paths.push({ stream, path })
      }
    }
    this.dirty.clear()
    const out: Candidate[] = []
    for (const { stream, path } of paths) {
      const st = await statPath(path)
      if (!st) continue
      const s = this.files.get(path)
      // unchanged since it last proved to be the file its offset belongs to, and nothing new
      if (s?.verified && sameStat(s.verified, st) && st.size <= s.offset) continue
      out.push({ stream, path, st })
    }
    // A file that carries a known file's inode under another name is looked at first: when a
    // file was renamed and a new one took its name (rotation), the state follows the old file
    // before the new one is taken for a file of its own.
    // (worked out once per file: in the comparator it built millions of key strings for 100,000 files)
    const moved = new Map<Candidate, number>()
    for (const c of out) {
      const key = inodeKey(c.st)
      const s = this.byInode.get(key) ?? this.graveyard.get(key)
      moved.set(c, s !== undefined && s.path !== c.path ? 0 : 1)
    }
    out.sort((a, b) => moved.get(a)! - moved.get(b)! || a.st.mtimeMs - b.st.mtimeMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    // what was left over keeps its place ahead of files reported since (poll re-stats each one)
    return carried.length ? [...carried, ...out] : out
  }

  /**
   * Which state the file open as `fh` at `path` continues, or a new one from byte 0; null when
   * it is not to be read under this name (a second name of a file read under its first).
   */
  private async identify(path: string, stream: Stream, fh: InputFile, st: FileStat): Promise<FileState | null> {
    const known = this.files.get(path)
    if (known) {
      if (known.verified && sameStat(known.verified, st)) return known
      if (!known.id) {
        // An offset from a StreamDesk that kept no identity: the file at its path is taken for
        // the one it describes, as that version did, and gets an identity with the next batch.
        const id = st.size >= known.offset ? await identityAt(fh, st, known.offset) : null
        if (id) {
          known.id = id
          known.verified = st
          this.track(known)
          this.pendingWrite.add(path)
          return known
        }
        return this.fresh(path, stream, fh, st, known, 'truncated')
      }
      if (sameInode(known.id, st)) {
        if (await holdsCommittedBytes(fh, known.id, known.offset, st.size)) {
          known.verified = st
          return known
        }
        return this.fresh(path, stream, fh, st, known, 'truncated')
      }
    }
    const moved = await this.movedHere(path, stream, fh, st)
    if (moved !== undefined) return moved
    if (known?.id) {
      if (await holdsCommittedBytes(fh, known.id, known.offset, st.size)) {
        // The same bytes under a new inode (saved by writing a copy and renaming it over the
        // old one, or copied back): it goes on from its offset.
        this.untrack(known)
        known.id = { ...known.id, dev: st.dev, ino: st.ino }
        known.verified = st
        this.track(known)
        this.pendingWrite.add(path)
        return known
      }
      return this.fresh(path, stream, fh, st, known, 'replaced')
    }
    return this.fresh(path, stream, fh, st, undefined, null)
  }

  /**
   * A known file under a new name: its state moves here (renamed, or rotated away from its old
   * name). undefined: it is not one; null: it is a second name of a file still read under its first.
   */
  private async movedHere(path: string, stream: Stream, fh: InputFile, st: FileStat): Promise<FileState | null | undefined> {
    const key = inodeKey(st)
    const live = this.byInode.get(key)
    const from = live && live.path !== path ? live : this.graveyard.get(key)
    if (!from?.id || from.path === path) return undefined
    if (from === live) {
      const there = await statPath(from.path)
      if (there && sameInode(there, st)) {
        this.warn(`${path} is another name of ${from.path} (a hard link); it is read once, as ${from.path}`)
        return null
      }
    }
    // an inode reused by another file holds other bytes
    if (!(await holdsCommittedBytes(fh, from.id, from.offset, st.size))) return undefined
    const known = this.files.get(path)
    if (known) this.bury(known)
    if (from === live) this.forget(from)
    this.graveyard.delete(key)
    this.pendingForget.add(from.path)
    this.pendingEvents.push({
      kind: 'renamed',
      path,
      from: from.path,
      message: `${from.path} was renamed to ${path}; it is read on from byte ${from.offset}, not again`
    })
    from.path = path
    from.stream = stream
    from.verified = st
    this.track(from)
    this.pendingWrite.add(path)
    return from
  }

  /** A file read from byte 0: a new one, or one that was truncated or replaced under a known name. */
  private async fresh(
    path: string,
    stream: Stream,
    fh: InputFile,
    st: FileStat,
    before: FileState | undefined,
    why: 'truncated' | 'replaced' | null
  ): Promise<FileState> {
    // A truncated file's old bytes are gone; a replaced one may turn up under another name.
    if (before) why === 'replaced' ? this.bury(before) : this.untrack(before)
    if (before && why === 'truncated') {
      this.pendingEvents.push({
        kind: 'truncated',
        path,
        message:
          st.size < before.offset
            ? `${path} was truncated (${st.size} bytes now, ${before.offset} had been read); it is read again from byte 0`
            : `${path} was truncated or rewritten (its first ${before.offset} bytes changed); it is read again from byte 0`
      })
    } else if (before && why === 'replaced') {
      this.pendingEvents.push({
        kind: 'replaced',
        path,
        message: `${path} is another file now (the one read before was deleted or renamed); it is read from byte 0`
      })
    }
    const s: FileState = { path, stream, offset: 0, id: await identityAt(fh, st, 0), verified: st }
    this.track(s)
    // The lake's row for this path goes back to 0 with the batch that records the event, even
    // when the file has nothing to read yet: a restart then neither skips nor reports it again.
    if (before) this.pendingWrite.add(path)
    return s
  }

  /**
   * While a batch is written: reads the small files the next poll starts with (what this poll had
   * no room for), so that poll finds their bytes ready. Returns the function that stops it.
   */
  readAhead(maxBytes: number): () => Promise<void> {
    // (the size at listing time: a file that was large then is not opened only to be skipped)
    const small = this.leftover.filter((c) => c.st.size <= SMALL_FILE_BYTES).map((c) => c.path)
    return this.ahead.start(small, { maxFileBytes: SMALL_FILE_BYTES, maxBytes: Math.min(maxBytes, READ_AHEAD_MAX_BYTES), maxFiles: MAX_FILES_PER_BATCH })
  }

  async poll(maxBytes: number): Promise<PlannedBatch | null> {
    const segments: Segment[] = []
    const offsets: OffsetUpdate[] = []
    const extras: PlanExtras = { ids: new Map(), verified: new Map(), writes: [], forgets: [], events: [] }
    let bytes = 0
    let newest = 0
    const candidates = await this.candidates()
    for (const [i, c] of candidates.entries()) {
      let fh: InputFile
      try {
        fh = this.ahead.take(c.path) ?? (await openInputFile(c.path))
      } catch {
        continue // gone since the listing: the next full scan settles it
      }
      let taken = 0
      try {
        const raw = await fh.stat({ bigint: true })
        const st = fileStatOf(raw)
        // A small file is read once, here; planning and the lake use those bytes.
        const whole = st.size <= SMALL_FILE_BYTES ? await readRange(fh, 0, st.size) : null
        const file = whole ? inputFileFromBytes(whole, raw) : fh
        const state = await this.identify(c.path, c.stream, file, st)
        if (!state) continue
        const start = state.offset
        if (st.size <= start) continue
        if (bytes > 0 && bytes + (st.size - start) > maxBytes && start === 0) {
          this.leftover = candidates.slice(i)
          break
        }
        const planned = await this.planFile(state, file, st, maxBytes, bytes)
        if (!planned) continue
        const id = await identityAt(file, st, planned.end)
        if (!id) {
          this.dirty.add(c.path) // shrank meanwhile: look again
          continue
        }
        if (planned.segment.type === 'file') {
          Object.assign(planned.segment, { dev: st.dev, ino: st.ino, fingerprint: id.head, fingerprintBytes: id.headBytes, size: st.size })
          if (whole) planned.segment.bytes = whole.subarray(planned.segment.start, planned.end)
        }
        segments.push(planned.segment)
        offsets.push({ sourceKind: FILE_SOURCE_KIND, key: c.path, offset: BigInt(planned.end), identity: encodeIdentity(id) })
        extras.ids.set(c.path, id)
        extras.verified.set(c.path, st)
        taken = planned.end - start
        newest = Math.max(newest, st.mtimeMs)
        // A partly read file (limit reached, or a line still being written) is looked at again.
        if (planned.end < st.size) this.dirty.add(c.path)
      } catch (err) {
        // an unreadable file (permissions, I/O error) never stops the engine; it is tried again
        this.warn(`${c.path} cannot be read: ${(err as Error).message}`)
        this.dirty.add(c.path)
        continue
      } finally {
        await fh.close().catch(() => undefined)
      }
      bytes += taken
      if (bytes >= maxBytes || segments.length >= MAX_FILES_PER_BATCH) {
        this.leftover = candidates.slice(i + 1)
        break
      }
    }
    this.ahead.clear()
    if (segments.length === 0) {
      // Without a watcher "nothing new" must come from a look at the whole folder.
      if (!this.watcher && !this.scannedAll) {
        this.dirty.clear()
        this.leftover = []
        return this.poll(maxBytes)
      }
      return null
    }
    // The bookkeeping that waited for a batch goes with this one.
    const planned = new Set(offsets.map((o) => o.key))
    for (const path of this.pendingWrite) {
      const s = this.files.get(path)
      if (planned.has(path) || !s?.id) continue
      offsets.push({ sourceKind: FILE_SOURCE_KIND, key: path, offset: BigInt(s.offset), identity: encodeIdentity(s.id) })
      extras.writes.push(path)
    }
    for (const path of this.pendingForget) if (!planned.has(path)) extras.forgets.push(path)
    extras.events = [...this.pendingEvents]
    const plan: PlannedBatch = {
      segments,
      offsets,
      bytes,
      newestInputAt: new Date(newest),
      ...(extras.forgets.length ? { forget: extras.forgets.map((key) => ({ sourceKind: FILE_SOURCE_KIND, key })) } : {}),
      ...(extras.events.length ? { events: [...extras.events] } : {})
    }
    this.extras.set(plan, extras)
    return plan
  }

  /**
   * What to read of one file from its offset: complete lines up to the batch's room, or — when
   * the line at the offset is longer than that room — that line alone: read by the lake when it
   * is within MAX_LINE_BYTES, else only its first bytes, with the reason, for quarantine.
   * null: nothing complete to read yet.
   */
  private async planFile(
    s: FileState,
    fh: InputFile,
    st: FileStat,
    maxBytes: number,
    taken: number
  ): Promise<{ segment: Segment; end: number } | null> {
    const start = s.offset
    const limit = taken === 0 || start > 0 ? Math.min(st.size, start + Math.max(maxBytes - taken, MIN_WINDOW)) : st.size
    const known = this.noNewline.get(s.path)
    const from = known && known.start === start ? Math.max(start, known.upTo) : start
    const end = from < limit ? await lastLineEnd(fh, from, limit) : -1
    const file = (e: number): { segment: FileSegment; end: number } => ({
      segment: { type: 'file', stream: s.stream, path: s.path, start, end: e },
      end: e
    })
    if (end > start) return file(end)
    const scanned = Math.max(from, limit)
    this.noNewline.set(s.path, { start, upTo: scanned })
    // the whole rest is one line still being written, not yet known to be too long
    if (scanned >= st.size && st.size - start <= MAX_LINE_BYTES) return null
    // The line at `start` does not fit this batch's room. In a batch of its own it gets all the
    // room there is; a line over the limit of the input contract is never read into memory.
    if (taken > 0) {
      this.dirty.add(s.path)
      return null
    }
    const nl = await firstNewline(fh, scanned, st.size)
    if (nl < 0) {
      this.noNewline.set(s.path, { start, upTo: st.size })
      return null
    }
    const crlf = nl > start && (await readAt(fh, nl - 1, 1))[0] === 13
    const length = nl - start - (crlf ? 1 : 0)
    // within the input contract's limit: a valid line, only longer than the batch size; the lake reads it
    if (length <= MAX_LINE_BYTES) return file(nl + 1)
    const segment: LinesSegment = { type: 'lines', stream: s.stream, source: s.path, lines: [await longLine(fh, start, length)] }
    return { segment, end: nl + 1 }
  }

  async afterCommit(batch: PlannedBatch): Promise<void> {
    const extras = this.extras.get(batch)
    this.extras.delete(batch)
    for (const o of batch.offsets) {
      if (o.sourceKind !== FILE_SOURCE_KIND) continue
      this.pendingForget.delete(o.key)
      const s = this.files.get(o.key)
      if (!s) continue
      const id = extras?.ids.get(o.key)
      if (id) {
        if (s.id && sameInode(s.id, id) && this.byInode.get(inodeKey(id)) === s) {
          // the same file, grown: only its fingerprints change (100,000 files: no map churn)
          s.id = id
          this.noNewline.delete(s.path)
        } else {
          this.untrack(s)
          s.id = id
          this.track(s)
        }
        s.verified = extras?.verified.get(o.key) ?? null
      }
      s.offset = Number(o.offset)
      this.pendingWrite.delete(o.key)
    }
    for (const path of extras?.forgets ?? []) this.pendingForget.delete(path)
    if (extras?.events.length) this.pendingEvents = this.pendingEvents.filter((e) => !extras.events.includes(e))
    if (!this.retention) return
    for (const o of batch.offsets) {
      const s = this.files.get(o.key)
      if (s && (await this.retention.removeIfIngested(o.key, Number(o.offset)))) this.forget(s)
    }
  }

  async close(): Promise<void> {
    await this.watcher?.close()
    this.watcher = null
    this.listeners.clear()
  }
}
