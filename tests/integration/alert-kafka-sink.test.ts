import { afterAll, describe, expect, it } from 'vitest'
import { parseSettings } from '../../src/shared/settings'
import { CliError } from '../../src/main/cli/errors'
import { freePort, kafkaClient, startBroker, stopAllBrokers } from '../support/kafka-broker'
import { cleanupTempDirs, makeWorkspace, order, runPipeline, ts, writeLines } from '../support/lake-fixtures'
import { until } from '../support/wait'

// The Kafka alert sink against a real broker (librdkafka's mock cluster): one record per alert,
// key = order_id, the message's idempotency key in a header, the alert as the JSON value.

afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

describe('Kafka alert sink', () => {
  it('keeps alerts queued while no broker answers (exit 5), then produces each once, keyed by order_id', { timeout: 120_000 }, async () => {
    const port = await freePort()
    const ws = makeWorkspace()
    writeLines(ws.orders('1.jsonl'), [
      order({ order_id: 'k1', total_amount: 6000, order_ts: ts(0) }),
      order({ order_id: 'k2', total_amount: 3500, order_ts: ts(1) }),
      order({ order_id: 'k3', total_amount: 20, order_ts: ts(2) })
    ])
    const settings = parseSettings({ alerts: { sinks: [{ kind: 'kafka', servers: [`127.0.0.1:${port}`], topic: 'fraud-alerts' }] } })
    const err = await runPipeline(ws, { baseSettings: settings, connectTimeout: 1000 }).then(
      () => null,
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(CliError)
    expect((err as CliError).exitCode).toBe(5)
    expect((err as CliError).message).toContain('kafka:fraud-alerts (2 alerts queued')

    // the broker comes up where the sink looks for it: the next run delivers the backlog
    const broker = await startBroker({ 'fraud-alerts': 2 }, { port })
    await runPipeline(ws, { baseSettings: settings, connectTimeout: 60_000 })

    const seen: { key: string; header: string; value: Record<string, unknown> }[] = []
    const consumer = kafkaClient(broker.bootstrap).consumer({ groupId: 'alert-sink-test' })
    await consumer.connect()
    try {
      await consumer.subscribe({ topic: 'fraud-alerts', fromBeginning: true })
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({
            key: String(message.key),
            header: String(message.headers?.['idempotency-key']),
            value: JSON.parse(String(message.value)) as Record<string, unknown>
          })
        }
      })
      await until('both alerts consumed', () => seen.length >= 2)
    } finally {
      await consumer.disconnect()
    }
    expect(seen.map((m) => m.key).sort()).toEqual(['k1', 'k2'])
    for (const m of seen) expect(m.value).toMatchObject({ order_id: m.key, fraud_score: expect.any(Number), reasons: expect.any(Array) })
    // one message of the outbox, so one idempotency key for both records
    expect(new Set(seen.map((m) => m.header)).size).toBe(1)
    expect(seen[0].header).toMatch(/^[0-9a-f]{32}$/)
  })
})
