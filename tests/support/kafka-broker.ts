// A real Kafka broker for the tests: librdkafka's mock cluster (tests/support/kafka-mock-broker.c),
// built with gcc on first use and started as a child process with the topics a test asks for.
// Clients talk to it over TCP with the real wire protocol; nothing on the client side is mocked.
//
// Needs gcc and librdkafka-dev (apt-get install librdkafka-dev kcat; .ci/run installs them).
// The mock keeps only the newest ~5 MiB of each partition's log: tests produce gzip-compressed
// batches and keep their volumes under that.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import type { Kafka as KafkaClass, Producer } from 'kafkajs'
import { REPO_ROOT } from './lake-fixtures'

const require = createRequire(import.meta.url)
const kafkajs = require('kafkajs') as typeof import('kafkajs')

const SOURCE = join(REPO_ROOT, 'tests/support/kafka-mock-broker.c')

let built: string | null = null

/** Compiles the mock broker once per source version (cached in the temp folder). */
export function mockBrokerBinary(): string {
  if (built) return built
  const src = readFileSync(SOURCE)
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 12)
  const dir = join(tmpdir(), 'streamdesk-kafka-mock')
  const bin = join(dir, `kafka-mock-broker-${hash}`)
  if (!existsSync(bin)) {
    if (!existsSync('/usr/include/librdkafka/rdkafka_mock.h')) {
      throw new Error('the Kafka tests need librdkafka-dev (rdkafka_mock.h) and gcc: apt-get install -y librdkafka-dev kcat gcc')
    }
    mkdirSync(dir, { recursive: true })
    const tmp = `${bin}.${process.pid}.tmp`
    execFileSync('gcc', ['-O1', '-rdynamic', '-o', tmp, SOURCE, '-lrdkafka', '-ldl'], { stdio: 'pipe' })
    renameSync(tmp, bin)
  }
  built = bin
  return bin
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

export interface MockBroker {
  bootstrap: string
  port: number
  proc: ChildProcess
  /** Sends a command ("create TOPIC N", "down", "up") and waits for its OK. */
  command(cmd: string): Promise<void>
  stop(): Promise<void>
}

const running = new Set<MockBroker>()

/** Starts a mock cluster with `topics` (name → partitions); resolves once it prints its address. */
export async function startBroker(topics: Record<string, number> = {}, opts: { port?: number } = {}): Promise<MockBroker> {
  const bin = mockBrokerBinary()
  const args = [...(opts.port ? ['--port', String(opts.port)] : []), ...Object.entries(topics).map(([t, n]) => `${t}:${n}`)]
  const proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const waiters: { text: string; resolve: () => void; reject: (e: Error) => void }[] = []
  proc.stdout!.setEncoding('utf8')
  proc.stderr!.setEncoding('utf8')
  proc.stderr!.on('data', (d: string) => (err += d))
  proc.stdout!.on('data', (d: string) => {
    out += d
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve()
      else waiters.push(w)
    }
  })
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  void exited.then(() => {
    for (const w of waiters.splice(0)) w.reject(new Error(`mock broker exited: ${err.trim()}`))
  })
  // The timeout only guards against a hang: a busy machine may take long to start the process.
  const waitFor = (text: string, timeoutMs = 90_000) =>
    new Promise<void>((resolve, reject) => {
      if (out.includes(text)) return resolve()
      const t = setTimeout(() => reject(new Error(`mock broker did not print "${text}": ${out}${err}`)), timeoutMs)
      waiters.push({
        text,
        resolve: () => {
          clearTimeout(t)
          resolve()
        },
        reject: (e) => {
          clearTimeout(t)
          reject(e)
        }
      })
    })
  await waitFor('BOOTSTRAP ')
  const bootstrap = /BOOTSTRAP (\S+)/.exec(out)![1].split(',')[0]
  const broker: MockBroker = {
    bootstrap,
    port: Number(bootstrap.split(':')[1]),
    proc,
    async command(cmd) {
      proc.stdin!.write(`${cmd}\n`)
      await waitFor(`OK ${cmd}`)
    },
    async stop() {
      running.delete(broker)
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.stdin!.end()
        proc.kill('SIGTERM')
      }
      await exited
    }
  }
  running.add(broker)
  return broker
}

export async function stopAllBrokers(): Promise<void> {
  await Promise.all([...running].map((b) => b.stop()))
}

// ---------------------------------------------------------------------------------------------
// producing test data with a real client

export function kafkaClient(bootstrap: string): KafkaClass {
  return new kafkajs.Kafka({ brokers: [bootstrap], clientId: 'streamdesk-tests', logLevel: kafkajs.logLevel.NOTHING })
}

export interface TestMessage {
  key?: string | Buffer | null
  value: string | Buffer | null
  partition?: number
}

/** Produces messages (gzip, acks from all replicas) in chunks; resolves when all are acknowledged. */
export async function produce(bootstrap: string, topic: string, messages: TestMessage[], chunk = 2000): Promise<void> {
  const producer: Producer = kafkaClient(bootstrap).producer({
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false
  })
  await producer.connect()
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({
        topic,
        acks: -1,
        compression: kafkajs.CompressionTypes.GZIP,
        messages: messages.slice(i, i + chunk).map((m) => ({ key: m.key ?? null, value: m.value, partition: m.partition }))
      })
    }
  } finally {
    await producer.disconnect()
  }
}

/** Next offset (high-water mark) of every partition of `topic`, "topic/partition" → offset. */
export async function highWatermarks(bootstrap: string, topic: string): Promise<Map<string, number>> {
  const admin = kafkaClient(bootstrap).admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    return new Map(offsets.map((o) => [`${topic}/${o.partition}`, Number(o.high)]))
  } finally {
    await admin.disconnect()
  }
}

/** Offsets a consumer group holds for `topic`, "topic/partition" → offset (-1: none). */
export async function groupOffsets(bootstrap: string, groupId: string, topic: string): Promise<Map<string, number>> {
  const admin = kafkaClient(bootstrap).admin()
  await admin.connect()
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] })
    return new Map(res.flatMap((t) => t.partitions.map((p) => [`${t.topic}/${p.partition}`, Number(p.offset)] as [string, number])))
  } finally {
    await admin.disconnect()
  }
}
