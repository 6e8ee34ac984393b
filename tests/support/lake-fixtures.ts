// Helpers for integration tests of the streaming engine: temp folders, input lines written to
// real files, the pipeline run for real, and the lake read back with plain SQL. No mocks.

import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { DuckDBInstance } from '@duckdb/node-api'
import { runFilePipeline, type PipelineFlags } from '../../src/main/cli/commands/pipeline'
import { lakeFile } from '../../src/main/lake/lake'

export const REPO_ROOT = resolve(import.meta.dirname, '../..')

// ---------------------------------------------------------------------------------------------
// temp folders

const tempDirs: string[] = []

/** A fresh temp folder, removed by `cleanupTempDirs()` (call it in afterAll/afterEach). */
export function makeTempDir(prefix = 'streamdesk-it-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

export function cleanupTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

export interface Workspace {
  root: string
  input: string
  lake: string
  ordersDir: string
  customersDir: string
  /** Absolute path of an orders file (as the engine records it in `source`). */
  orders(name: string): string
  customers(name: string): string
}

/** input/{orders,customers} and an (absent) lake folder in a new temp dir. */
export function makeWorkspace(): Workspace {
  const root = makeTempDir()
  const input = join(root, 'input')
  const ordersDir = join(input, 'orders')
  const customersDir = join(input, 'customers')
  mkdirSync(ordersDir, { recursive: true })
  mkdirSync(customersDir, { recursive: true })
  return {
    root,
    input,
    lake: join(root, 'lake'),
    ordersDir,
    customersDir,
    orders: (name) => join(ordersDir, name),
    customers: (name) => join(customersDir, name)
  }
}

/** A workspace whose lake is one an earlier version wrote: tests/fixtures/<name>, gunzipped (tests/fixtures/README.md). */
export function lakeFromFixture(name: string): Workspace {
  const ws = makeWorkspace()
  mkdirSync(ws.lake)
  writeFileSync(join(ws.lake, 'lake.duckdb'), gunzipSync(readFileSync(join(REPO_ROOT, 'tests/fixtures', name))))
  return ws
}

// ---------------------------------------------------------------------------------------------
// input events

export interface Item {
  product_id: string
  product_name: string
  category: string
  quantity: number
  unit_price: number
}

export type OrderLine = Record<string, unknown>

let orderSeq = 0

/** ISO timestamp `ms` milliseconds after `base` (default 2024-03-01T12:00:00Z), with Z offset. */
export function ts(ms = 0, base = '2024-03-01T12:00:00.000Z'): string {
  return new Date(Date.parse(base) + ms).toISOString()
}

export const MIN = 60_000
export const HOUR = 60 * MIN

/**
 * A valid order. `total_amount` defaults to the items' sum; passing `total_amount` alone makes
 * one item priced at exactly that total (so the items check passes).
 */
export function order(over: OrderLine = {}): OrderLine {
  orderSeq++
  const base: OrderLine = {
    order_id: `o-${orderSeq}`,
    customer_id: `c-${orderSeq}`,
    order_ts: ts(0),
    status: 'paid',
    // the default reporting currency: amounts count 1:1 in windows and fraud rules
    currency: 'USD',
    total_amount: 0,
    items: [],
    payment_method: 'card',
    shipping_country: 'DE',
    billing_country: 'DE',
    channel: 'web'
  }
  const o = { ...base, ...over }
  if (!('items' in over)) {
    const amount = typeof over.total_amount === 'number' ? over.total_amount : 25
    o.items = [{ product_id: 'p-1', product_name: 'Widget', category: 'Home', quantity: 1, unit_price: amount }]
  }
  if (!('total_amount' in over)) {
    const items = o.items as Item[]
    o.total_amount = Math.round(items.reduce((s, i) => s + i.quantity * i.unit_price, 0) * 100) / 100
  }
  return o
}

export function customer(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customer_id: 'c-1',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    signup_ts: ts(-365 * 24 * HOUR),
    country: 'DE',
    segment: 'regular',
    ...over
  }
}

export type Line = string | Record<string, unknown> | Buffer

function lineBytes(l: Line): Buffer {
  if (Buffer.isBuffer(l)) return l
  return Buffer.from(typeof l === 'string' ? l : JSON.stringify(l), 'utf8')
}

/** NDJSON bytes: every line followed by `eol` (also the last one unless `noFinalNewline`). */
export function ndjson(lines: Line[], opts: { eol?: string; noFinalNewline?: boolean } = {}): Buffer {
  const eol = Buffer.from(opts.eol ?? '\n')
  const parts: Buffer[] = []
  lines.forEach((l, i) => {
    parts.push(lineBytes(l))
    if (i < lines.length - 1 || !opts.noFinalNewline) parts.push(eol)
  })
  return Buffer.concat(parts)
}

export function writeLines(path: string, lines: Line[], opts: { eol?: string; noFinalNewline?: boolean } = {}): string {
  writeFileSync(path, ndjson(lines, opts))
  return path
}

export function appendRaw(path: string, data: string | Buffer): void {
  appendFileSync(path, data)
}

// ---------------------------------------------------------------------------------------------
// running the engine

export async function runPipeline(
  ws: Workspace,
  flags: Partial<PipelineFlags> = {}
): Promise<{ batches: number }> {
  return runFilePipeline({
    mode: 'file',
    inputPath: ws.input,
    lake: ws.lake,
    trigger: 50,
    untilIdle: true,
    quiet: true,
    ...flags
  })
}

// ---------------------------------------------------------------------------------------------
// reading the lake

export type Row = Record<string, unknown>

function normalize(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v)
  if (Array.isArray(v)) return v.map(normalize)
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]))
  }
  return v
}

/**
 * Opens the lake file read-only, runs `sql`, closes it again (so the next pipeline run can open
 * it for writing). BIGINTs come back as numbers; cast DECIMALs/TIMESTAMPTZs in SQL as needed.
 */
export async function query(lakeDir: string, sql: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(lakeFile(lakeDir), { access_mode: 'READ_ONLY' })
  const conn = await instance.connect()
  try {
    const r = await conn.runAndReadAll(sql)
    return r.getRowObjectsJS().map((row) => normalize(row) as Row)
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}

export async function scalar<T = unknown>(lakeDir: string, sql: string): Promise<T> {
  const rows = await query(lakeDir, sql)
  return Object.values(rows[0] ?? {})[0] as T
}

/** Several queries over one read-only open. */
export async function queries<K extends string>(lakeDir: string, sqls: Record<K, string>): Promise<Record<K, Row[]>> {
  const instance = await DuckDBInstance.create(lakeFile(lakeDir), { access_mode: 'READ_ONLY' })
  const conn = await instance.connect()
  try {
    const out = {} as Record<K, Row[]>
    for (const [k, sql] of Object.entries(sqls) as [K, string][]) {
      const r = await conn.runAndReadAll(sql)
      out[k] = r.getRowObjectsJS().map((row) => normalize(row) as Row)
    }
    return out
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}

export const sq = (s: string): string => `'${s.replace(/'/g, "''")}'`

/** The line of `file` starting at byte `offset` (without its \n), as raw bytes. */
export function lineAt(file: string, offset: number, content?: Buffer): Buffer {
  const buf = content ?? readFileSync(file)
  let end = buf.indexOf(10, offset)
  if (end < 0) end = buf.length
  return buf.subarray(offset, end)
}

/** Non-blank lines of a buffer with their byte offsets (a trailing \r is not part of the line). */
export function linesWithOffsets(buf: Buffer): { offset: number; bytes: Buffer }[] {
  const out: { offset: number; bytes: Buffer }[] = []
  let pos = 0
  while (pos < buf.length) {
    let nl = buf.indexOf(10, pos)
    if (nl < 0) break // incomplete last line: not ingested yet
    let end = nl
    if (end > pos && buf[end - 1] === 13) end--
    if (end > pos) out.push({ offset: pos, bytes: buf.subarray(pos, end) })
    pos = nl + 1
  }
  return out
}
