import { mkdir, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { Stream } from './source'

// What the built-in generator wrote into an input folder, and the one rule by which StreamDesk
// ever removes input: a file is removed only when the generator wrote it (its name pattern AND a
// record made before the file appeared, with the same size and mtime) and the lake holds all of
// it (committed offset == size). Anything else in the folder — a user's file, even one named like
// the generator's — is only read.
//
// The record is one small file per generated file, <input>/.streamdesk-generator/<stream>/<name>.written,
// outside orders/ and customers/ (which the folder source reads). One file per entry instead of a
// shared ledger: the generator (its own thread or process) only creates records and retention only
// removes them, so no file is ever rewritten by two writers, and the record shrinks with the folder.
// Crash safety comes from the order of steps:
//   generator: write .name.tmp → write the record → rename to name
//   retention: remove name → remove the record
// A crash can leave a record without a file (pruned later) or a file without a record (kept for
// good), never a record that makes a file the generator did not write look like one it did.

export const GENERATED_DIR = '.streamdesk-generator'
const RECORD_SUFFIX = '.written'
const STREAMS: Stream[] = ['customers', 'orders']

/** File names FileSink gives: <stream>-<utc stamp>-<seq>-<tag>.jsonl, in the folder of that stream. */
const NAME = /^(orders|customers)-\d{8}T\d{9}Z-\d{6,}-[0-9A-Za-z]+\.jsonl$/

export function isGeneratedName(stream: Stream, name: string): boolean {
  const m = NAME.exec(name)
  return !!m && m[1] === stream
}

export interface GeneratedRecord {
  name: string
  size: number
  mtimeMs: number
}

export function recordPath(inputDir: string, stream: Stream, name: string): string {
  return join(inputDir, GENERATED_DIR, stream, name + RECORD_SUFFIX)
}

/** Creates the record folders (FileSink.open). */
export async function prepareRecords(inputDir: string): Promise<void> {
  await Promise.all(STREAMS.map((s) => mkdir(join(inputDir, GENERATED_DIR, s), { recursive: true })))
}

/** Records a complete file still under its temp name; call before renaming it into place. */
export async function writeRecord(inputDir: string, stream: Stream, rec: GeneratedRecord): Promise<void> {
  await writeFile(recordPath(inputDir, stream, rec.name), JSON.stringify(rec) + '\n')
}

export async function removeRecord(inputDir: string, stream: Stream, name: string): Promise<void> {
  await rm(recordPath(inputDir, stream, name), { force: true })
}

/** The record of `name`, or null when there is none or it is torn (a torn record never matches). */
async function readRecord(inputDir: string, stream: Stream, name: string): Promise<GeneratedRecord | null> {
  try {
    const rec = JSON.parse(await readFile(recordPath(inputDir, stream, name), 'utf8')) as Partial<GeneratedRecord>
    if (rec.name !== name || !Number.isSafeInteger(rec.size) || typeof rec.mtimeMs !== 'number') return null
    return rec as GeneratedRecord
  } catch {
    return null
  }
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false
  )

/** Retention for one input folder: removes the generator's files once the lake holds them. */
export class GeneratedFiles {
  readonly inputDir: string

  constructor(inputDir: string) {
    this.inputDir = resolve(inputDir)
  }

  /**
   * Removes `path` when the generator wrote it and `committed` (the lake's offset for it) covers
   * the whole file. Returns whether it was removed; any doubt or error keeps the file.
   */
  async removeIfIngested(path: string, committed: number): Promise<boolean> {
    const name = basename(path)
    const stream = STREAMS.find((s) => dirname(path) === join(this.inputDir, s))
    if (!stream || !isGeneratedName(stream, name)) return false
    const rec = await readRecord(this.inputDir, stream, name)
    if (!rec) return false
    try {
      const st = await stat(path)
      if (!st.isFile() || st.size !== rec.size || st.mtimeMs !== rec.mtimeMs || committed !== st.size) return false
      await unlink(path)
    } catch {
      return false
    }
    await removeRecord(this.inputDir, stream, name).catch(() => undefined)
    return true
  }

  /**
   * Goes through every record: removes files the lake fully holds (also those written by an
   * earlier run), and drops records whose file is gone (a crash between the two removals, or a
   * file someone else removed). Returns the paths removed.
   */
  async sweep(committed: ReadonlyMap<string, number>): Promise<string[]> {
    const removed: string[] = []
    for (const stream of STREAMS) {
      let names: string[]
      try {
        names = await readdir(join(this.inputDir, GENERATED_DIR, stream))
      } catch {
        continue
      }
      for (const entry of names) {
        if (!entry.endsWith(RECORD_SUFFIX)) continue
        const name = entry.slice(0, -RECORD_SUFFIX.length)
        const path = join(this.inputDir, stream, name)
        // The temp file first: a record is written while its temp file exists, and the rename
        // replaces one by the other, so "neither exists" cannot be a file in the middle of its rename.
        const writing = await exists(join(this.inputDir, stream, `.${name}.tmp`))
        if (!writing && !(await exists(path))) {
          await removeRecord(this.inputDir, stream, name).catch(() => undefined)
          continue
        }
        const offset = committed.get(path)
        if (offset !== undefined && (await this.removeIfIngested(path, offset))) removed.push(path)
      }
    }
    return removed
  }
}
