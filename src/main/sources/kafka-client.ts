import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import type { Producer } from 'kafkajs'

// The one place that talks to KafkaJS. The generator's sink uses its public producer; the source
// reads partitions at offsets it chooses, which KafkaJS only offers below its public API (its
// consumer always joins a consumer group). So this module builds KafkaJS's `Cluster` (connections,
// SASL/TLS, metadata, broker pool) and calls its brokers' Fetch, ListOffsets, Metadata and
// OffsetCommit requests directly (and, for a shared group, kafka-group.ts's JoinGroup, SyncGroup,
// Heartbeat, OffsetFetch and LeaveGroup). Those internals are typed here by hand, for the pinned KafkaJS
// 2.2.x; docs/ARCHITECTURE.md ("Kafka client") says why.

const cjsRequire = createRequire(import.meta.url)

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512'

export interface KafkaTls {
  /** PEM text of the certificate authorities to trust (default: Node's bundled roots). */
  ca?: string[]
  /** PEM client certificate and key (mutual TLS). */
  cert?: string
  key?: string
  /** false accepts any server certificate (testing only). Default true. */
  rejectUnauthorized?: boolean
  /** TLS server name, when it differs from the host in --kafka-servers. */
  servername?: string
}

export interface KafkaConnection {
  /** HOST:PORT of one or more bootstrap brokers. */
  servers: string[]
  clientId?: string
  /** true = TLS with default options. */
  tls?: KafkaTls | boolean
  sasl?: { mechanism: SaslMechanism; username: string; password: string }
  /** TCP/TLS connect timeout per broker (ms). Default 3000. */
  connectionTimeoutMs?: number
}

export const DEFAULT_CLIENT_ID = 'streamdesk'

export function describeServers(servers: readonly string[]): string {
  return servers.join(',')
}

// ---------------------------------------------------------------------------------------------
// KafkaJS internals used here (kafkajs/src/cluster, kafkajs/src/broker), as far as we use them.

export interface FetchedRecord {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  isControlRecord?: boolean
  batchContext?: { isTransactional?: boolean; producerId?: string }
}

export interface FetchPartitionResponse {
  partition: number
  errorCode: number
  highWatermark: string
  lastStableOffset?: string
  abortedTransactions?: { producerId: string; firstOffset: string }[]
  messages: FetchedRecord[]
}

export interface MetadataPartition {
  partitionId: number
  leader: number
  partitionErrorCode: number
}

export interface InternalBroker {
  nodeId: number | string | null
  metadata(topics: string[]): Promise<{
    brokers: { nodeId: number; host: string; port: number }[]
    topicMetadata: { topic: string; topicErrorCode: number; partitionMetadata: MetadataPartition[] }[]
  }>
  fetch(args: {
    replicaId?: number
    isolationLevel: number
    maxWaitTime: number
    minBytes: number
    maxBytes: number
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[]
  }): Promise<{ responses: { topicName: string; partitions: FetchPartitionResponse[] }[] }>
  listOffsets(args: {
    replicaId?: number
    isolationLevel: number
    topics: { topic: string; partitions: { partition: number; timestamp: number }[] }[]
  }): Promise<{ responses: { topic: string; partitions: { partition: number; offset: string; errorCode: number }[] }[] }>
  offsetCommit(args: {
    groupId: string
    groupGenerationId: number
    memberId: string
    retentionTime?: number
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[]
  }): Promise<unknown>
  offsetFetch(args: {
    groupId: string
    topics: { topic: string; partitions: { partition: number }[] }[]
  }): Promise<{ responses: { topic: string; partitions: { partition: number; offset: string; errorCode: number }[] }[] }>
  joinGroup(args: {
    groupId: string
    sessionTimeout: number
    rebalanceTimeout: number
    memberId: string
    protocolType: string
    groupProtocols: { name: string; metadata: Buffer }[]
  }): Promise<{ generationId: number; groupProtocol: string; leaderId: string; memberId: string; members: { memberId: string; memberMetadata: Buffer }[] }>
  syncGroup(args: {
    groupId: string
    generationId: number
    memberId: string
    groupAssignment: { memberId: string; memberAssignment: Buffer }[]
  }): Promise<{ memberAssignment: Buffer }>
  heartbeat(args: { groupId: string; groupGenerationId: number; memberId: string }): Promise<unknown>
  leaveGroup(args: { groupId: string; memberId: string }): Promise<unknown>
}

export interface InternalCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  isConnected(): boolean
  refreshMetadata(): Promise<void>
  findBroker(args: { nodeId: string | number }): Promise<InternalBroker>
  findControllerBroker(): Promise<InternalBroker>
  findGroupCoordinator(args: { groupId: string }): Promise<InternalBroker>
  brokerPool: { findConnectedBroker(): Promise<InternalBroker> }
}

/** READ_COMMITTED: aborted transactional messages are never returned. */
export const ISOLATION_READ_COMMITTED = 1
/** ListOffsets timestamps. */
export const EARLIEST = -2
export const LATEST = -1

interface KafkaJsInternals {
  Cluster: new (opts: Record<string, unknown>) => InternalCluster
  createProducer: (opts: Record<string, unknown>) => Producer
  createLogger: (opts: { level: number; logCreator: unknown }) => unknown
  socketFactory: () => unknown
  Partitioners: { DefaultPartitioner: unknown }
  levels: Record<string, number>
  AssignerProtocol: AssignerProtocol
}

/** KafkaJS's encoding of the "consumer" protocol's member metadata and assignment. */
interface AssignerProtocol {
  MemberMetadata: {
    encode(m: { version: number; topics: string[]; userData: Buffer }): Buffer
    decode(b: Buffer): { version: number; topics: string[]; userData: Buffer } | null
  }
  MemberAssignment: {
    encode(m: { version: number; assignment: Record<string, number[]>; userData: Buffer }): Buffer
    decode(b: Buffer): { version: number; assignment: Record<string, number[]>; userData: Buffer } | null
  }
}

let internals: KafkaJsInternals | null = null
function kafkajs(): KafkaJsInternals {
  if (!internals) {
    const pub = cjsRequire('kafkajs') as {
      Partitioners: { DefaultPartitioner: unknown }
      logLevel: Record<string, number>
      AssignerProtocol: AssignerProtocol
    }
    internals = {
      Cluster: cjsRequire('kafkajs/src/cluster/index.js'),
      createProducer: cjsRequire('kafkajs/src/producer/index.js'),
      createLogger: cjsRequire('kafkajs/src/loggers/index.js').createLogger,
      socketFactory: cjsRequire('kafkajs/src/network/socketFactory.js'),
      Partitioners: pub.Partitioners,
      levels: pub.logLevel,
      AssignerProtocol: pub.AssignerProtocol
    }
  }
  return internals
}

/**
 * The "consumer" protocol's encodings (what Kafka's tools decode to show a group's members and
 * their partitions); StreamDesk's own data rides in their userData.
 */
export function consumerProtocol(): AssignerProtocol {
  return kafkajs().AssignerProtocol
}

/**
 * KafkaJS logs through this. Silent unless STREAMDESK_KAFKA_LOG=error|warn|info|debug: connection
 * failures are reported by the source's own status line instead of a stack per retry.
 */
function logger(): unknown {
  const k = kafkajs()
  const wanted = (process.env.STREAMDESK_KAFKA_LOG ?? '').toUpperCase()
  const level = k.levels[wanted] ?? k.levels.NOTHING
  const logCreator = () => (entry: { namespace: string; label: string; log: { message: string } }) => {
    console.error(`kafkajs ${entry.label} [${entry.namespace}] ${entry.log.message}`)
  }
  return k.createLogger({ level, logCreator })
}

function tlsOptions(t: KafkaConnection['tls']): ConnectionOptions | boolean | undefined {
  if (!t) return undefined
  if (t === true) return true
  const o: ConnectionOptions = {}
  if (t.ca) o.ca = t.ca
  if (t.cert) o.cert = t.cert
  if (t.key) o.key = t.key
  if (t.rejectUnauthorized === false) o.rejectUnauthorized = false
  if (t.servername) o.servername = t.servername
  return o
}

export interface ClusterOptions {
  allowAutoTopicCreation?: boolean
  maxInFlightRequests?: number | null
  /** KafkaJS retry policy for its own internal retries (connect, metadata). */
  retries?: number
  requestTimeoutMs?: number
}

/** A KafkaJS Cluster: connections (with TLS/SASL), broker pool and metadata. */
export function createCluster(conn: KafkaConnection, opts: ClusterOptions = {}): InternalCluster {
  const k = kafkajs()
  const cluster = new k.Cluster({
    logger: logger(),
    socketFactory: k.socketFactory(),
    brokers: conn.servers,
    ssl: tlsOptions(conn.tls),
    sasl: conn.sasl,
    clientId: conn.clientId ?? DEFAULT_CLIENT_ID,
    connectionTimeout: conn.connectionTimeoutMs ?? 3000,
    authenticationTimeout: 10_000,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    enforceRequestTimeout: true,
    metadataMaxAge: 300_000,
    retry: { retries: opts.retries ?? 5 },
    allowAutoTopicCreation: opts.allowAutoTopicCreation ?? false,
    maxInFlightRequests: opts.maxInFlightRequests ?? null,
    isolationLevel: ISOLATION_READ_COMMITTED
  })
  // KafkaJS sends InitProducerId (idempotent producer) to the controller broker. Any broker may
  // answer it, and some brokers report a controller id that is not in their broker list
  // (librdkafka's mock cluster reports 0): fall back to any connected broker then.
  const findController = cluster.findControllerBroker.bind(cluster)
  cluster.findControllerBroker = async () => {
    try {
      return await findController()
    } catch (err) {
      if ((err as Error).name === 'KafkaJSBrokerNotFound' || (err as Error).name === 'KafkaJSMetadataNotLoaded') {
        return cluster.brokerPool.findConnectedBroker()
      }
      throw err
    }
  }
  return cluster
}

export interface ProducerOptions {
  /** Idempotent producer (KafkaJS: acks from all in-sync replicas, one request in flight). Default true. */
  idempotent?: boolean
  allowAutoTopicCreation?: boolean
  /** Retries of a request before it fails (default: unbounded when idempotent, else 10). */
  retries?: number
}

/**
 * A KafkaJS producer with the DefaultPartitioner (murmur2 of the key, as the Java client), so
 * one key always lands in one partition. Idempotent by default; retries are KafkaJS's default for
 * an idempotent producer (unbounded, with backoff), so a broker hiccup delays but loses nothing.
 */
export function createProducer(conn: KafkaConnection, opts: ProducerOptions = {}): Producer {
  const k = kafkajs()
  const idempotent = opts.idempotent ?? true
  const cluster = createCluster(conn, {
    allowAutoTopicCreation: opts.allowAutoTopicCreation ?? true,
    maxInFlightRequests: idempotent ? 1 : null,
    retries: opts.retries ?? 10
  })
  return k.createProducer({
    retry: { retries: opts.retries ?? (idempotent ? Number.MAX_SAFE_INTEGER : 10), maxRetryTime: 5_000 },
    logger: logger(),
    cluster,
    createPartitioner: k.Partitioners.DefaultPartitioner,
    idempotent
  })
}

/** Connection-level trouble (broker down, refused, timed out, TLS/SASL handshake failed). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; cause?: unknown; retriable?: boolean }
  if (!e) return false
  const names = [
    'KafkaJSConnectionError',
    'KafkaJSConnectionClosedError',
    'KafkaJSRequestTimeoutError',
    'KafkaJSBrokerNotFound',
    'KafkaJSLockTimeout',
    'KafkaJSSASLAuthenticationError'
  ]
  if (e.name && names.includes(e.name)) return true
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return true
  return e.cause ? isConnectionError(e.cause) : false
}

/** The innermost message of a KafkaJS error chain (the useful one, e.g. "connect ECONNREFUSED"). */
export function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined
  let msg = e?.message ?? String(err)
  for (let i = 0; i < 5 && e?.cause; i++) {
    e = e.cause as { message?: string; cause?: unknown }
    if (e?.message) msg = e.message
  }
  return msg.replace(/^Connection error: /, '')
}

/**
 * TLS and SASL for the app, whose settings hold only brokers and topics:
 * STREAMDESK_KAFKA_TLS=1, STREAMDESK_KAFKA_TLS_CA=<PEM file>, STREAMDESK_KAFKA_TLS_INSECURE=1,
 * STREAMDESK_KAFKA_SASL_MECHANISM=plain|scram-sha-256|scram-sha-512,
 * STREAMDESK_KAFKA_SASL_USERNAME, STREAMDESK_KAFKA_SASL_PASSWORD.
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv): Pick<KafkaConnection, 'tls' | 'sasl'> {
  const out: Pick<KafkaConnection, 'tls' | 'sasl'> = {}
  const ca = env.STREAMDESK_KAFKA_TLS_CA
  const insecure = env.STREAMDESK_KAFKA_TLS_INSECURE === '1'
  if (env.STREAMDESK_KAFKA_TLS === '1' || ca || insecure) {
    out.tls = {
      ...(ca ? { ca: [readFileSync(ca, 'utf8')] } : {}),
      ...(insecure ? { rejectUnauthorized: false } : {})
    }
  }
  const mechanism = env.STREAMDESK_KAFKA_SASL_MECHANISM?.toLowerCase()
  if (mechanism) {
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new Error(`STREAMDESK_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512, got '${mechanism}'`)
    }
    out.sasl = { mechanism, username: env.STREAMDESK_KAFKA_SASL_USERNAME ?? '', password: env.STREAMDESK_KAFKA_SASL_PASSWORD ?? '' }
  }
  return out
}
