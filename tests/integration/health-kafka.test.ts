import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngineHost } from '../../src/main/api/engine-host'
import { freePort, kafkaClient, produce, startBroker, stopAllBrokers } from '../support/kafka-broker'
import { cleanupTempDirs, makeTempDir, makeWorkspace, order, ts } from '../support/lake-fixtures'
import { until } from '../support/wait'

// Health conditions of the Kafka source against a real broker (librdkafka's mock cluster): the
// lag above its threshold — and stuck, with messages waiting and no batch — delivered to a Kafka
// topic; the broker out of reach as a source error, resolved when it comes up. The pipeline's
// 10-minute trigger interval holds the second batch back; the monitor's clock is the test's.

afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

function host(settings: Record<string, unknown>) {
  const ws = makeWorkspace()
  const base = makeTempDir()
  const settingsFile = join(base, 'settings.json')
  writeFileSync(settingsFile, JSON.stringify({ lakePath: ws.lake, ...settings }))
  const clock = { t: 1_000_000, now() { return this.t } }
  return { clock, host: createEngineHost({ settingsFile, baseDir: base, controller: { healthClock: clock } }) }
}

describe('health of the Kafka source', () => {
  it('fires Kafka lag and then stuck while messages wait, each once to the Kafka sink', { timeout: 180_000 }, async () => {
    const broker = await startBroker({ hk_orders: 1, hk_customers: 1, hk_health: 1 })
    const total = 1000
    await produce(
      broker.bootstrap,
      'hk_orders',
      Array.from({ length: total }, (_, i) => ({ key: `c${i % 10}`, value: JSON.stringify(order({ order_id: `hk${i}`, order_ts: ts(i) })) }))
    )
    const { clock, host: made } = host({
      source: { kind: 'kafka', kafka: { servers: [broker.bootstrap], ordersTopic: 'hk_orders', customersTopic: 'hk_customers' } },
      // one small batch, then none for 10 minutes
      pipeline: { triggerMs: 600_000, maxBatchBytes: 64 * 1024 },
      alerts: {
        sinks: [{ kind: 'kafka', servers: [broker.bootstrap], topic: 'hk_health' }],
        health: { kafkaLagMessages: 100, stuckSeconds: 60, checkSeconds: 600 }
      }
    })
    const h = await made
    try {
      // pushed after the source learned the batch's offsets, which the lag is measured from
      let batches = 0
      const off = h.events.subscribe('batch.progress', () => batches++)
      expect((await h.handlers['pipeline.start']({})).state).toBe('running')
      const health = () => h.handlers['query.health']({})
      await until('the first batch committed', () => batches === 1)
      off()
      await until('Kafka lag firing', async () => (await health()).firing.some((f) => f.condition === 'kafka-lag'))
      const lag = (await health()).firing.find((f) => f.condition === 'kafka-lag')!
      // the lag is the broker's end minus the lake's offset
      const answer = await h.handlers['sql.run']({ sql: `SELECT ${total} - next_offset FROM source_offsets WHERE key = 'hk_orders/0'`, maxRows: 1 })
      expect(answer.ok && Number(answer.rows[0][0])).toBe(lag.value)
      expect(lag.value).toBeGreaterThan(100)
      expect(lag.cause).toContain('Kafka messages are not in the lake yet (more than 100)')

      expect((await health()).activity).toBe('working')
      clock.t += 60_000
      const stuck = await health()
      expect(stuck.activity).toBe('stuck')
      expect(stuck.firing.map((f) => f.condition)).toEqual(['stuck', 'kafka-lag'])
      expect(stuck.firing[0].cause).toMatch(/^[\d,]+ Kafka messages waiting to be read, and no batch committed for 60 s/)

      const seen: { key: string; header: string; value: { health: Record<string, unknown> } }[] = []
      const consumer = kafkaClient(broker.bootstrap).consumer({ groupId: 'health-test' })
      await consumer.connect()
      try {
        await consumer.subscribe({ topic: 'hk_health', fromBeginning: true })
        await consumer.run({
          eachMessage: async ({ message }) => {
            seen.push({ key: String(message.key), header: String(message.headers?.['idempotency-key']), value: JSON.parse(String(message.value)) })
          }
        })
        await until('both health records consumed', () => seen.length >= 2, { detail: () => seen })
      } finally {
        await consumer.disconnect()
      }
      expect(seen.map((m) => m.key).sort()).toEqual(['health:kafka-lag', 'health:stuck'])
      for (const m of seen) {
        expect(m.value.health).toMatchObject({ condition: m.key.slice('health:'.length), state: 'firing' })
        expect(m.header).toMatch(/^[0-9a-f]{32}$/)
      }
    } finally {
      await h.dispose()
    }
  })

  it('a broker out of reach is a source error until it comes up', { timeout: 180_000 }, async () => {
    const port = await freePort()
    const { host: made } = host({
      source: { kind: 'kafka', kafka: { servers: [`127.0.0.1:${port}`], ordersTopic: 'hd_orders', customersTopic: 'hd_customers' } },
      pipeline: { triggerMs: 50 },
      alerts: { health: { holdSeconds: 0, checkSeconds: 600 } }
    })
    const h = await made
    try {
      expect((await h.handlers['pipeline.start']({})).state).toBe('running')
      const health = () => h.handlers['query.health']({})
      await until('the source error firing', async () => (await health()).firing.some((f) => f.condition === 'source-error'))
      const firing = (await health()).firing[0]
      expect(firing.cause).toMatch(new RegExp(`^waiting for Kafka at 127\\.0\\.0\\.1:${port} \\(`))
      expect(firing.action).toContain('broker')
      await startBroker({ hd_orders: 1, hd_customers: 1 }, { port })
      await until('the source error resolved', async () => (await health()).firing.length === 0)
    } finally {
      await h.dispose()
    }
  })
})
