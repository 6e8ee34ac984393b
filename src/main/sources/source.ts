import type { BatchEvent, SourceDescription } from '../../shared/dto'

// Every source (watched folder, Kafka) hands the engine the same thing: a plan for one micro-batch
// (what to read) plus the offsets that plan advances to. The engine writes both in ONE DuckDB
// transaction, which is what makes ingest exactly-once: the lake is the only record of progress.

export type Stream = 'orders' | 'customers'

/**
 * Bytes [start, end) of a file; `end` is just after a newline, so only complete lines are read.
 * The identity fields say which file the plan was made for: a path can name another file by the
 * time it is read (renamed, deleted and created again, truncated). The reader checks them on the
 * handle it reads from (`checkFileIdentity` in file-identity.ts) and throws InputChangedError when
 * they do not hold, so bytes of one file are never committed under another file's offsets.
 */
export interface FileSegment {
  type: 'file'
  stream: Stream
  path: string
  start: number
  end: number
  /** stat({ bigint: true }).dev and .ino as decimal strings (a bigint ino may exceed 2^53). */
  dev?: string
  ino?: string
  /** Hex SHA-256 of the file's first `fingerprintBytes` bytes (min(4096, end)). */
  fingerprint?: string
  fingerprintBytes?: number
  /** The file's size when planned (≥ end); a file now shorter than `end` shrank. */
  size?: number
  /**
   * Bytes [start, end), when planning read the whole (small) file: the lake takes them instead
   * of opening the file again. They are the bytes the offset and identity were computed from.
   */
  bytes?: Buffer
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
  /**
   * What the offset belongs to, stored with it (`source_offsets.identity`, JSON) and handed back to
   * open(): for a file its device, inode and fingerprints (file-identity.ts); none for Kafka.
   */
  identity?: string
}

export interface PlannedBatch {
  segments: Segment[]
  offsets: OffsetUpdate[]
  bytes: number
  /** When the newest input in this batch became visible (file mtime, message timestamp). */
  newestInputAt: Date | null
  /**
   * Offsets to delete in the same transaction (files that are gone), so `source_offsets` tracks
   * what is there, not all history. Never a key that is also in `offsets`.
   */
  forget?: { sourceKind: string; key: string }[]
  /** Events recorded with the batch (`batches.events`): a file renamed, truncated, replaced... */
  events?: BatchEvent[]
}

/** What input is waiting to be read, as the health monitor sees it (engine/health-monitor.ts). */
export interface InputBacklog {
  /** Input is there that no committed batch holds and a batch could read now. */
  waiting: boolean
  /** The waiting input in words, e.g. "3 files, 12.0 KiB"; null when nothing waits. */
  description: string | null
  /** Kafka: messages in the topics not yet in the lake, over all partitions; null for files. */
  messages: number | null
  /** Why the source cannot read its input now (it keeps trying); null when it can. */
  error: string | null
}

export interface Source {
  readonly description: SourceDescription
  /**
   * Called once with the offsets the lake committed for this source kind, and the identity stored
   * with each (a key without one was written by an older StreamDesk or has none).
   */
  open(committed: ReadonlyMap<string, bigint>, identities?: ReadonlyMap<string, string>): Promise<void>
  /** Plans the next micro-batch of at most ~maxBytes, or null when nothing new is there. */
  poll(maxBytes: number): Promise<PlannedBatch | null>
  /**
   * These files changed while being read (InputChangedError): the next poll looks at them again
   * from the committed offsets, checking their identity as if it had never seen them.
   */
  replan?(paths: string[]): void
  /**
   * Called while a batch is being written: may read ahead what the next poll will plan, without
   * changing anything but a cache that poll checks. Returns the function that stops it.
   */
  readAhead?(maxBytes: number): () => Promise<void>
  /** Runs after the lake committed `batch` (e.g. commit Kafka consumer-group offsets). */
  afterCommit?(batch: PlannedBatch): Promise<void>
  /** Wake-ups when new input may be there; returns an unsubscribe function. */
  onInput(listener: () => void): () => void
  /** What is waiting to be read; looks without reading or changing anything the next poll uses. */
  backlog?(): Promise<InputBacklog>
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
