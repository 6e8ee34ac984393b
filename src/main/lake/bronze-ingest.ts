import { statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api'
import type { FileSegment, InputLine, Stream } from '../sources/source'
import { sqlString } from './lake'

// A batch's input lines are first staged in a temp table per stream, `_lines_<stream>`, outside
// the batch's transaction (see batch-writer.ts): every later step reads them from there, where
// DuckDB scans them on all cores, and the transaction only copies them into bronze. Large whole
// files are read by DuckDB itself (read_csv with a delimiter and quote that never split a line),
// so their bytes never pass through JavaScript. Everything else (small files, where a read_csv
// call costs more than the file; appended tails; a file DuckDB did not read as planned; Kafka
// messages) reaches the stage through JavaScript and an appender.

// DuckDB's CSV buffer is 16 × max_line_size by default, per file read at once: 128 MiB each at
// this line size, past the lake's memory limit with a few files in flight.
const MAX_READ_LINE = 8 * 1024 * 1024

/** `files`: a SQL list of paths; `filename` is each path as given. */
function readLinesSql(files: string): string {
  return `read_csv(${files}, filename = true, columns = {'line': 'VARCHAR'}, delim = chr(0), quote = '', escape = '',
    header = false, auto_detect = false, new_line = '\\n', max_line_size = ${MAX_READ_LINE}, buffer_size = ${2 * MAX_READ_LINE}, strict_mode = false)`
}

/**
 * A whole file at least this large is read by DuckDB; smaller ones and tails in JavaScript, where
 * a one-line file costs an open and a read, less than DuckDB's per-file setup.
 */
export const DUCKDB_READ_MIN_BYTES = 64 * 1024
/** Files per read_csv statement (each is held open meanwhile, to check it is still the planned one). */
export const FILES_PER_STATEMENT = 256

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

/** The staged lines of a stream: bronze's columns, plus the reason for a line JavaScript found bad. */
export const stagedLines = (stream: Stream) => `_lines_${stream}`

/**
 * `CREATE OR REPLACE` of a staged table: a temp table, or one in the lake's staging database
 * `stage` (lake.ts), where a batch too small to fill a row group of a temp table is still
 * scanned on every core. Found by its bare name either way (the writer's search path).
 */
export const createStagedTable = (name: string, stage: string | null = null): string =>
  stage ? `CREATE OR REPLACE TABLE ${stage}.main.${name}` : `CREATE OR REPLACE TEMP TABLE ${name}`

/**
 * The staged lines keep a Kafka message's time as microseconds since the epoch: the appender
 * takes a BIGINT natively, a TIMESTAMPTZ only through its generic value path (~1.4 µs a
 * message). `stagedKafkaTimestamp` turns it into bronze's TIMESTAMPTZ.
 *
 * `seg_no` is the line's place in the batch's processing order: its segment (a file, or a Kafka
 * topic's partition), numbered by the batch (batch-writer.ts). It is written with the line, not
 * joined on later: a batch of 20,000 one-line files joined 20,000 lines with 20,000 segments, and
 * DuckDB, seeing two inputs of one size, scanned the single-row-group segment list and hashed the
 * lines, so the parse above that join ran on one core.
 */
export async function createStagedLines(conn: DuckDBConnection, stream: Stream, stage: string | null = null): Promise<void> {
  await conn.run(`${createStagedTable(stagedLines(stream), stage)} (source VARCHAR, byte_offset BIGINT, kafka_partition INTEGER,
    kafka_offset BIGINT, kafka_key VARCHAR, kafka_timestamp_us BIGINT, raw VARCHAR, error VARCHAR, seg_no INTEGER)`)
}

/** A segment's number in the batch's processing order, by source and Kafka partition (-1: a file). */
export type SegmentNumber = (source: string, partition: number) => number

/** A staged line's Kafka timestamp as bronze's TIMESTAMPTZ (`alias`: the staged table's). */
export const stagedKafkaTimestamp = (alias?: string) => `make_timestamptz(${alias ? `${alias}.` : ''}kafka_timestamp_us)`

/**
 * Stages whole files DuckDB reads itself, of one stream (callers pass at most
 * FILES_PER_STATEMENT). Byte offsets are running sums of line lengths within each file, blank
 * lines included (they count as a newline each); blank lines are then left out. The running sum
 * needs the lines in file order: they are first read in order into `_csv`, in parallel (DuckDB
 * keeps the scan's order when told to), and a partitioned window numbers them per file, also in
 * parallel. One streaming window over the lines would run on one thread.
 */
export async function stageFileSegments(conn: DuckDBConnection, stream: Stream, segments: FileSegment[], segNo: SegmentNumber): Promise<void> {
  if (segments.length === 0) return
  await conn.run(`SET preserve_insertion_order = true`)
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE _csv AS SELECT filename AS source, line
      FROM ${readLinesSql(`[${segments.map((s) => sqlString(s.path)).join(', ')}]`)}`)
  } finally {
    await conn.run(`SET preserve_insertion_order = false`)
  }
  // blank = only spaces, tabs and CRs: one anchored regex fails at a line's first byte (a test of
  // the first character OR a trim made DuckDB trim every line: ~0.3 cpu-s per 300k orders)
  // one file (a big one, usually): its number; several: a join with a list as long as the files
  const numbers = () => segments.map((s) => `(${sqlString(s.path)}, ${segNo(s.path, -1)})`).join(', ')
  const [seg, join] = segments.length === 1 ? [`${segNo(segments[0].path, -1)}`, ''] : ['g.seg_no', `JOIN (VALUES ${numbers()}) g(source, seg_no) USING (source)`]
  await conn.run(`INSERT INTO ${stagedLines(stream)} (source, byte_offset, raw, seg_no)
    SELECT source, byte_offset, line, ${seg} FROM (
      SELECT source, line, sum(coalesce(strlen(line), 0) + 1) OVER (PARTITION BY source ORDER BY rowid) - coalesce(strlen(line), 0) - 1 AS byte_offset
      FROM _csv) ${join}
    WHERE line IS NOT NULL AND NOT regexp_full_match(line, '[ \t\r]*');
    DROP TABLE _csv`)
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
export async function verifyFileSegments(conn: DuckDBConnection, stream: Stream, segments: FileSegment[]): Promise<FileSegment[]> {
  if (segments.length === 0) return []
  const reader = await conn.runAndReadAll(`SELECT source, max(byte_offset + strlen(raw) + 1)::BIGINT AS end_offset
    FROM ${stagedLines(stream)} WHERE kafka_partition IS NULL GROUP BY source`)
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
 * Stages the lines that go through JavaScript (file segments read here, appended tails, Kafka
 * messages) through an appender, several times faster than one big JSON parameter (which DuckDB
 * parses on one thread). Lines JavaScript already found bad keep their reason in `error`.
 */
export class LinesWriter {
  private constructor(
    private app: DuckDBAppender | null,
    private readonly segNo: SegmentNumber
  ) {}

  /** `stage`: the staging database createStagedLines put the table in (null: temp). */
  static async open(conn: DuckDBConnection, stream: Stream, segNo: SegmentNumber, stage: string | null = null): Promise<LinesWriter> {
    return new LinesWriter(await conn.createAppender(stagedLines(stream), 'main', stage ?? 'temp'), segNo)
  }

  add(source: string, lines: readonly InputLine[]): void {
    const app = this.app!
    const text = (v: string | null | undefined) => (v === null || v === undefined ? app.appendNull() : app.appendVarchar(v))
    // a file is one segment; Kafka messages of one source come from a few partitions
    let partition: number | null = null
    let seg = 0
    for (const l of lines) {
      const p = l.kafka?.partition ?? -1
      if (p !== partition) {
        partition = p
        seg = this.segNo(source, p)
      }
      app.appendVarchar(source)
      if (l.byteOffset === undefined) app.appendNull()
      else app.appendBigInt(BigInt(l.byteOffset))
      if (l.kafka) {
        app.appendInteger(l.kafka.partition)
        app.appendBigInt(BigInt(l.kafka.offset))
        text(l.kafka.key)
        // the stage's column is a TIMESTAMPTZ: a broker time DuckDB cannot read stays NULL, as before
        const ts = l.kafka.timestamp === null || l.kafka.timestamp === undefined ? null : Date.parse(l.kafka.timestamp)
        if (ts === null || Number.isNaN(ts)) app.appendNull()
        else app.appendBigInt(BigInt(ts) * 1000n)
      } else {
        app.appendNull()
        app.appendNull()
        app.appendNull()
        app.appendNull()
      }
      text(l.raw)
      text(l.error)
      app.appendInteger(seg)
      app.endRow()
    }
  }

  finish(): void {
    const app = this.app
    this.app = null
    if (!app) return
    try {
      app.flushSync()
    } finally {
      app.closeSync()
    }
  }

  /** Closes the appender without writing (the batch is being abandoned). */
  abandon(): void {
    try {
      this.app?.closeSync()
    } catch {
      /* the staged lines are replaced by the next attempt anyway */
    }
    this.app = null
  }
}
