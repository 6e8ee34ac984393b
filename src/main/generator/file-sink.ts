import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { EventBatch, EventSink } from './sink'
import { fileStamp } from './time'

// Writes each batch as NDJSON files under <dir>/customers and <dir>/orders. A file appears
// atomically: it is written under a hidden temp name (".name.tmp", which the pipeline ignores)
// in the same folder and then renamed. The customers file of a batch is renamed first.

export interface FileSinkOptions {
  /** Output root; orders/ and customers/ are created inside it. */
  dir: string
  /** Clock for file names (epoch ms). Default Date.now. */
  now?: () => number
  /** Distinguishes concurrent writers in one folder; default random. */
  tag?: string
}

export class FileSink implements EventSink {
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
    this.ordersDir = join(options.dir, 'orders')
    this.customersDir = join(options.dir, 'customers')
    this.now = options.now ?? Date.now
    this.tag = options.tag ?? randomBytes(3).toString('hex')
  }

  /** Creates the output folders (write() does it on first use too). */
  open(): Promise<void> {
    this.ready ??= Promise.all([
      mkdir(this.ordersDir, { recursive: true }),
      mkdir(this.customersDir, { recursive: true })
    ]).then(() => undefined)
    return this.ready
  }

  async write(batch: EventBatch): Promise<void> {
    if (this.closed) throw new Error('FileSink is closed')
    if (batch.orders.length === 0 && batch.customers.length === 0) return
    await this.open()
    const seq = String(++this.seq).padStart(6, '0')
    const base = `${fileStamp(this.now())}-${seq}-${this.tag}.jsonl`
    if (batch.customers.length > 0) await this.publish(this.customersDir, `customers-${base}`, toNdjson(batch.customers))
    if (batch.orders.length > 0) await this.publish(this.ordersDir, `orders-${base}`, toNdjson(batch.orders))
  }

  private async publish(dir: string, name: string, data: Uint8Array): Promise<void> {
    const tmp = join(dir, `.${name}.tmp`)
    try {
      await writeFile(tmp, data)
      await rename(tmp, join(dir, name))
      this.files++
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined)
      throw err
    }
  }

  async close(): Promise<void> {
    this.closed = true
  }
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
