import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { inputFileFromBytes, type InputFile, type InputStat } from './input-file'

// Small files the next poll will plan, read while the current batch is being written. With a
// backlog of many small files the engine's thread otherwise alternates: it opens, stats, reads
// and closes 20,000 files (four system calls each), then waits while DuckDB writes them, with a
// core idle both times. A file read ahead is planned as it was when read: as if the poll had
// run a batch earlier. A change since then is what any change after a poll is: the next poll
// finds the file grown, replaced or truncated by its identity (file-identity.ts) and acts on
// it; the bytes planned were the file's. A fresh stat per file to rule that out cost as much
// as the read it saves (two of them per file: ~25 µs each here).

/** Files read between two yields to the event loop: a batch's statements are not kept waiting. */
const FILES_PER_SLICE = 32

interface ReadFile {
  /** only the fields planning reads: a whole BigIntStats is ~18 BigInts, for 20,000 files at a time */
  stat: InputStat
  bytes: Buffer
}

export class ReadAhead {
  private files = new Map<string, ReadFile>()

  /**
   * Reads `paths` (in order, files of at most `maxFileBytes`, until `maxBytes` or `maxFiles`)
   * until the returned function is called; that resolves once reading has stopped.
   */
  start(paths: readonly string[], limits: { maxFileBytes: number; maxBytes: number; maxFiles: number }): () => Promise<void> {
    // what an earlier read ahead left (a poll that failed before using it) is never planned
    this.files.clear()
    let stopped = false
    const reading = (async () => {
      let bytes = 0
      let count = 0
      for (const path of paths) {
        if (stopped || bytes >= limits.maxBytes || count >= limits.maxFiles) break
        if (this.files.has(path)) continue
        const file = readSmallFile(path, limits.maxFileBytes)
        if (!file) continue
        this.files.set(path, file)
        bytes += file.bytes.length
        if (++count % FILES_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    return async () => {
      stopped = true
      await reading
    }
  }

  /** The file at `path` as read ahead, if it was; the entry is used up. */
  take(path: string): InputFile | null {
    const file = this.files.get(path)
    if (!file) return null
    this.files.delete(path)
    return inputFileFromBytes(file.bytes, file.stat)
  }

  /** Forgets what was not used (each poll reads ahead anew for the next). */
  clear(): void {
    this.files.clear()
  }
}

function readSmallFile(path: string, maxFileBytes: number): ReadFile | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  try {
    const full = fstatSync(fd, { bigint: true })
    if (!full.isFile() || full.size > BigInt(maxFileBytes)) return null
    const stat: InputStat = { dev: full.dev, ino: full.ino, size: full.size, mtimeMs: full.mtimeMs }
    const bytes = Buffer.allocUnsafe(Number(stat.size))
    let off = 0
    while (off < bytes.length) {
      const n = readSync(fd, bytes, off, bytes.length - off, off)
      if (n === 0) return null // shrank meanwhile: the poll reads it itself
      off += n
    }
    return { stat, bytes }
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}
