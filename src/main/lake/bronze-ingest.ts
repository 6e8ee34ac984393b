import { statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api'
import type { FileSegment, InputLine, Stream } from '../sources/source'
import { sqlString } from './lake'

// Bronze takes every input line as read. Large whole files are read by DuckDB itself (read_csv
// with a delimiter and quote that never split a line), so their bytes never pass through
// JavaScript; byte offsets come from a streaming running sum of line lengths. Everything else —
// small files (a read_csv call costs more than the file), appended tails, a file DuckDB did not
// read as planned, Kafka messages — reaches bronze through JavaScript and an appender.

const MAX_READ_LINE = 8 * 1024 * 1024

const bronzeTable = (stream: Stream) => (stream === 'orders' ? 'bronze_orders' : 'bronze_customers')

function readLinesSql(path: string): string {
  return `read_csv(${sqlString(path)}, columns = {'line': 'VARCHAR'}, delim = chr(0), quote = '', escape = '',
    header = false, auto_detect = false, new_line = '\\n', max_line_size = ${MAX_READ_LINE}, strict_mode = false)`
}

/** A whole file at least this large is read by DuckDB; smaller ones and tails in JavaScript. */
export const DUCKDB_READ_MIN_BYTES = 1024 * 1024
/** Files per read_csv statement: one UNION of thousands of scans costs more than several. */
export const FILES_PER_STATEMENT = 32

/** Whether DuckDB should read `seg` itself: the whole of a large file, with a path it reads literally. */
export function readByDuckDb(seg: FileSegment): boolean {
  if (seg.start !== 0 || seg.end < DUCKDB_READ_MIN_BYTES || /[*?[\]{}]/.test(seg.path)) return false
  // DuckDB reads to the end of the file, so only a file that is exactly the segment qualifies
  try {
    return statSync(seg.path).size === seg.end
  } catch {
    return false
  }
}

/**
 * Inserts whole files DuckDB reads itself, of one stream, in one statement (callers pass at most
 * FILES_PER_STATEMENT). Byte offsets come from a running sum over every line, blank ones
 * included (they count as a newline each); blank lines are then left out.
 */
export async function insertFileSegments(conn: DuckDBConnection, batchId: number, stream: Stream, segments: FileSegment[]): Promise<void> {
  if (segments.length === 0) return
  const selects = segments.map(
    (s) => `SELECT ${sqlString(s.path)} AS source,
        sum(coalesce(strlen(line), 0) + 1) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - coalesce(strlen(line), 0) - 1 AS byte_offset,
        line
      FROM ${readLinesSql(s.path)}`
  )
  await conn.run(`INSERT INTO ${bronzeTable(stream)} (batch_id, ingested_at, source, byte_offset, raw)
    SELECT ${batchId}, now(), source, byte_offset, line FROM (${selects.join('\nUNION ALL\n')})
    WHERE line IS NOT NULL AND (NOT regexp_full_match(left(line, 1), '[ \t\r]') OR trim(line, ' \t\r') <> '')`)
}

const BLANK = new Set([10, 13, 32, 9])
const MAX_TRAILING_CHECK = 64 * 1024

/** True when bytes [from, to) of the file are only newlines and blanks. */
async function onlyBlanks(path: string, from: number, to: number): Promise<boolean> {
  if (to - from > MAX_TRAILING_CHECK) return false
  if (to === from) return true
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(to - from)
    const { bytesRead } = await fh.read(buf, 0, buf.length, from)
    return bytesRead === buf.length && buf.every((b) => BLANK.has(b))
  } finally {
    await fh.close()
  }
}

/**
 * Returns the segments DuckDB did not read exactly as planned: the last record must end at or
 * before the planned end with only blank bytes after it (a file that grew, changed, or holds
 * bytes read_csv splits differently fails this and is re-read in JavaScript).
 */
export async function verifyFileSegments(
  conn: DuckDBConnection,
  batchId: number,
  stream: Stream,
  segments: FileSegment[]
): Promise<FileSegment[]> {
  if (segments.length === 0) return []
  const reader = await conn.runAndReadAll(`SELECT source, max(byte_offset + strlen(raw) + 1)::BIGINT AS end_offset
    FROM ${bronzeTable(stream)} WHERE batch_id = ${batchId} AND kafka_partition IS NULL GROUP BY source`)
  const ends = new Map<string, number>()
  for (const [source, end] of reader.getRows()) ends.set(String(source), Number(end))
  const bad: FileSegment[] = []
  for (const s of segments) {
    const lastEnd = ends.get(s.path) ?? 0
    if (lastEnd > s.end || !(await onlyBlanks(s.path, lastEnd, s.end))) bad.push(s)
  }
  return bad
}

/**
 * Collects the lines that go through JavaScript in one batch (file segments read here, appended
 * tails, Kafka messages) in a temp table on the batch's connection, through an appender: the
 * rows are part of the batch's transaction, and an appender is several times faster than one
 * big JSON parameter (which DuckDB parses on one thread). `finish` moves them into bronze, and
 * lines already known to be bad into `_known_errors`.
 */
export class LinesWriter {
  private app: DuckDBAppender | null = null
  private rows = 0

  private constructor(
    private readonly conn: DuckDBConnection,
    private readonly stream: Stream
  ) {}

  static async open(conn: DuckDBConnection, stream: Stream): Promise<LinesWriter> {
    await conn.run(`CREATE OR REPLACE TEMP TABLE _lines (source VARCHAR, byte_offset BIGINT, kafka_partition INTEGER,
      kafka_offset BIGINT, kafka_key VARCHAR, kafka_timestamp VARCHAR, raw VARCHAR, error VARCHAR)`)
    const w = new LinesWriter(conn, stream)
    w.app = await conn.createAppender('_lines', 'main', 'temp')
    return w
  }

  add(source: string, lines: readonly InputLine[]): void {
    const app = this.app!
    const text = (v: string | null | undefined) => (v === null || v === undefined ? app.appendNull() : app.appendVarchar(v))
    for (const l of lines) {
      app.appendVarchar(source)
      if (l.byteOffset === undefined) app.appendNull()
      else app.appendBigInt(BigInt(l.byteOffset))
      if (l.kafka) {
        app.appendInteger(l.kafka.partition)
        app.appendBigInt(BigInt(l.kafka.offset))
        text(l.kafka.key)
        text(l.kafka.timestamp)
      } else {
        app.appendNull()
        app.appendNull()
        app.appendNull()
        app.appendNull()
      }
      text(l.raw)
      text(l.error)
      app.endRow()
    }
    this.rows += lines.length
  }

  /** Moves the collected lines into bronze; returns how many there were. */
  async finish(batchId: number): Promise<number> {
    const app = this.app
    this.app = null
    if (app) {
      try {
        app.flushSync()
      } finally {
        app.closeSync()
      }
    }
    if (this.rows > 0) {
      await this.conn.run(`INSERT INTO ${bronzeTable(this.stream)} (batch_id, ingested_at, source, byte_offset, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, raw)
        SELECT ${batchId}, now(), source, byte_offset, kafka_partition, kafka_offset, kafka_key, try_cast(kafka_timestamp AS TIMESTAMPTZ), raw FROM _lines`)
      await this.conn.run(`INSERT INTO _known_errors SELECT '${this.stream === 'orders' ? 'order' : 'customer'}', source, byte_offset, kafka_partition, kafka_offset, kafka_key, try_cast(kafka_timestamp AS TIMESTAMPTZ), error, raw FROM _lines WHERE error IS NOT NULL`)
    }
    await this.conn.run(`DROP TABLE _lines`)
    return this.rows
  }

  /** Closes the appender without writing (the batch is being rolled back). */
  abandon(): void {
    try {
      this.app?.closeSync()
    } catch {
      /* the transaction is rolled back anyway */
    }
    this.app = null
  }
}
