import { createCluster, describeServers, rootMessage, type KafkaConnection } from './kafka-client'

// `streamdesk doctor`'s look at Kafka: can the brokers be reached (with the TLS and SASL given),
// and do the two topics exist, with how many partitions. One attempt, bounded in time: a doctor
// reports a broker that is down, it does not wait for it.

export type KafkaProbe =
  | { reachable: false; servers: string; reason: string }
  | { reachable: true; servers: string; topics: { topic: string; partitions: number | null }[] }

export async function probeKafka(conn: KafkaConnection, topics: string[], timeoutMs = 5000): Promise<KafkaProbe> {
  const servers = describeServers(conn.servers)
  const cluster = createCluster({ ...conn, connectionTimeoutMs: Math.min(timeoutMs, conn.connectionTimeoutMs ?? timeoutMs) }, { retries: 0, requestTimeoutMs: timeoutMs })
  try {
    await cluster.connect()
    await cluster.refreshMetadata()
    const broker = await cluster.brokerPool.findConnectedBroker()
    const found: { topic: string; partitions: number | null }[] = []
    for (const topic of topics) {
      try {
        const md = await broker.metadata([topic])
        const t = md.topicMetadata.find((m) => m.topic === topic)
        found.push({ topic, partitions: t && t.topicErrorCode === 0 ? t.partitionMetadata.length : null })
      } catch (err) {
        if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err
        found.push({ topic, partitions: null })
      }
    }
    return { reachable: true, servers, topics: found }
  } catch (err) {
    return { reachable: false, servers, reason: rootMessage(err) }
  } finally {
    await cluster.disconnect().catch(() => undefined)
  }
}
