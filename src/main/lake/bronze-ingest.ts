import type { DuckDBConnection } from '@duckdb/node-api'
import type { FileSegment, LinesSegment, Stream } from '../sources/source'
import { sqlString } from './lake'

// Bronze takes every input line as read. Whole files are read by DuckDB itself (read_csv with a
// delimiter and quote that never split a line), so the raw bytes never pass through JavaScript;
// byte offsets come from a streaming running sum of line lengths. Lines that did reach
// JavaScript (appended tails, Kafka messages) arrive through an appender.

const MAX_READ_LINE = 8 * 1024 * 1024

const bronzeTable = (stream: Stream) => (stream === 'orders' ? 'bronze_orders' : 'bronze_customers')

function readLinesSql(path: string): string {
  return `read_csv(${sqlString(path)}, columns = {'line': 'VARCHAR'}, delim = chr(0), quote = '', escape = '',
    header = false, auto_detect = false, new_line = '\\n', max_line_size = ${MAX_READ_LINE}, strict_mode = false)`
}

/**
 * Inserts the file segments of one stream. Blank lines are kept as NULL rows first so the
 * running byte count stays exact; `verifyFileSegments` then checks every file was read to
 * exactly its planned end, and the NULL rows are removed.
 */
export async function insertFileSegments(
  conn: DuckDBConnection,
  batchId: number,
  stream: Stream,
  segments: FileSegment[]
): Promise<void> {
  if (segments.length === 0) return
  const selects = segments.map(
    (s) => `SELECT ${sqlString(s.path)} AS source,
        sum(coalesce(strlen(line), 0) + 1) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - coalesce(strlen(line), 0) - 1 AS byte_offset,
        line
      FROM ${readLinesSql(s.path)}`
  )
  await conn.run(`INSERT INTO ${bronzeTable(stream)} (batch_id, ingested_at, source, byte_offset, raw)
    SELECT ${batchId}, now(), source, byte_offset, line FROM (${selects.join('\nUNION ALL\n')})`)
}

/** Returns the segments whose bytes read differ from the plan (file changed, odd bytes...). */
export async function verifyFileSegments(
  conn: DuckDBConnection,
  batchId: number,
  stream: Stream,
  segments: FileSegment[]
): Promise<FileSegment[]> {
  if (segments.length === 0) return []
  const table = bronzeTable(stream)
  const reader = await conn.runAndReadAll(`SELECT source, max(byte_offset + coalesce(strlen(raw), 0) + 1)::BIGINT AS end_offset
    FROM ${table} WHERE batch_id = ${batchId} AND kafka_partition IS NULL GROUP BY source`)
  const ends = new Map<string, bigint>()
  for (const [source, end] of reader.getRows()) ends.set(String(source), BigInt(end as bigint))
  const bad = segments.filter((s) => ends.get(s.path) !== BigInt(s.end - s.start))
  // Blank lines (empty or only spaces/tabs) are not records.
  await conn.run(
    `DELETE FROM ${table} WHERE batch_id = ${batchId} AND kafka_partition IS NULL AND (raw IS NULL OR trim(raw, ' \t\r') = '')`
  )
  return bad
}

/**
 * Lines that reached JavaScript; `error` lines are also returned for quarantine. They go through
 * an appender into a temp table: on the batch's connection, so the rows are part of the batch's
 * transaction, and several times faster than one big JSON parameter (which DuckDB parses on one
 * thread) for a batch of Kafka messages.
 */
export async function insertLinesSegments(
  conn: DuckDBConnection,
  batchId: number,
  stream: Stream,
  segments: LinesSegment[]
): Promise<void> {
  if (!segments.some((s) => s.lines.length > 0)) return
  await conn.run(`CREATE OR REPLACE TEMP TABLE _lines (source VARCHAR, byte_offset BIGINT, kafka_partition INTEGER,
    kafka_offset BIGINT, kafka_key VARCHAR, kafka_timestamp VARCHAR, raw VARCHAR, error VARCHAR)`)
  const app = await conn.createAppender('_lines', 'main', 'temp')
  try {
    const text = (v: string | null | undefined) => (v === null || v === undefined ? app.appendNull() : app.appendVarchar(v))
    for (const seg of segments) {
      for (const l of seg.lines) {
        app.appendVarchar(seg.source)
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
    }
    app.flushSync()
  } finally {
    app.closeSync()
  }
  await conn.run(`INSERT INTO ${bronzeTable(stream)} (batch_id, ingested_at, source, byte_offset, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, raw)
    SELECT ${batchId}, now(), source, byte_offset, kafka_partition, kafka_offset, kafka_key, try_cast(kafka_timestamp AS TIMESTAMPTZ), raw FROM _lines`)
  await conn.run(`INSERT INTO _known_errors SELECT '${stream === 'orders' ? 'order' : 'customer'}', source, byte_offset, kafka_partition, kafka_offset, error, raw FROM _lines WHERE error IS NOT NULL`)
  await conn.run(`DROP TABLE _lines`)
}
