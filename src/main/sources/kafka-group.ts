import { consumerProtocol, rootMessage, type InternalBroker, type InternalCluster } from './kafka-client'

// Membership of a shared consumer group (`kafka.shareGroup`, docs/SCALING.md): several pipelines,
// each with its own lake, split the partitions of the orders and customers topics. This module
// speaks the group protocol (JoinGroup, SyncGroup, Heartbeat, OffsetCommit, OffsetFetch,
// LeaveGroup) through KafkaJS's broker API; KafkaSource decides when to rejoin (between batches
// only) and where each partition it gets starts.
//
// Hand-over: each member's JoinGroup carries, in the "consumer" protocol's userData, the offsets
// its lake holds for the partitions it owned. The leader hands every partition's highest reported
// offset to its next owner inside the assignment, so a graceful hand-over does not depend on an
// OffsetCommit landing before the new owner reads it (a coordinator refuses commits while a
// rebalance is in progress). A member that died reports nothing; its partitions start from the
// group's committed offsets instead.

export const SHARE_PROTOCOL = 'streamdesk-copartitioned'

export interface GroupOptions {
  groupId: string
  /** The topics the members split: customers first, then orders (the order of assignment). */
  topics: string[]
  /** The coordinator drops a member it has not heard from for this long (ms). */
  sessionTimeoutMs: number
  /** How long the coordinator waits for every member to rejoin in a rebalance (ms). */
  rebalanceTimeoutMs: number
  log?: (line: string) => void
}

export interface Assignment {
  generation: number
  memberId: string
  members: number
  /** "topic/partition" keys this member owns. */
  owned: Set<string>
  /** Offsets the previous owners' lakes hold for the owned partitions, as they reported them. */
  handover: Map<string, bigint>
}

const key = (topic: string, partition: number) => `${topic}/${partition}`

/**
 * Co-partitioned round-robin: partition number n of every topic goes to the same member, members
 * sorted by id take the sorted partition numbers in turn. Both topics are keyed by customer_id
 * with the same partitioner, so a customer's profile and orders land in one lake when the topics
 * have as many partitions. Deterministic: the same members and partitions give the same answer.
 */
export function assignPartitions(memberIds: readonly string[], partitionsOf: ReadonlyMap<string, readonly number[]>): Map<string, Map<string, number[]>> {
  const members = [...memberIds].sort()
  const numbers = [...new Set([...partitionsOf.values()].flat())].sort((a, b) => a - b)
  const out = new Map(members.map((m) => [m, new Map<string, number[]>()]))
  if (members.length === 0) return out
  numbers.forEach((n, i) => {
    const member = out.get(members[i % members.length])!
    for (const [topic, parts] of partitionsOf) {
      if (!parts.includes(n)) continue
      member.set(topic, [...(member.get(topic) ?? []), n])
    }
  })
  return out
}

function encodeOffsets(offsets: ReadonlyMap<string, bigint>): Buffer {
  return Buffer.from(JSON.stringify({ offsets: Object.fromEntries([...offsets].map(([k, v]) => [k, String(v)])) }))
}

/** A member's or an assignment's userData; anything unreadable counts as none (a foreign member). */
function decodeUserData(data: Buffer | null | undefined): { members: number; offsets: Map<string, bigint> } {
  const offsets = new Map<string, bigint>()
  let members = 0
  if (!data || data.length === 0) return { members, offsets }
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { members?: number; offsets?: Record<string, string> }
    for (const [k, v] of Object.entries(parsed.offsets ?? {})) if (/^\d+$/.test(v)) offsets.set(k, BigInt(v))
    if (typeof parsed.members === 'number') members = parsed.members
  } catch {
    // not ours: no hand-over offsets from this member
  }
  return { members, offsets }
}

export class GroupRebalanceError extends Error {}

export class GroupMember {
  private memberId = ''
  private generation = -1
  private coordinator: InternalBroker | null = null
  private cluster: InternalCluster | null = null
  private heartbeatTimer: NodeJS.Timeout | null = null
  private lastHeartbeatOk = 0
  private rejoinNeeded = true
  private onRebalance: (() => void) | null = null
  current: Assignment | null = null
  /** Why the last heartbeat or commit failed (null: fine). */
  error: string | null = null

  constructor(private readonly opts: GroupOptions) {}

  /** True when the next poll must rejoin before it reads (first join, rebalance, lost membership). */
  get needsJoin(): boolean {
    if (this.rejoinNeeded) return true
    // Without a heartbeat answer for a session timeout the coordinator has most likely given our
    // partitions to someone else: stop reading them (no two lakes should take the same messages).
    if (Date.now() - this.lastHeartbeatOk > this.opts.sessionTimeoutMs) {
      this.opts.log?.(`kafka: group ${this.opts.groupId}: no heartbeat answer for ${this.opts.sessionTimeoutMs} ms; rejoining`)
      this.rejoinNeeded = true
    }
    return this.rejoinNeeded
  }

  /** A new partition or topic appeared: the leader must assign it, so everyone rejoins. */
  requestRejoin(): void {
    this.rejoinNeeded = true
  }

  /**
   * Joins (or rejoins) the group and returns this member's partitions. `offsets`: what this
   * member's lake holds for the partitions it owned, for their next owners. Blocks until every
   * member has rejoined (up to the rebalance timeout), as the protocol requires.
   */
  async join(cluster: InternalCluster, partitionsOf: ReadonlyMap<string, readonly number[]>, offsets: ReadonlyMap<string, bigint>, wake: () => void): Promise<Assignment> {
    this.stopHeartbeat()
    this.onRebalance = wake
    if (this.cluster !== cluster) this.coordinator = null
    this.cluster = cluster
    const proto = consumerProtocol()
    const { groupId } = this.opts
    for (let attempt = 0; ; attempt++) {
      this.coordinator ??= await cluster.findGroupCoordinator({ groupId })
      let syncing = false
      try {
        const joined = await this.coordinator.joinGroup({
          groupId,
          sessionTimeout: this.opts.sessionTimeoutMs,
          rebalanceTimeout: this.opts.rebalanceTimeoutMs,
          memberId: this.memberId,
          protocolType: 'consumer',
          groupProtocols: [{ name: SHARE_PROTOCOL, metadata: proto.MemberMetadata.encode({ version: 0, topics: this.opts.topics, userData: encodeOffsets(offsets) }) }]
        })
        this.memberId = joined.memberId
        this.generation = joined.generationId
        let groupAssignment: { memberId: string; memberAssignment: Buffer }[] = []
        if (joined.leaderId === joined.memberId) groupAssignment = this.lead(joined.members, partitionsOf)
        syncing = true
        const synced = await this.coordinator.syncGroup({ groupId, generationId: this.generation, memberId: this.memberId, groupAssignment })
        const mine = proto.MemberAssignment.decode(synced.memberAssignment)
        const owned = new Set<string>()
        for (const [topic, parts] of Object.entries(mine?.assignment ?? {})) for (const p of parts) owned.add(key(topic, p))
        const { members, offsets: handover } = decodeUserData(mine?.userData)
        this.current = { generation: this.generation, memberId: this.memberId, members, owned, handover }
        this.rejoinNeeded = false
        this.lastHeartbeatOk = Date.now()
        this.error = null
        this.startHeartbeat()
        return this.current
      } catch (err) {
        const type = (err as { type?: string }).type
        if (type === 'UNKNOWN_MEMBER_ID') this.memberId = ''
        else if (type === 'NOT_COORDINATOR' || type === 'COORDINATOR_NOT_AVAILABLE' || type === 'COORDINATOR_LOAD_IN_PROGRESS') this.coordinator = null
        else if (type === 'INVALID_REQUEST' && syncing) {
          // librdkafka's mock coordinator completes a generation as soon as the leader's SyncGroup
          // carries every assignment, and answers a member whose SyncGroup comes after that with
          // INVALID_REQUEST; its assignment is lost, so join again (a new generation for everyone).
        } else if (type !== 'REBALANCE_IN_PROGRESS' && type !== 'ILLEGAL_GENERATION') throw err
        // The group moved on while we joined (another member came or went): join again.
        if (attempt >= 20) throw new GroupRebalanceError(`could not join consumer group ${groupId}: ${rootMessage(err)}`)
      }
    }
  }

  /** The leader's part: every member's partitions and the hand-over offsets that go with them. */
  private lead(members: { memberId: string; memberMetadata: Buffer }[], partitionsOf: ReadonlyMap<string, readonly number[]>) {
    const proto = consumerProtocol()
    const reported = new Map<string, bigint>()
    for (const m of members) {
      const meta = proto.MemberMetadata.decode(m.memberMetadata)
      for (const [k, v] of decodeUserData(meta?.userData).offsets) if (!reported.has(k) || reported.get(k)! < v) reported.set(k, v)
    }
    const plan = assignPartitions(
      members.map((m) => m.memberId),
      partitionsOf
    )
    return [...plan].map(([memberId, topics]) => {
      const handover = new Map<string, bigint>()
      for (const [topic, parts] of topics) for (const p of parts) if (reported.has(key(topic, p))) handover.set(key(topic, p), reported.get(key(topic, p))!)
      const userData = Buffer.from(
        JSON.stringify({ members: members.length, offsets: Object.fromEntries([...handover].map(([k, v]) => [k, String(v)])) })
      )
      return { memberId, memberAssignment: proto.MemberAssignment.encode({ version: 0, assignment: Object.fromEntries(topics), userData }) }
    })
  }

  private startHeartbeat(): void {
    const every = Math.max(100, Math.floor(this.opts.sessionTimeoutMs / 3))
    const beat = async () => {
      this.heartbeatTimer = null
      if (this.rejoinNeeded || !this.cluster) return
      try {
        this.coordinator ??= await this.cluster.findGroupCoordinator({ groupId: this.opts.groupId })
        await this.coordinator.heartbeat({ groupId: this.opts.groupId, groupGenerationId: this.generation, memberId: this.memberId })
        this.lastHeartbeatOk = Date.now()
        this.error = null
      } catch (err) {
        const type = (err as { type?: string }).type
        if (type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID' || type === 'FENCED_INSTANCE_ID') {
          if (type === 'UNKNOWN_MEMBER_ID') this.memberId = ''
          this.opts.log?.(`kafka: group ${this.opts.groupId}: rebalance (${type}); finishing the batch in flight, then rejoining`)
          this.rejoinNeeded = true
          this.onRebalance?.()
          return
        }
        this.error = rootMessage(err)
        this.coordinator = null
      }
      if (!this.rejoinNeeded && this.heartbeatTimer === null && this.onRebalance) {
        this.heartbeatTimer = setTimeout(() => void beat(), every)
        this.heartbeatTimer.unref?.()
      }
    }
    this.heartbeatTimer = setTimeout(() => void beat(), every)
    this.heartbeatTimer.unref?.()
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = null
  }

  /** The group's committed offsets of `keys` ("topic/partition"); partitions without one are absent. */
  async committed(cluster: InternalCluster, keys: Iterable<string>): Promise<Map<string, bigint>> {
    const byTopic = new Map<string, { partition: number }[]>()
    for (const k of keys) {
      const i = k.lastIndexOf('/')
      byTopic.set(k.slice(0, i), [...(byTopic.get(k.slice(0, i)) ?? []), { partition: Number(k.slice(i + 1)) }])
    }
    const out = new Map<string, bigint>()
    if (byTopic.size === 0) return out
    this.coordinator ??= await cluster.findGroupCoordinator({ groupId: this.opts.groupId })
    const res = await this.coordinator.offsetFetch({ groupId: this.opts.groupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) })
    for (const t of res.responses) for (const p of t.partitions) if (p.errorCode === 0 && /^\d+$/.test(p.offset)) out.set(key(t.topic, p.partition), BigInt(p.offset))
    return out
  }

  /**
   * Commits the lake's offsets of owned partitions in this generation. Never a partition we no
   * longer own: its new owner may already have committed further, and ours would move it back.
   */
  async commit(cluster: InternalCluster, offsets: ReadonlyMap<string, bigint>): Promise<void> {
    const owned = this.current?.owned
    if (!owned || this.rejoinNeeded) return
    const topics = new Map<string, { partition: number; offset: string }[]>()
    for (const [k, off] of offsets) {
      if (!owned.has(k)) continue
      const i = k.lastIndexOf('/')
      topics.set(k.slice(0, i), [...(topics.get(k.slice(0, i)) ?? []), { partition: Number(k.slice(i + 1)), offset: String(off) }])
    }
    if (topics.size === 0) return
    this.coordinator ??= await cluster.findGroupCoordinator({ groupId: this.opts.groupId })
    await this.coordinator.offsetCommit({
      groupId: this.opts.groupId,
      groupGenerationId: this.generation,
      memberId: this.memberId,
      retentionTime: -1,
      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions }))
    })
  }

  /** Leaves at once (a graceful stop), so the others take our partitions without a session timeout. */
  async leave(): Promise<void> {
    this.stopHeartbeat()
    this.onRebalance = null
    const coordinator = this.coordinator
    if (!coordinator || !this.memberId) return
    try {
      await coordinator.leaveGroup({ groupId: this.opts.groupId, memberId: this.memberId })
      this.opts.log?.(`kafka: group ${this.opts.groupId}: left`)
    } catch (err) {
      this.opts.log?.(`kafka: group ${this.opts.groupId}: could not leave (${rootMessage(err)}); the others take over after the session timeout`)
    }
    this.memberId = ''
    this.current = null
  }

  /** The source lost its connection (and builds a new cluster): rejoin through the new one. */
  disconnected(): void {
    this.stopHeartbeat()
    this.coordinator = null
    this.cluster = null
    this.rejoinNeeded = true
  }
}
