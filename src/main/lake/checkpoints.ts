import { stat } from 'node:fs/promises'
import type { DuckDBConnection } from '@duckdb/node-api'
import type { SourceOffsetRow } from '../../shared/dto'

// The checkpoint inspector (Pipeline tab): every committed source offset beside the end of what
// its source holds now, so the lag is what is not in the lake yet. Read-only.

/** Kafka's side, `topic/partition` → the broker's high-water mark, when the pipeline is reading it. */
export type KafkaEnds = ReadonlyMap<string, number>

export async function sourceOffsets(conn: DuckDBConnection, kafkaEnds: KafkaEnds): Promise<SourceOffsetRow[]> {
  const r = await conn.runAndReadAll(
    `SELECT o.source_kind, o.key, o.next_offset, o.batch_id,
       strftime(b.committed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS committed_at
     FROM source_offsets o LEFT JOIN batches b USING (batch_id) ORDER BY o.source_kind, o.key`
  )
  const rows = r.getRowObjectsJson() as Record<string, string | null>[]
  return Promise.all(
    rows.map(async (row) => {
      const kafka = row.source_kind === 'kafka'
      const committedOffset = Number(row.next_offset)
      const end = kafka ? (kafkaEnds.get(String(row.key)) ?? null) : await fileSize(String(row.key))
      return {
        sourceKind: String(row.source_kind),
        key: String(row.key),
        committedOffset,
        end,
        // a file rewritten shorter is read again from its start: all of it is behind
        lag: end === null ? null : end >= committedOffset ? end - committedOffset : end,
        unit: kafka ? 'messages' : 'bytes',
        batchId: Number(row.batch_id),
        batchCommittedAt: row.committed_at
      } satisfies SourceOffsetRow
    })
  )
}

/** Null when the file is gone (its offset is pruned by the next batch). */
async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size
  } catch {
    return null
  }
}
