import { resolve } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import type { BatchEvent, RewindPlan, RewindResult } from '../../shared/dto'
import { decodeIdentity, encodeIdentity, holdsCommittedBytes, identityAt, statHandle } from '../sources/file-identity'
import { openInputFile, readRange, type InputFile } from '../sources/input-file'
import { sqlString, type Lake } from './lake'

// A rewind moves one source's committed offset back, so the next run reads [to, from) again
// (docs/EVENTS.md, Rewind). It is a person's decision: planned and checked first (nothing
// changes), then, confirmed, committed in one transaction with a `rewind` record in `batches`
// that says which source, from where, to where, when and by whom. It never deletes anything: what
// the re-read lines do to the lake is decided by the batches that read them (lake/reread.ts).

/** A request a person can fix (unknown source, offset not on a line start, file changed...). */
export class RewindError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RewindError'
  }
}

export type RewindTarget = { offset: number } | { toTime: string }

/** `batches.replay` of a rewind record: what a live batch needs to tell a re-read line. */
export interface RewindRecord {
  rewind: {
    sourceKind: 'file' | 'kafka'
    key: string
    /** bronze's `source`: the file path, or the topic. */
    source: string
    partition: number | null
    from: number
    to: number
    toTime: string | null
    by: string
  }
}

interface Committed {
  sourceKind: 'file' | 'kafka'
  key: string
  offset: number
  identity: string | null
}

const kafkaKey = (key: string) => /^(.+)\/(\d+)$/.exec(key)

/** Bytes read per step when looking for line starts around an offset. */
const SCAN = 64 * 1024

/** The committed source `name` names: a key, a file path, `topic:partition`, or a file's `dev:ino`. */
async function findSource(conn: DuckDBConnection, name: string): Promise<Committed> {
  const r = await conn.runAndReadAll(`SELECT source_kind, key, next_offset::DOUBLE, identity::VARCHAR FROM source_offsets ORDER BY source_kind, key`)
  const all = r.getRows().map(([kind, key, off, id]) => ({
    sourceKind: String(kind) as Committed['sourceKind'],
    key: String(key),
    offset: Number(off),
    identity: id === null ? null : String(id)
  }))
  const topicPartition = /^(.+):(\d+)$/.exec(name)
  const wanted = new Set([name, resolve(name), ...(topicPartition ? [`${topicPartition[1]}/${topicPartition[2]}`] : [])])
  const hits = all.filter((c) => wanted.has(c.key) || (c.sourceKind === 'file' && identityName(c.identity) === name))
  if (hits.length === 1) return hits[0]
  const known = all.slice(0, 10).map((c) => (c.sourceKind === 'kafka' ? c.key.replace(/\/(\d+)$/, ':$1') : c.key))
  if (hits.length > 1) throw new RewindError(`'${name}' names ${hits.length} sources (${hits.map((h) => h.key).join(', ')}); give the file path or topic:partition`)
  throw new RewindError(
    all.length === 0
      ? `the lake has no committed offset to rewind ('${name}' is unknown): no batch has read a source yet`
      : `the lake has no committed offset for '${name}'; its sources are ${known.join(', ')}${all.length > known.length ? ` and ${all.length - known.length} more` : ''}`
  )
}

/** A file's identity as a person can type it: `dev:ino`. */
function identityName(text: string | null): string | null {
  const id = decodeIdentity(text)
  return id ? `${id.dev}:${id.ino}` : null
}

/**
 * The committed offset of `c` as of `toTime`: the one the last batch committed at or before it
 * recorded in `batches.offsets` (live batches and rewinds; replays and re-validations move none).
 */
async function offsetAsOf(conn: DuckDBConnection, c: Committed, toTime: string): Promise<{ offset: number; batchId: number | null }> {
  const ms = Date.parse(toTime)
  if (Number.isNaN(ms)) throw new RewindError(`the time must be a date and time (ISO 8601, e.g. 2026-12-01T08:00:00Z), got '${toTime}'`)
  const at = `TIMESTAMPTZ ${sqlString(new Date(ms).toISOString())}`
  const r = await conn.runAndReadAll(
    `SELECT b.batch_id, o.offset::DOUBLE FROM batches b,
       unnest(from_json(b.offsets, '[{"sourceKind":"VARCHAR","key":"VARCHAR","offset":"VARCHAR"}]')) AS t(o)
     WHERE b.kind IN ('live', 'rewind') AND b.committed_at <= ${at} AND o.sourceKind = $1 AND o.key = $2
     ORDER BY b.batch_id DESC LIMIT 1`,
    [c.sourceKind, c.key]
  )
  const row = r.getRows()[0]
  if (c.sourceKind === 'file') {
    // An offset under this name before the file was renamed here, truncated or replaced is another file's.
    const ev = await conn.runAndReadAll(
      `SELECT b.batch_id, e.kind FROM batches b,
         unnest(from_json(coalesce(b.events, '[]'), '[{"kind":"VARCHAR","path":"VARCHAR","from":"VARCHAR"}]')) AS t(e)
       WHERE b.committed_at > ${at} AND e.kind IN ('renamed', 'truncated', 'replaced') AND (e.path = $1 OR e.from = $1)
       ORDER BY b.batch_id LIMIT 1`,
      [c.key]
    )
    const changed = ev.getRows()[0]
    if (changed) {
      throw new RewindError(
        `${c.key} was ${String(changed[1])} after ${toTime} (batch ${Number(changed[0])}): its offset as of that time belongs to another file; rewind to an offset instead`
      )
    }
  }
  if (row) return { offset: Number(row[1]), batchId: Number(row[0]) }
  // before any batch read the source: its start, as far as the lake read it
  if (c.sourceKind === 'file') return { offset: 0, batchId: null }
  const [topic, partition] = kafkaKey(c.key)!.slice(1)
  const first = await conn.runAndReadAll(
    `SELECT min(o)::DOUBLE FROM (SELECT min(kafka_offset) AS o FROM bronze_orders WHERE source = $1 AND kafka_partition = $2
       UNION ALL SELECT min(kafka_offset) FROM bronze_customers WHERE source = $1 AND kafka_partition = $2)`,
    [topic, Number(partition)]
  )
  const lowest = first.getRows()[0][0]
  return { offset: lowest === null ? c.offset : Number(lowest), batchId: null }
}

/** The line starts nearest to `offset` in the file (before it, and after it up to `limit`). */
async function nearestLineStarts(fh: InputFile, offset: number, limit: number): Promise<{ before: number; after: number | null }> {
  let before = 0
  for (let hi = offset; hi > 0; ) {
    const lo = Math.max(0, hi - SCAN)
    const buf = await readRange(fh, lo, hi)
    const nl = buf ? buf.lastIndexOf(10) : -1
    if (nl >= 0) {
      before = lo + nl + 1
      break
    }
    hi = lo
  }
  for (let lo = offset; lo < limit; lo += SCAN) {
    const buf = await readRange(fh, lo, Math.min(limit, lo + SCAN))
    const nl = buf ? buf.indexOf(10) : -1
    if (nl >= 0) return { before, after: lo + nl + 1 }
  }
  return { before, after: null }
}

/** For a file: it is still the file the offset belongs to, `to` is a line start; the identity at `to`. */
async function fileIdentityAt(c: Committed, to: number): Promise<string> {
  let fh: InputFile
  try {
    fh = await openInputFile(c.key)
  } catch (err) {
    throw new RewindError(
      `${c.key} cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): a rewind re-reads the file, so it must be there; bronze keeps every line it read (replay derives silver again from it)`
    )
  }
  try {
    const st = await statHandle(fh)
    const id = decodeIdentity(c.identity)
    if (id && !(await holdsCommittedBytes(fh, id, c.offset, st.size))) {
      throw new RewindError(
        `${c.key} is no longer the file whose ${c.offset} bytes the lake committed (truncated, rewritten or replaced): the pipeline reads it from byte 0 by itself at its next run`
      )
    }
    if (to > 0) {
      const prev = await readRange(fh, to - 1, to)
      if (!prev || prev[0] !== 10) {
        const near = await nearestLineStarts(fh, to, c.offset)
        const after = near.after === null ? '' : ` or ${near.after}`
        throw new RewindError(`offset ${to} of ${c.key} is not the start of a line; the nearest line starts are ${near.before}${after}`)
      }
    }
    const at = await identityAt(fh, st, to)
    if (!at) throw new RewindError(`${c.key} shrank while it was checked; try again`)
    return encodeIdentity(at)
  } finally {
    await fh.close().catch(() => undefined)
  }
}

function consequence(c: Committed, from: number, to: number): string {
  const unit = c.sourceKind === 'file' ? 'bytes' : 'messages'
  const what = c.sourceKind === 'file' ? `${c.key} from byte ${to}` : `partition ${c.key} from offset ${to}`
  return (
    `The next run reads ${what} again (${from - to} ${unit} the lake already holds). ` +
    `Bronze records every line read again under its new batch. Orders silver holds count as duplicates, not as new orders; ` +
    `a bad line already in quarantine is not quarantined again; a customer line read again does not replace the stored profile. ` +
    `A line quarantined before that passes today's checks enters silver, as a re-validation would take it. ` +
    `Nothing in the lake is deleted or changed now except this source's offset.`
  )
}

/** What rewinding `source` to `target` would do; checked, nothing changed. */
export async function planRewind(conn: DuckDBConnection, source: string, target: RewindTarget): Promise<RewindPlan & { identity: string | null }> {
  const c = await findSource(conn, source)
  let to: number
  let asOfBatchId: number | null = null
  if ('offset' in target) {
    if (!Number.isSafeInteger(target.offset) || target.offset < 0) throw new RewindError(`the offset must be a whole number of 0 or more, got ${target.offset}`)
    to = target.offset
  } else {
    const asOf = await offsetAsOf(conn, c, target.toTime)
    to = asOf.offset
    asOfBatchId = asOf.batchId
  }
  const unit = c.sourceKind === 'file' ? 'bytes' : 'messages'
  const at = 'toTime' in target ? ` (the committed offset as of ${target.toTime})` : ''
  if (to > c.offset) {
    throw new RewindError(`offset ${to}${at} of ${c.key} is beyond its committed offset ${c.offset}: a rewind only goes back, it never skips ${unit}`)
  }
  if (to === c.offset) throw new RewindError(`${c.key} is already at offset ${to}${at}: there is nothing to read again`)
  const identity = c.sourceKind === 'file' ? await fileIdentityAt(c, to) : null
  return {
    sourceKind: c.sourceKind,
    key: c.key,
    unit,
    from: c.offset,
    to,
    toTime: 'toTime' in target ? target.toTime : null,
    asOfBatchId,
    consequence: consequence(c, c.offset, to),
    identity
  }
}

/**
 * Plans the rewind and, when `confirm`, commits it: the offset and its record in one
 * transaction. `by` says who or what asked (recorded). The caller holds the lake with the
 * pipeline stopped: a running batch would commit the old offset over it.
 */
export async function rewindSource(
  lake: Lake,
  source: string,
  target: RewindTarget,
  opts: { confirm: boolean; by: string }
): Promise<RewindResult> {
  const conn = lake.writer
  const { identity, ...plan } = await planRewind(conn, source, target)
  if (!opts.confirm) return { ...plan, batchId: null }
  const tp = plan.sourceKind === 'kafka' ? kafkaKey(plan.key) : null
  const record: RewindRecord = {
    rewind: {
      sourceKind: plan.sourceKind,
      key: plan.key,
      source: tp ? tp[1] : plan.key,
      partition: tp ? Number(tp[2]) : null,
      from: plan.from,
      to: plan.to,
      toTime: plan.toTime,
      by: opts.by
    }
  }
  const event: BatchEvent = {
    kind: 'rewound',
    path: plan.key,
    message: `${plan.key} rewound by ${opts.by} from ${plan.from} to ${plan.to} ${plan.unit}${plan.toTime ? ` (its offset as of ${plan.toTime})` : ''}: the next run reads ${plan.from - plan.to} ${plan.unit} again`
  }
  const offsets = JSON.stringify([{ sourceKind: plan.sourceKind, key: plan.key, offset: String(plan.to) }])
  const now = new Date().toISOString()
  await conn.run('BEGIN TRANSACTION')
  try {
    const head = (await conn.runAndReadAll(`SELECT (SELECT coalesce(max(batch_id), 0) + 1 FROM batches),
        (SELECT next_offset::DOUBLE FROM source_offsets WHERE source_kind = $1 AND key = $2)`, [plan.sourceKind, plan.key])).getRows()[0]
    const batchId = Number(head[0])
    // planned on the same connection, and nothing else writes while the lake is held stopped;
    // checked again so a rewind never lands on an offset it did not plan from
    if (head[1] === null || Number(head[1]) !== plan.from) throw new RewindError(`${plan.key}'s committed offset changed while the rewind was planned; plan it again`)
    await conn.run(`UPDATE source_offsets SET next_offset = $1, batch_id = $2, identity = $3::JSON WHERE source_kind = $4 AND key = $5`, [
      plan.to,
      batchId,
      identity,
      plan.sourceKind,
      plan.key
    ])
    // no line read, nothing counted: the watermark and event-time mark stay those of the batch before
    await conn.run(
      `INSERT INTO batches (batch_id, started_at, committed_at, duration_ms, rows_read, valid, quarantined, late, duplicates, alerts,
         bytes_read, input_rate, processing_rate, watermark, max_event_ts, offsets, events, kind, replay)
       SELECT ${batchId}, TIMESTAMPTZ '${now}', now(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
         (SELECT watermark FROM batches ORDER BY batch_id DESC LIMIT 1), (SELECT max_event_ts FROM batches ORDER BY batch_id DESC LIMIT 1),
         $1, $2, 'rewind', $3`,
      [offsets, JSON.stringify([event]), JSON.stringify(record)]
    )
    await conn.run('COMMIT')
    return { ...plan, batchId }
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined)
    throw err
  }
}
