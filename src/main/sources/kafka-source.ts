import { createRequire } from 'node:module'
import { isUtf8 } from 'node:buffer'
import { MAX_LINE_BYTES } from '../../shared/events'
import type { InputBacklog, InputLine, LinesSegment, OffsetUpdate, PlannedBatch, Source, Stream } from './source'
import {
  EARLIEST,
  ISOLATION_READ_COMMITTED,
  LATEST,
  createCluster,
  describeServers,
  isConnectionError,
  rootMessage,
  type FetchPartitionResponse,
  type FetchedRecord,
  type InternalBroker,
  type InternalCluster,
  type KafkaConnection
} from './kafka-client'
import { GroupMember } from './kafka-group'

// Reads every partition of the orders and customers topics at offsets it chooses: no consumer
// group coordination, so a restart starts reading at once. The lake is the only record of
// progress: open() receives the offsets committed with the last batch, each plan carries the
// next offset of every partition it read ("topic/partition" → offset), and the engine writes
// them in the batch's transaction. Offsets may also be committed to a consumer group afterwards,
// only so that Kafka's own tools show StreamDesk's lag; they are never read back.
//
// With `shareGroup` the source is instead a member of that consumer group (kafka-group.ts) and
// reads only the partitions the group assigns it; several pipelines, each with its own lake, then
// split the topics (docs/SCALING.md). It rejoins only between batches, so a batch's messages all
// belong to one generation's assignment.

export const KAFKA_SOURCE_KIND = 'kafka'

const cjsRequire = createRequire(import.meta.url)
type FilterAborted = (args: {
  messages: FetchedRecord[]
  abortedTransactions?: FetchPartitionResponse['abortedTransactions']
}) => FetchedRecord[]
let filterAbortedFn: FilterAborted | null = null
/** Drops records of aborted transactions (KafkaJS's own filter); loaded on first use. */
function filterAborted(args: Parameters<FilterAborted>[0]): FetchedRecord[] {
  if (!args.abortedTransactions?.length) return args.messages
  filterAbortedFn ??= cjsRequire('kafkajs/src/consumer/filterAbortedMessages.js') as FilterAborted
  return filterAbortedFn(args)
}

/** Errors a metadata refresh fixes (leadership moved, partition/topic not there yet). */
const METADATA_ERRORS = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'REPLICA_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR'
])

export class KafkaUnavailableError extends Error {}

export interface KafkaSourceOptions {
  connection: KafkaConnection
  ordersTopic: string
  customersTopic: string
  /** Where partitions the lake has never seen start (only those found at the first connect). */
  startingOffsets?: 'earliest' | 'latest'
  /** Consumer group that receives the lake's offsets after each commit (for lag tools); null: none. */
  groupId?: string | null
  /**
   * Join this consumer group and read only the partitions it assigns (several pipelines, each
   * with its own lake, sharing the topics). Its offsets are then the ones committed, and read
   * back when a partition changes hands; `groupId` is ignored. null (default): read every partition.
   */
  shareGroup?: string | null
  /** Shared group: the coordinator drops a member silent for this long (ms). Default 30000. */
  sessionTimeoutMs?: number
  /** Shared group: how long a rebalance waits for every member to rejoin (ms). Default 60000. */
  rebalanceTimeoutMs?: number
  /**
   * null (default): wait for a broker as long as it takes (status() says so), returning null from
   * poll() meanwhile. A number: poll() keeps retrying for that long, then throws
   * KafkaUnavailableError (for --until-idle, where a null poll means "all read").
   */
  connectTimeoutMs?: number | null
  /** How long a fetch waits on the broker for new messages when there is nothing new (ms). */
  maxWaitMs?: number
  /** How often the partition list is refreshed, so added partitions are picked up (ms). */
  metadataRefreshMs?: number
  /** Upper bound of message bytes in one micro-batch (also bounded by the engine's maxBatchBytes). */
  maxBatchBytes?: number
  /** Human-readable events: connected, waiting, new partitions, data lost to retention. */
  log?: (line: string) => void
}

export interface KafkaPartitionLag {
  topic: string
  partition: number
  /** Next offset the broker will write (null until first fetched). */
  highWatermark: string | null
  /** Next offset the lake will read (null: the lake has never read this partition). */
  lakeOffset: string | null
  /** highWatermark − lakeOffset (null when either is unknown). */
  lag: string | null
}

/** This pipeline's place in a shared consumer group (`shareGroup`). */
export interface KafkaShareStatus {
  groupId: string
  /** null until the first assignment. */
  memberId: string | null
  generation: number | null
  members: number | null
  /** "topic/partition" keys this pipeline owns now, sorted. */
  owned: string[]
  /** Why the last heartbeat or group commit failed (null: fine). */
  error: string | null
}

interface PartitionState {
  topic: string
  partition: number
  stream: Stream
  leader: number
  /** Next offset to fetch (after everything buffered); null until resolved. */
  position: bigint | null
  /** What the lake holds (null: never committed). */
  lake: bigint | null
  /** High-water mark / last stable offset from the latest fetch. */
  hwm: bigint | null
  stable: bigint | null
  buffered: InputLine[]
  bufferedBytes: number[]
  /** Found at the first connect (follows --starting-offsets); later partitions start at earliest. */
  initial: boolean
  /** Position came from --starting-offsets latest: record it with the next plan. */
  recordStart: boolean
}

const key = (topic: string, partition: number) => `${topic}/${partition}`

/** One Kafka message as an input line for the lake (bad values carry their quarantine reason). */
export function messageToLine(topic: string, partition: number, m: FetchedRecord): InputLine {
  const ts = Number(m.timestamp)
  const line: InputLine = {
    raw: null,
    kafka: {
      topic,
      partition,
      offset: m.offset,
      key: m.key === null || m.key === undefined ? null : m.key.toString('utf8'),
      timestamp: Number.isFinite(ts) && ts >= 0 ? new Date(ts).toISOString() : null
    }
  }
  const v = m.value
  if (v === null || v === undefined) {
    line.error = 'tombstone: the message value is null'
  } else if (v.length === 0) {
    line.raw = ''
    line.error = 'empty message value'
  } else if (isUtf8(v)) {
    line.raw = v.toString('utf8')
    if (v.length > MAX_LINE_BYTES) line.error = `message value over 1 MiB (${v.length} bytes)`
  } else {
    line.raw = v.toString('utf8')
    line.error = 'message value is not valid UTF-8 (invalid bytes shown as U+FFFD)'
  }
  return line
}

export class KafkaSource implements Source {
  readonly description
  private readonly servers: string
  private readonly opts: Required<Omit<KafkaSourceOptions, 'groupId' | 'shareGroup' | 'connectTimeoutMs' | 'log'>> &
    Pick<KafkaSourceOptions, 'log'> & { groupId: string | null; shareGroup: string | null; connectTimeoutMs: number | null }
  /** The shared group's membership; null: this source reads every partition. */
  private readonly group: GroupMember | null
  /** Partitions this source reads: null = all; with a shared group, its assignment. */
  private owned: Set<string> | null = null
  private cluster: InternalCluster | null = null
  private readonly parts = new Map<string, PartitionState>()
  private lakeOffsets = new Map<string, bigint>()
  private listeners = new Set<() => void>()
  private closed = false
  private interrupted = false
  private draining = false
  /** Topics whose metadata last reported a partition without a leader. */
  private leaderless = new Set<string>()
  private unsettledSince = 0
  private metadataAt = 0
  private metadataStale = true
  private everConnected = false
  private missingTopics = new Set<string>()
  private waiting: string | null = null
  private waitingSince = 0
  private attempts = 0
  private nextAttemptAt = 0
  private retryTimer: NodeJS.Timeout | null = null
  private wakeSleep: (() => void) | null = null
  private warnings: string[] = []
  private bufferedBytes = 0
  private prefetching: Promise<void> | null = null
  private prefetchError: unknown = null
  private groupCommit: Promise<void> | null = null
  private groupPending: Map<string, bigint> | null = null
  private coordinator: InternalBroker | null = null
  groupError: string | null = null

  constructor(options: KafkaSourceOptions) {
    if (options.ordersTopic === options.customersTopic) {
      throw new Error(`the orders and customers topics must differ (both are '${options.ordersTopic}')`)
    }
    this.opts = {
      startingOffsets: 'earliest',
      maxWaitMs: 500,
      metadataRefreshMs: 5_000,
      maxBatchBytes: 64 * 1024 * 1024,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 60_000,
      ...options,
      groupId: options.groupId === undefined ? 'streamdesk' : options.groupId,
      shareGroup: options.shareGroup ?? null,
      connectTimeoutMs: options.connectTimeoutMs ?? null
    }
    this.group = this.opts.shareGroup
      ? new GroupMember({
          groupId: this.opts.shareGroup,
          topics: [options.customersTopic, options.ordersTopic],
          sessionTimeoutMs: this.opts.sessionTimeoutMs,
          rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs,
          log: options.log
        })
      : null
    if (this.group) this.owned = new Set()
    this.servers = describeServers(options.connection.servers)
    this.description = {
      kind: 'kafka' as const,
      label: `kafka ${this.servers} ${options.ordersTopic}, ${options.customersTopic}`
    }
  }

  private get topics(): { topic: string; stream: Stream }[] {
    return [
      { topic: this.opts.customersTopic, stream: 'customers' },
      { topic: this.opts.ordersTopic, stream: 'orders' }
    ]
  }

  async open(committed: ReadonlyMap<string, bigint>): Promise<void> {
    this.lakeOffsets = new Map(committed)
  }

  onInput(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private wake(): void {
    for (const l of this.listeners) l()
  }

  status(): string | null {
    if (this.waiting) return this.waiting
    if (this.warnings.length) return this.warnings.at(-1)!
    if (this.missingTopics.size) return `waiting for topic ${[...this.missingTopics].join(', ')} to exist on ${this.servers}`
    return null
  }

  /**
   * Messages behind the lake over every partition seen, as of the last fetch (while a batch is
   * written, the prefetch's; while the loop waits for its trigger, none), and the broker being out
   * of reach as the source's error (it keeps retrying with backoff).
   */
  async backlog(): Promise<InputBacklog> {
    let messages = 0
    for (const p of this.parts.values()) {
      // with a shared group, the other partitions are their owners' backlog
      if (!this.owns(key(p.topic, p.partition))) continue
      const lake = this.lakeOffsets.get(key(p.topic, p.partition))
      if (p.hwm === null) continue
      // a partition the lake has no offset for yet: what is buffered, and what is past it
      if (lake === undefined) messages += p.buffered.length + (p.position !== null && p.hwm > p.position ? Number(p.hwm - p.position) : 0)
      else if (p.hwm > lake) messages += Number(p.hwm - lake)
    }
    return {
      waiting: messages > 0,
      description: messages > 0 ? `${messages.toLocaleString('en-US')} Kafka message${messages === 1 ? '' : 's'}` : null,
      messages,
      error: this.waiting
    }
  }

  /** High-water mark, lake offset and lag of every partition seen so far (with a shared group: owned now). */
  lag(): KafkaPartitionLag[] {
    const out: KafkaPartitionLag[] = []
    const seen = new Set<string>()
    for (const p of this.parts.values()) {
      const k = key(p.topic, p.partition)
      if (!this.owns(k)) continue
      seen.add(k)
      const lake = this.lakeOffsets.get(k) ?? null
      out.push({
        topic: p.topic,
        partition: p.partition,
        highWatermark: p.hwm === null ? null : String(p.hwm),
        lakeOffset: lake === null ? null : String(lake),
        lag: p.hwm !== null && lake !== null ? String(p.hwm > lake ? p.hwm - lake : 0n) : null
      })
    }
    out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    return out
  }

  /** Where this pipeline stands in its shared group (null without `shareGroup`). */
  share(): KafkaShareStatus | null {
    if (!this.group) return null
    const a = this.group.current
    return {
      groupId: this.opts.shareGroup!,
      memberId: a?.memberId ?? null,
      generation: a?.generation ?? null,
      members: a?.members ?? null,
      owned: [...(this.owned ?? [])].sort((x, y) => {
        const i = x.lastIndexOf('/')
        const j = y.lastIndexOf('/')
        return x.slice(0, i).localeCompare(y.slice(0, j)) || Number(x.slice(i + 1)) - Number(y.slice(j + 1))
      }),
      error: this.group.error ?? this.groupError
    }
  }

  private owns(k: string): boolean {
    return this.owned === null || this.owned.has(k)
  }

  // -------------------------------------------------------------------------------------------
  // connection, metadata, positions

  private async ready(): Promise<InternalCluster> {
    const firstEver = !this.everConnected
    if (!this.cluster) {
      const cluster = createCluster(this.opts.connection, { retries: 0, requestTimeoutMs: 30_000 })
      this.cluster = cluster
      await cluster.connect()
      await cluster.refreshMetadata()
      this.metadataStale = true
    }
    const cluster = this.cluster
    // Missing topics are looked for on every poll, so a topic created by the first produce is
    // read at once (and a drain never ends before it); otherwise every metadataRefreshMs.
    if (this.metadataStale || this.missingTopics.size > 0 || Date.now() - this.metadataAt >= this.opts.metadataRefreshMs) {
      await this.refreshPartitions(cluster)
    }
    if (this.group?.needsJoin) await this.rejoin(cluster)
    await this.resolvePositions(cluster)
    if (this.waiting) {
      if (!firstEver) this.opts.log?.(`kafka: reconnected to ${this.servers}`)
      this.waiting = null
    }
    this.attempts = 0
    this.waitingSince = 0
    return cluster
  }

  private async refreshPartitions(cluster: InternalCluster): Promise<void> {
    await cluster.refreshMetadata()
    const broker = await cluster.brokerPool.findConnectedBroker()
    const first = !this.everConnected
    let stale = false
    this.leaderless.clear()
    for (const { topic, stream } of this.topics) {
      let partitions
      try {
        const md = await broker.metadata([topic])
        partitions = md.topicMetadata.find((t) => t.topic === topic)?.partitionMetadata ?? []
      } catch (err) {
        const type = (err as { type?: string }).type
        if (type === 'UNKNOWN_TOPIC_OR_PARTITION') {
          if (!this.missingTopics.has(topic)) this.opts.log?.(`kafka: topic ${topic} does not exist (yet) on ${this.servers}`)
          this.missingTopics.add(topic)
          continue
        }
        if (type && METADATA_ERRORS.has(type)) {
          stale = true // e.g. a leader election: keep what we know, look again next poll
          this.leaderless.add(topic)
          continue
        }
        throw err
      }
      if (this.missingTopics.delete(topic)) this.opts.log?.(`kafka: topic ${topic} is there now`)
      for (const pm of partitions) {
        const k = key(topic, pm.partitionId)
        const p = this.parts.get(k)
        if (p) {
          p.leader = pm.leader
          continue
        }
        this.parts.set(k, {
          topic,
          partition: pm.partitionId,
          stream,
          leader: pm.leader,
          position: null,
          lake: this.lakeOffsets.get(k) ?? null,
          hwm: null,
          stable: null,
          buffered: [],
          bufferedBytes: [],
          initial: first,
          recordStart: false
        })
        if (!first) this.opts.log?.(`kafka: new partition ${k}`)
        // the group's leader has to assign it: everyone rejoins
        if (!first) this.group?.requestRejoin()
      }
    }
    if (first) {
      const counts = this.topics.map(({ topic }) => {
        const n = [...this.parts.values()].filter((p) => p.topic === topic).length
        return `${topic} (${this.missingTopics.has(topic) ? 'missing' : `${n} partition${n === 1 ? '' : 's'}`})`
      })
      this.opts.log?.(`kafka: connected to ${this.servers}: ${counts.join(', ')}`)
    }
    this.everConnected = true
    this.metadataAt = Date.now()
    this.metadataStale = stale
  }

  /** Partitions without a position: the lake's offset, else --starting-offsets (new ones: earliest). */
  private async resolvePositions(cluster: InternalCluster, force: PartitionState[] = []): Promise<void> {
    const need = [...this.parts.values()].filter((p) => p.position === null && this.owns(key(p.topic, p.partition)))
    for (const p of need) {
      const lake = this.lakeOffsets.get(key(p.topic, p.partition))
      if (lake !== undefined) p.position = lake
    }
    const unresolved = [...need.filter((p) => p.position === null), ...force]
    if (unresolved.length === 0) return
    const [lo, hi] = await Promise.all([this.listOffsets(cluster, unresolved, EARLIEST), this.listOffsets(cluster, unresolved, LATEST)])
    for (const p of unresolved) {
      const k = key(p.topic, p.partition)
      const start = lo.get(k)
      const end = hi.get(k)
      if (start === undefined || end === undefined) continue
      if (p.position === null) {
        // Partitions seen at the first connect follow --starting-offsets; partitions (or topics)
        // that appear later are read from their beginning, so nothing written to them is missed.
        const latest = this.opts.startingOffsets === 'latest' && p.initial
        p.position = latest ? end : start
        p.recordStart = latest
      } else if (p.position < start || p.position > end) {
        const lost = p.position < start ? start - p.position : 0n
        const w =
          p.position < start
            ? `kafka: ${k}: ${lost} message(s) at offsets ${p.position}..${start - 1n} were deleted by the broker (retention) before they were read; continuing at ${start}`
            : `kafka: ${k}: the lake's offset ${p.position} is beyond the partition's end ${end} (topic recreated?); reading from its beginning ${start}`
        this.warnings.push(w.replace(/^kafka: /, ''))
        if (this.warnings.length > 5) this.warnings.shift()
        this.opts.log?.(w)
        p.position = start
        for (const b of p.bufferedBytes) this.bufferedBytes -= b
        p.buffered = []
        p.bufferedBytes = []
      }
    }
  }

  private async listOffsets(cluster: InternalCluster, parts: PartitionState[], timestamp: number): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>()
    await Promise.all(
      this.byLeader(parts).map(async ([leader, list]) => {
        const broker = await cluster.findBroker({ nodeId: leader })
        try {
          const res = await broker.listOffsets({
            replicaId: -1,
            isolationLevel: ISOLATION_READ_COMMITTED,
            topics: this.byTopic(list).map(([topic, ps]) => ({ topic, partitions: ps.map((p) => ({ partition: p.partition, timestamp })) }))
          })
          for (const t of res.responses) for (const p of t.partitions) out.set(key(t.topic, p.partition), BigInt(p.offset))
        } catch (err) {
          // a topic just created or a leader moving: these stay unresolved until the next poll
          const type = (err as { type?: string }).type
          if (!type || !METADATA_ERRORS.has(type)) throw err
          this.metadataStale = true
        }
      })
    )
    return out
  }

  private byLeader(parts: PartitionState[]): [number, PartitionState[]][] {
    const m = new Map<number, PartitionState[]>()
    for (const p of parts) {
      if (p.leader === null || p.leader === undefined || p.leader < 0) continue
      const l = m.get(p.leader) ?? []
      l.push(p)
      m.set(p.leader, l)
    }
    return [...m]
  }

  private byTopic(parts: PartitionState[]): [string, PartitionState[]][] {
    const m = new Map<string, PartitionState[]>()
    for (const p of parts) m.set(p.topic, [...(m.get(p.topic) ?? []), p])
    return [...m]
  }

  // -------------------------------------------------------------------------------------------
  // fetching

  private bufferedTotal(): number {
    return this.bufferedBytes
  }

  /** One Fetch per leader; returns whether any partition has more right now. */
  private async fetchOnce(cluster: InternalCluster, maxWaitMs: number, budget: number): Promise<{ got: number; more: boolean }> {
    const active = [...this.parts.values()].filter((p) => p.position !== null && this.owns(key(p.topic, p.partition)))
    let got = 0
    let more = false
    const maxBytes = Math.max(1024 * 1024, Math.min(budget, 64 * 1024 * 1024))
    const partMax = Math.min(maxBytes, 8 * 1024 * 1024)
    let outOfRange = false
    const results = await Promise.allSettled(
      this.byLeader(active).map(async ([leader, list]) => {
        const broker = await cluster.findBroker({ nodeId: leader })
        const res = await broker.fetch({
          replicaId: -1,
          isolationLevel: ISOLATION_READ_COMMITTED,
          maxWaitTime: maxWaitMs,
          minBytes: 1,
          maxBytes,
          topics: this.byTopic(list).map(([topic, ps]) => ({
            topic,
            partitions: ps.map((p) => ({ partition: p.partition, fetchOffset: String(p.position), maxBytes: partMax }))
          }))
        })
        for (const t of res.responses) {
          for (const pr of t.partitions) {
            const p = this.parts.get(key(t.topicName, pr.partition))
            if (!p || p.position === null) continue
            got += this.take(p, pr)
            const bound = p.stable !== null && p.stable >= 0n ? p.stable : p.hwm
            if (bound !== null && p.position < bound) more = true
          }
        }
      })
    )
    let firstError: unknown = null
    for (const r of results) {
      if (r.status === 'fulfilled') continue
      const type = (r.reason as { type?: string }).type
      if (type === 'OFFSET_OUT_OF_RANGE') outOfRange = true
      else if (type && METADATA_ERRORS.has(type)) this.metadataStale = true
      else firstError ??= r.reason
    }
    if (outOfRange) {
      await this.resolvePositions(cluster, active)
      more = true
    }
    if (firstError) throw firstError
    return { got, more }
  }

  /** Buffers a partition's fetched records past its position; returns how many. */
  private take(p: PartitionState, pr: FetchPartitionResponse): number {
    p.hwm = BigInt(pr.highWatermark)
    p.stable = pr.lastStableOffset !== undefined ? BigInt(pr.lastStableOffset) : null
    if (pr.messages.length === 0 || p.position === null) return 0
    const from = p.position
    const records = pr.messages.filter((m) => BigInt(m.offset) >= from)
    if (records.length === 0) return 0
    const kept = filterAborted({ messages: records, abortedTransactions: pr.abortedTransactions }).filter((m) => !m.isControlRecord)
    for (const m of kept) {
      const size = m.value?.length ?? 0
      p.buffered.push(messageToLine(p.topic, p.partition, m))
      p.bufferedBytes.push(size)
      this.bufferedBytes += size
    }
    // past every record returned, including control records and aborted ones
    p.position = BigInt(records[records.length - 1].offset) + 1n
    return kept.length
  }

  // -------------------------------------------------------------------------------------------
  // the Source contract

  async poll(maxBytes: number): Promise<PlannedBatch | null> {
    for (;;) {
      if (this.prefetching) {
        await this.prefetching
        this.prefetching = null
      }
      if (this.closed || this.interrupted) return null
      if (!this.waitsForAll && Date.now() < this.nextAttemptAt) {
        return this.bufferedTotal() > 0 ? this.plan(maxBytes) : null
      }
      let plan: PlannedBatch | null
      try {
        plan = await this.pollOnce(maxBytes)
      } catch (err) {
        if (this.closed || this.interrupted) return null
        if (!isConnectionError(err)) throw err
        await this.disconnected(err)
        if (this.bufferedTotal() > 0) return this.plan(maxBytes)
        if (!this.waitsForAll) return null
        await this.backoffOrGiveUp()
        continue
      }
      // "Nothing new" only counts once every partition has a leader and a position (right
      // after a topic is created, or during a leader election, some may not yet).
      if (plan || !this.waitsForAll || !this.unsettled()) {
        this.unsettledSince = 0
        return plan
      }
      const which = new Set([...this.leaderless, ...[...this.parts.values()].filter((p) => p.position === null).map((p) => key(p.topic, p.partition))])
      if (!this.unsettledSince) {
        this.unsettledSince = Date.now()
        this.opts.log?.(`kafka: waiting for a leader of ${[...which].join(', ') || 'some partitions'} on ${this.servers}`)
      }
      if (Date.now() - this.unsettledSince >= this.giveUpMs) {
        throw new KafkaUnavailableError(
          `Kafka at ${this.servers}: partitions without a leader after ${Math.round(this.giveUpMs / 100) / 10} s (${[...which].join(', ') || 'unknown'}); ` +
            `is a broker down or an election stuck?`
        )
      }
      await this.sleep(200)
    }
  }

  /** --until-idle, or draining: a null poll must mean "all read", so keep trying until then. */
  private get waitsForAll(): boolean {
    return this.opts.connectTimeoutMs !== null || this.draining
  }

  private get giveUpMs(): number {
    return this.opts.connectTimeoutMs ?? 30_000
  }

  private unsettled(): boolean {
    if (this.metadataStale) return true
    for (const p of this.parts.values()) if (p.position === null && this.owns(key(p.topic, p.partition))) return true
    return false
  }

  /**
   * From now on behave as with --until-idle (used when a running pipeline is asked to finish
   * once idle): return null only when everything up to the high-water marks is read, and give
   * up on an unreachable broker after the connect timeout (30 s by default).
   */
  drain(): void {
    this.draining = true
  }

  private async pollOnce(maxBytes: number): Promise<PlannedBatch | null> {
    if (this.prefetchError) {
      const err = this.prefetchError
      this.prefetchError = null
      throw err
    }
    const cluster = await this.ready()
    const budget = Math.max(1, Math.min(maxBytes, this.opts.maxBatchBytes))
    const started = Date.now()
    const daemon = !this.waitsForAll
    let first = true
    while (this.bufferedTotal() < budget && !this.closed) {
      const wait = first && daemon && this.bufferedTotal() === 0 && !this.hasRecordStart() ? this.opts.maxWaitMs : 0
      first = false
      const { more } = await this.fetchOnce(cluster, wait, budget - this.bufferedTotal())
      if (!more || Date.now() - started > 2_000) break
    }
    const plan = this.plan(budget)
    if (plan) this.prefetch(cluster, budget)
    else if (daemon && !this.closed) {
      // Nothing new: poll again soon (the next fetch waits on the broker up to maxWaitMs).
      setImmediate(() => this.wake())
    }
    return plan
  }

  /**
   * While the engine writes a batch (DuckDB works on its own threads), fetch the next one. The
   * next poll waits for this first; an error is raised there. Only the in-memory buffer moves:
   * offsets reach the lake with the batch that takes the messages, as always.
   */
  private prefetch(cluster: InternalCluster, budget: number): void {
    if (this.closed || this.bufferedTotal() >= budget) return
    this.prefetching = (async () => {
      const started = Date.now()
      try {
        while (!this.closed && this.bufferedTotal() < budget && Date.now() - started < 2_000) {
          const { more } = await this.fetchOnce(cluster, 0, budget - this.bufferedTotal())
          if (!more) break
        }
      } catch (err) {
        if (!this.closed) this.prefetchError = err
      }
    })()
  }

  private hasRecordStart(): boolean {
    for (const p of this.parts.values()) if (p.recordStart) return true
    return false
  }

  /**
   * Up to `budget` bytes of buffered messages: one lines segment per partition, customers first.
   * (One segment per partition, not per topic: the lake orders a batch's rows by segment, then
   * by offset within it, and offsets repeat across partitions.)
   */
  private plan(budget: number): PlannedBatch | null {
    const segments: LinesSegment[] = []
    const offsets: OffsetUpdate[] = []
    let bytes = 0
    let newest = -1
    for (const { topic, stream } of this.topics) {
      for (const p of [...this.parts.values()].filter((x) => x.topic === topic && this.owns(key(x.topic, x.partition))).sort((a, b) => a.partition - b.partition)) {
        let n = 0
        const before = bytes
        while (n < p.buffered.length && (bytes === 0 || bytes + p.bufferedBytes[n] <= budget)) {
          bytes += p.bufferedBytes[n]
          n++
        }
        this.bufferedBytes -= bytes - before
        if (n === 0 && !p.recordStart) continue
        if (n > 0) {
          const lines = p.buffered.splice(0, n)
          p.bufferedBytes.splice(0, n)
          segments.push({ type: 'lines', stream, source: topic, lines })
          for (const l of lines) {
            const t = l.kafka?.timestamp ? Date.parse(l.kafka.timestamp) : -1
            if (t > newest) newest = t
          }
          const next = p.buffered.length > 0 ? BigInt(lines[lines.length - 1].kafka!.offset) + 1n : p.position!
          offsets.push({ sourceKind: KAFKA_SOURCE_KIND, key: key(p.topic, p.partition), offset: next })
        } else if (p.position !== null) {
          offsets.push({ sourceKind: KAFKA_SOURCE_KIND, key: key(p.topic, p.partition), offset: p.position })
        }
      }
    }
    if (offsets.length === 0) return null
    return {
      segments,
      offsets,
      bytes,
      newestInputAt: newest >= 0 ? new Date(newest) : null
    }
  }

  async afterCommit(batch: PlannedBatch): Promise<void> {
    for (const o of batch.offsets) {
      if (o.sourceKind !== KAFKA_SOURCE_KIND) continue
      this.lakeOffsets.set(o.key, o.offset)
      const p = this.parts.get(o.key)
      if (p) {
        p.lake = o.offset
        p.recordStart = false
      }
    }
    if (this.opts.groupId || this.group) this.commitToGroup(batch.offsets)
  }

  // -------------------------------------------------------------------------------------------
  // shared consumer group

  /**
   * Called between batches (the one in flight is in the lake): forget every buffered message and
   * position, join the group with the lake's offsets of the partitions owned so far (their next
   * owners start there), and position the partitions now owned. Where one starts: the highest of
   * this lake's offset, the offset its previous owner reported in the rebalance and the group's
   * committed offset; none of them: --starting-offsets. Messages below it are in another lake
   * (or, for this lake's own offset, in this one).
   */
  private async rejoin(cluster: InternalCluster): Promise<void> {
    const group = this.group!
    if (this.groupCommit) await this.groupCommit
    const reported = new Map<string, bigint>()
    for (const k of this.owned ?? []) {
      const o = this.lakeOffsets.get(k)
      if (o !== undefined) reported.set(k, o)
    }
    for (const p of this.parts.values()) {
      for (const b of p.bufferedBytes) this.bufferedBytes -= b
      p.buffered = []
      p.bufferedBytes = []
      p.position = null
      p.recordStart = false
    }
    this.owned = new Set()
    const partitionsOf = new Map(this.topics.map(({ topic }) => [topic, [...this.parts.values()].filter((p) => p.topic === topic).map((p) => p.partition)]))
    const a = await group.join(cluster, partitionsOf, reported, () => this.wake())
    const committed = await group.committed(cluster, a.owned)
    for (const k of a.owned) {
      const p = this.parts.get(k)
      if (!p) continue
      const lake = this.lakeOffsets.get(k)
      let start: bigint | undefined
      for (const o of [lake, a.handover.get(k), committed.get(k)]) if (o !== undefined && (start === undefined || o > start)) start = o
      if (start === undefined) continue
      p.position = start
      // the lake records where it now stands, even before a message arrives (lag, restarts)
      p.recordStart = lake === undefined || start > lake
    }
    this.owned = a.owned
    // The group's offsets must say what the lakes hold: a commit refused during the rebalance, or
    // a hand-over, leaves them behind, and a member that dies next would hand over from there.
    const behind: OffsetUpdate[] = []
    for (const k of a.owned) {
      const at = this.parts.get(k)?.position
      const c = committed.get(k)
      if (at !== null && at !== undefined && (c === undefined || at > c)) behind.push({ sourceKind: KAFKA_SOURCE_KIND, key: k, offset: at })
    }
    if (behind.length) this.commitToGroup(behind)
    const owned = this.share()!.owned
    this.opts.log?.(
      `kafka: group ${this.opts.shareGroup} generation ${a.generation}: this pipeline owns ${owned.length ? owned.join(', ') : 'no partition'} (${a.members} member${a.members === 1 ? '' : 's'})`
    )
  }

  // -------------------------------------------------------------------------------------------
  // consumer-group offsets (informational only)

  private commitToGroup(offsets: OffsetUpdate[]): void {
    this.groupPending ??= new Map()
    for (const o of offsets) this.groupPending.set(o.key, o.offset)
    if (this.groupCommit) return
    this.groupCommit = (async () => {
      while (this.groupPending) {
        const pending = this.groupPending
        this.groupPending = null
        try {
          await this.sendGroupCommit(pending)
          this.groupError = null
        } catch (err) {
          this.coordinator = null
          this.groupError = rootMessage(err)
        }
      }
    })().finally(() => {
      this.groupCommit = null
    })
  }

  private async sendGroupCommit(pending: Map<string, bigint>): Promise<void> {
    const cluster = this.cluster
    if (!cluster || this.waiting) return
    if (this.group) return this.group.commit(cluster, pending)
    this.coordinator ??= await cluster.findGroupCoordinator({ groupId: this.opts.groupId! })
    const topics = new Map<string, { partition: number; offset: string }[]>()
    for (const [k, off] of pending) {
      const i = k.lastIndexOf('/')
      const topic = k.slice(0, i)
      topics.set(topic, [...(topics.get(topic) ?? []), { partition: Number(k.slice(i + 1)), offset: String(off) }])
    }
    // generation -1 and no member id: a commit outside any group generation ("simple consumer")
    await this.coordinator.offsetCommit({
      groupId: this.opts.groupId!,
      groupGenerationId: -1,
      memberId: '',
      retentionTime: -1,
      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions }))
    })
  }

  // -------------------------------------------------------------------------------------------
  // broker unavailable

  private async disconnected(err: unknown): Promise<void> {
    const reason = rootMessage(err)
    const msg = `waiting for Kafka at ${this.servers} (${reason})`
    if (this.waiting !== msg) this.opts.log?.(`kafka: ${msg}; retrying with backoff`)
    this.waiting = msg
    if (!this.waitingSince) this.waitingSince = Date.now()
    this.attempts++
    this.coordinator = null
    this.group?.disconnected()
    this.metadataStale = true
    const cluster = this.cluster
    this.cluster = null
    await cluster?.disconnect().catch(() => undefined)
    const delay = this.backoffMs()
    this.nextAttemptAt = Date.now() + delay
    if (!this.waitsForAll && !this.closed) {
      if (this.retryTimer) clearTimeout(this.retryTimer)
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null
        this.wake()
      }, delay)
      this.retryTimer.unref?.()
    }
  }

  private backoffMs(): number {
    return Math.min(5_000, 250 * 2 ** Math.min(this.attempts - 1, 5))
  }

  private async backoffOrGiveUp(): Promise<void> {
    const limit = this.giveUpMs
    const waited = Date.now() - this.waitingSince
    if (waited >= limit) {
      throw new KafkaUnavailableError(
        `could not reach Kafka at ${this.servers} within ${Math.round(limit / 100) / 10} s (${this.waiting?.replace(/^.*\((.*)\)$/, '$1') ?? 'no answer'}); ` +
          `is the broker running and is --kafka-servers right?`
      )
    }
    await this.sleep(Math.min(this.backoffMs(), limit - waited))
  }

  /** A pause that interrupt() and close() end at once. */
  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        resolve()
      }
      this.wakeSleep = done
    })
    this.wakeSleep = null
  }

  /** Stop: polls return null from now on, and a wait for an unreachable broker ends at once. */
  interrupt(): void {
    this.interrupted = true
    this.wakeSleep?.()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.wakeSleep?.()
    this.listeners.clear()
    if (this.groupCommit) {
      await Promise.race([this.groupCommit, new Promise((r) => setTimeout(r, 2_000).unref?.())])
    }
    // after the last commit: the others take our partitions from those offsets at once
    await this.group?.leave()
    const cluster = this.cluster
    this.cluster = null
    await cluster?.disconnect().catch(() => undefined)
    await this.prefetching // its requests fail fast once disconnected; it never rejects
  }
}
