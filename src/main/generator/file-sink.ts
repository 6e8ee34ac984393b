import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { link, mkdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { prepareRecords, removeRecord, writeRecord } from '../sources/generated-files'
import type { Stream } from '../sources/source'
import type { EventBatch, EventSink } from './sink'
import { fileStamp } from './time'

// Writes each batch as NDJSON files under <dir>/customers and <dir>/orders. A file appears
// atomically: it is written under a hidden temp name (".name.tmp", which the pipeline ignores)
// in the same folder and then moved into place, never over an existing file. The customers file of a batch is renamed first.
// Before the rename, the file is recorded under <dir>/.streamdesk-generator (sources/generated-files):
// that record is what lets retention remove the generator's files, and only those, once ingested.

export interface FileSinkOptions {
  /** Output root; orders/ and customers/ are created inside it. */
  dir: string
  /** Clock for file names (epoch ms). Default Date.now. */
  now?: () => number
  /**
   * Distinguishes concurrent writers in one folder; default random. Letters and digits only, or
   * retention does not recognise the files as the generator's (they are then kept).
   */
  tag?: string
}

export class FileSink implements EventSink {
  readonly dir: string
  readonly ordersDir: string
  readonly customersDir: string
  private readonly now: () => number
  private readonly tag: string
  private seq = 0
  private ready: Promise<void> | null = null
  private closed = false
  /** Files published so far (orders and customers). */
  files = 0

  constructor(options: FileSinkOptions) {
    this.dir = resolve(options.dir)
    this.ordersDir = join(this.dir, 'orders')
    this.customersDir = join(this.dir, 'customers')
    this.now = options.now ?? Date.now
    this.tag = options.tag ?? randomBytes(3).toString('hex')
  }

  /** Creates the output folders (write() does it on first use too). */
  open(): Promise<void> {
    this.ready ??= Promise.all([
      mkdir(this.ordersDir, { recursive: true }),
      mkdir(this.customersDir, { recursive: true }),
      prepareRecords(this.dir)
    ]).then(() => undefined)
    return this.ready
  }

  async write(batch: EventBatch): Promise<void> {
    if (this.closed) throw new Error('FileSink is closed')
    if (batch.orders.length === 0 && batch.customers.length === 0) return
    await this.open()
    const seq = String(++this.seq).padStart(6, '0')
    const base = `${fileStamp(this.now())}-${seq}-${this.tag}.jsonl`
    if (batch.customers.length > 0) await this.publish('customers', `customers-${base}`, toNdjson(batch.customers))
    if (batch.orders.length > 0) await this.publish('orders', `orders-${base}`, toNdjson(batch.orders))
  }

  private async publish(stream: Stream, name: string, data: Uint8Array): Promise<void> {
    const dir = stream === 'orders' ? this.ordersDir : this.customersDir
    const tmp = join(dir, `.${name}.tmp`)
    let recorded = false
    try {
      await writeFile(tmp, data)
      // size and mtime as the file will have them after the rename (a rename keeps both)
      const st = await stat(tmp)
      await writeRecord(this.dir, stream, { name, size: st.size, mtimeMs: st.mtimeMs })
      recorded = true
      await placeWithoutReplacing(tmp, join(dir, name))
      this.files++
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined)
      if (recorded) await removeRecord(this.dir, stream, name).catch(() => undefined)
      throw err
    }
  }

  async close(): Promise<void> {
    this.closed = true
  }
}

/**
 * Moves `tmp` to `dest` unless something is there already: a rename would silently replace a
 * file that is not the generator's. A hard link fails instead; where the file system has no hard
 * links (FAT, some network shares) a check before the rename has to do.
 */
async function placeWithoutReplacing(tmp: string, dest: string): Promise<void> {
  try {
    await link(tmp, dest)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' || existsSync(dest)) {
      throw new Error(`${dest} exists already; the generator never replaces a file`)
    }
    await rename(tmp, dest)
    return
  }
  await unlink(tmp)
}

/** Newline-delimited JSON, one record per line, encoded as UTF-8. */
export function toNdjson(records: readonly unknown[]): Buffer {
  // Encoding line by line into one growing buffer beats building one big string (no rope
  // flattening, no second copy) and keeps the bytes off the JS heap.
  let buf = Buffer.allocUnsafe(Math.max(4096, records.length * 600))
  let at = 0
  for (const r of records) {
    const line = JSON.stringify(r)
    const worst = line.length * 3 + 1
    if (at + worst > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, at + worst))
      buf.copy(bigger, 0, 0, at)
      buf = bigger
    }
    at += buf.write(line, at)
    buf[at++] = 0x0a
  }
  return buf.subarray(0, at)
}
