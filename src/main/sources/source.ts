import type { SourceDescription } from '../../shared/dto'

// Every source (watched folder, Kafka) hands the engine the same thing: a plan for one micro-batch
// (what to read) plus the offsets that plan advances to. The engine writes both in ONE DuckDB
// transaction, which is what makes ingest exactly-once: the lake is the only record of progress.

export type Stream = 'orders' | 'customers'

/**
 * Bytes [start, end) of a file; `end` is just after a newline, so only complete lines are read.
 * When start = 0 and end = the file's size the lake reads the file itself (fast path).
 */
export interface FileSegment {
  type: 'file'
  stream: Stream
  path: string
  start: number
  end: number
}

/** One input record that reached JavaScript (a Kafka message, or a line of an appended file). */
export interface InputLine {
  /** Decoded text, or null when the record has no usable text (tombstone, bad bytes). */
  raw: string | null
  /** Set when the record is already known to be bad: it goes to quarantine with this reason. */
  error?: string
  byteOffset?: number
  kafka?: { topic: string; partition: number; offset: string; key: string | null; timestamp: string | null }
}

export interface LinesSegment {
  type: 'lines'
  stream: Stream
  /** File path, or the topic name for Kafka messages. */
  source: string
  lines: InputLine[]
}

export type Segment = FileSegment | LinesSegment

/** A source's position after this batch; stored in the lake's `source_offsets` table. */
export interface OffsetUpdate {
  /** e.g. "file" or "kafka". */
  sourceKind: string
  /** e.g. an absolute file path, or "topic/partition". */
  key: string
  /** Next byte (file) or next message offset (Kafka) to read. */
  offset: bigint
}

export interface PlannedBatch {
  segments: Segment[]
  offsets: OffsetUpdate[]
  bytes: number
  /** When the newest input in this batch became visible (file mtime, message timestamp). */
  newestInputAt: Date | null
}

export interface Source {
  readonly description: SourceDescription
  /** Called once with the offsets the lake committed for this source kind. */
  open(committed: ReadonlyMap<string, bigint>): Promise<void>
  /** Plans the next micro-batch of at most ~maxBytes, or null when nothing new is there. */
  poll(maxBytes: number): Promise<PlannedBatch | null>
  /** The plan could not be read as planned (e.g. a file changed under a fast-path read). */
  demoteToLines?(segment: FileSegment): Promise<LinesSegment>
  /** Runs after the lake committed `batch` (e.g. commit Kafka consumer-group offsets). */
  afterCommit?(batch: PlannedBatch): Promise<void>
  /** Wake-ups when new input may be there; returns an unsubscribe function. */
  onInput(listener: () => void): () => void
  /** A human-readable wait state, e.g. "waiting for Kafka at localhost:9092", or null. */
  status?(): string | null
  close(): Promise<void>
}

/**
 * A file segment could not be read as planned: the file shrank, vanished or is another file now.
 * Never fatal: the engine records it, asks the source to look at the file again, and goes on.
 */
export class InputChangedError extends Error {
  constructor(
    readonly path: string,
    reason: string
  ) {
    super(`${path} changed while being read: ${reason}`)
    this.name = 'InputChangedError'
  }
}
