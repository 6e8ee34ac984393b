import { existsSync, statSync } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { basename, join, resolve, sep } from 'node:path'
import { isUtf8 } from 'node:buffer'
import { watch, type FSWatcher } from 'chokidar'
import { MAX_LINE_BYTES } from '../../shared/events'
import { GeneratedFiles } from './generated-files'
import { InputFolderError } from './input-folder'
import type { FileSegment, InputLine, LinesSegment, PlannedBatch, Segment, Source, Stream } from './source'

// Watches <input>/orders and <input>/customers. Progress is a byte offset per file, always just
// after a newline, so a line still being written is left for a later batch. The offsets this
// class holds are only a cache of the lake's `source_offsets`: the lake is the record.

export const FILE_SOURCE_KIND = 'file'
const STREAMS: Stream[] = ['customers', 'orders']
const TAIL_CHUNK = 64 * 1024
export { InputFolderError }

export function isInputFile(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('.tmp') && /\.(jsonl|json|ndjson)$/i.test(name)
}

interface Candidate {
  stream: Stream
  path: string
  size: number
  mtimeMs: number
  start: number
}

/** Position just after the last newline in [start, size), or -1 when there is none. */
async function lastCompleteLineEnd(path: string, start: number, size: number): Promise<number> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(TAIL_CHUNK)
    let hi = size
    while (hi > start) {
      const lo = Math.max(start, hi - TAIL_CHUNK)
      const { bytesRead } = await fh.read(buf, 0, hi - lo, lo)
      const nl = buf.subarray(0, bytesRead).lastIndexOf(10)
      if (nl >= 0) return lo + nl + 1
      hi = lo
    }
    return -1
  } finally {
    await fh.close()
  }
}

async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(end - start)
    let off = 0
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off)
      if (bytesRead === 0) throw new Error(`${path} shrank while being read`)
      off += bytesRead
    }
    return buf
  } finally {
    await fh.close()
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function isBlank(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 32 && buf[i] !== 9 && buf[i] !== 13) return false
  return true
}

/** Splits complete lines of a byte range into input lines with exact byte offsets. */
export function splitLines(buf: Buffer, baseOffset: number): InputLine[] {
  const lines: InputLine[] = []
  const allUtf8 = isUtf8(buf)
  let pos = 0
  while (pos < buf.length) {
    let nl = buf.indexOf(10, pos)
    if (nl < 0) nl = buf.length
    let end = nl
    if (end > pos && buf[end - 1] === 13) end--
    if (end > pos && !isBlank(buf, pos, end)) {
      const bytes = buf.subarray(pos, end)
      const line: InputLine = { raw: null, byteOffset: baseOffset + pos }
      if (allUtf8 || isUtf8(bytes)) line.raw = allUtf8 ? bytes.toString('utf8') : strictUtf8.decode(bytes)
      else {
        line.raw = bytes.toString('utf8')
        line.error = 'line is not valid UTF-8 (invalid bytes shown as U+FFFD)'
      }
      if (!line.error && bytes.length > MAX_LINE_BYTES) line.error = `line over 1 MiB (${bytes.length} bytes)`
      lines.push(line)
    }
    pos = nl + 1
  }
  return lines
}

export class FolderSource implements Source {
  readonly inputDir: string
  readonly description
  private offsets = new Map<string, number>()
  private watcher: FSWatcher | null = null
  private listeners = new Set<() => void>()
  private warnings: string[] = []
  /** Files the watcher reported since the last poll; only these are stat'ed between full scans. */
  private dirty = new Set<string>()
  private lastFullScan = 0
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

  async open(committed: ReadonlyMap<string, bigint>): Promise<void> {
    if (!existsSync(this.inputDir) || !statSync(this.inputDir).isDirectory()) {
      throw new InputFolderError(
        `input folder ${this.inputDir} does not exist (expected ${join(this.inputDir, 'orders')} and ${join(this.inputDir, 'customers')})`
      )
    }
    for (const [k, v] of committed) this.offsets.set(k, Number(v))
  }

  private async sweepGenerated(): Promise<void> {
    if (!this.retention) return
    for (const path of await this.retention.sweep(this.offsets).catch(() => [])) this.offsets.delete(path)
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

  onInput(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  status(): string | null {
    return this.warnings.at(-1) ?? null
  }

  private async candidates(): Promise<Candidate[]> {
    const full = !this.watcher || Date.now() - this.lastFullScan >= this.fullScanEveryMs
    const paths: { stream: Stream; path: string }[] = []
    if (full) {
      this.lastFullScan = Date.now()
      // The first poll is a full scan: it removes the generator's files an earlier run left that
      // the lake now holds; later ones retry a removal that failed after its commit.
      await this.sweepGenerated()
      const present = new Set<string>()
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
          const path = join(dir, name)
          present.add(path)
          paths.push({ stream, path })
        }
      }
      // Forget offsets of files that are gone so this map tracks the folder, not all history.
      for (const key of this.offsets.keys()) if (!present.has(key)) this.offsets.delete(key)
    } else {
      for (const path of this.dirty) {
        const stream = STREAMS.find((s) => path.startsWith(join(this.inputDir, s) + sep))
        if (stream && isInputFile(basename(path))) paths.push({ stream, path })
      }
    }
    this.dirty.clear()
    const out: Candidate[] = []
    for (const { stream, path } of paths) {
      let st
      try {
        st = await stat(path)
      } catch {
        continue
      }
      if (!st.isFile()) continue
      const start = this.offsets.get(path) ?? 0
      if (st.size < start) {
        const w = `${path} is shorter (${st.size} bytes) than what was already ingested (${start} bytes); it is ignored`
        if (!this.warnings.includes(w)) this.warnings.push(w)
        continue
      }
      if (st.size > start) out.push({ stream, path, size: st.size, mtimeMs: st.mtimeMs, start })
    }
    out.sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path))
    return out
  }

  async poll(maxBytes: number): Promise<PlannedBatch | null> {
    const segments: Segment[] = []
    const offsets: PlannedBatch['offsets'] = []
    let bytes = 0
    let newest = 0
    const candidates = await this.candidates()
    for (const [i, c] of candidates.entries()) {
      if (bytes > 0 && bytes + (c.size - c.start) > maxBytes && c.start === 0) {
        for (const rest of candidates.slice(i)) this.dirty.add(rest.path)
        break
      }
      const limit = bytes === 0 || c.start > 0 ? Math.min(c.size, c.start + Math.max(maxBytes - bytes, 64 * 1024)) : c.size
      const end = await lastCompleteLineEnd(c.path, c.start, limit)
      if (end <= c.start) continue
      // DuckDB expands glob characters in paths it reads, so such files are read here instead.
      if (c.start === 0 && end === c.size && !/[*?[\]{}]/.test(c.path)) {
        segments.push({ type: 'file', stream: c.stream, path: c.path, start: 0, end })
      } else {
        segments.push(await this.readLines({ type: 'file', stream: c.stream, path: c.path, start: c.start, end }))
      }
      offsets.push({ sourceKind: FILE_SOURCE_KIND, key: c.path, offset: BigInt(end) })
      bytes += end - c.start
      newest = Math.max(newest, c.mtimeMs)
      // A partly read file (limit reached, or a line still being written) is looked at again.
      if (end < c.size) this.dirty.add(c.path)
      if (bytes >= maxBytes) {
        for (const rest of candidates.slice(i + 1)) this.dirty.add(rest.path)
        break
      }
    }
    if (segments.length === 0) return null
    return { segments, offsets, bytes, newestInputAt: new Date(newest) }
  }

  private async readLines(seg: FileSegment): Promise<LinesSegment> {
    const buf = await readRange(seg.path, seg.start, seg.end)
    return { type: 'lines', stream: seg.stream, source: seg.path, lines: splitLines(buf, seg.start) }
  }

  demoteToLines(segment: FileSegment): Promise<LinesSegment> {
    return this.readLines(segment)
  }

  async afterCommit(batch: PlannedBatch): Promise<void> {
    for (const o of batch.offsets) this.offsets.set(o.key, Number(o.offset))
    if (!this.retention) return
    for (const o of batch.offsets) {
      if (await this.retention.removeIfIngested(o.key, Number(o.offset))) this.offsets.delete(o.key)
    }
  }

  async close(): Promise<void> {
    await this.watcher?.close()
    this.watcher = null
    this.listeners.clear()
  }
}
