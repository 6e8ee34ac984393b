import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngineHost } from '../../src/main/api/engine-host'
import type { EngineHost } from '../../src/main/api/host'
import { startHttpServer, type HttpServerHandle } from '../../src/main/api/http-server'
import type { PipelineStatus } from '../../src/shared/dto'
import { cleanupTempDirs, customer, makeTempDir, makeWorkspace, MIN, order, queries, ts, writeLines, type Workspace } from '../support/lake-fixtures'
import { until } from '../support/wait'
import { freePort, highWatermarks, produce, startBroker, stopAllBrokers } from '../support/kafka-broker'

// GET /metrics, served as `streamdesk serve` serves it (the same HTTP server and engine host,
// in this process), against SQL over the lake: after a run that produced every kind of count,
// and after a restart on that lake, where the counters must start from the lake, not from zero.

afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

type Samples = Map<string, number>

/** `name{labels} value` lines of the Prometheus text format, keyed by name and labels. */
function parseMetrics(text: string): Samples {
  const out: Samples = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

/** The lake's counts, each written from the tables themselves rather than from `batches`. */
async function sqlCounts(lake: string): Promise<Record<string, number>> {
  const r = await queries(lake, {
    c: `SELECT
        (SELECT count(*) FROM silver_orders) AS orders,
        (SELECT count(*) FROM fraud_alerts) AS alerts,
        (SELECT count(*) FROM quarantine) AS quarantined,
        (SELECT count(*) FROM silver_orders WHERE is_late) AS late,
        -- every order line is in bronze once: in silver, in quarantine, or a duplicate
        (SELECT count(*) FROM bronze_orders) - (SELECT count(*) FROM silver_orders)
          - (SELECT count(*) FROM quarantine WHERE kind = 'order') AS duplicates,
        (SELECT count(*) FROM batches) AS batches,
        (SELECT epoch_ms(watermark) / 1000 FROM batches ORDER BY batch_id DESC LIMIT 1) AS watermark,
        (SELECT epoch_ms(max(order_ts)) / 1000 FROM silver_orders) AS max_event`
  })
  return Object.fromEntries(Object.entries(r.c[0]).map(([k, v]) => [k, Number(v)]))
}

function countersOf(m: Samples): Record<string, number | undefined> {
  return {
    orders: m.get('streamdesk_orders_total'),
    alerts: m.get('streamdesk_alerts_total'),
    quarantined: m.get('streamdesk_quarantined_total'),
    late: m.get('streamdesk_late_orders_total'),
    duplicates: m.get('streamdesk_duplicate_orders_total'),
    batches: m.get('streamdesk_batches_total')
  }
}

interface Served {
  host: EngineHost
  server: HttpServerHandle
  scrape(): Promise<Samples>
  close(): Promise<void>
}

async function serve(ws: Workspace, source: Record<string, unknown> = { kind: 'folder', inputPath: ws.input }): Promise<Served> {
  const base = makeTempDir()
  const settingsFile = join(base, 'settings.json')
  writeFileSync(settingsFile, JSON.stringify({ lakePath: ws.lake, source, pipeline: { triggerMs: 50, watermarkMinutes: 1 } }))
  const host = await createEngineHost({ settingsFile, baseDir: base })
  const server = await startHttpServer({ handlers: host.handlers, events: host.events, port: 0, metrics: host.metrics })
  return {
    host,
    server,
    async scrape() {
      const res = await fetch(`${server.url}/metrics`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      return parseMetrics(await res.text())
    },
    async close() {
      await server.close()
      await host.dispose()
    }
  }
}

const waitForTotals = (host: EngineHost, what: string, ok: (t: PipelineStatus['totals']) => boolean) => {
  let seen: PipelineStatus | null = null
  return until(
    what,
    async () => {
      seen = await host.handlers['pipeline.status']({})
      return ok(seen.totals)
    },
    { detail: () => seen }
  )
}

describe('/metrics', () => {
  it('counts what the lake holds, through a run and after a restart on the same lake', async () => {
    const ws = makeWorkspace()
    writeLines(ws.customers('c1.jsonl'), [customer({ customer_id: 'c-vip' }), '{"customer_id": broken'])
    writeLines(ws.orders('o1.jsonl'), [
      ...[0, 1, 2, 3, 4, 5].map((m) => order({ order_id: `a-${m}`, order_ts: ts(m * MIN) })),
      order({ order_id: 'big-1', order_ts: ts(5 * MIN), total_amount: 5200 }),
      order({ order_id: 'a-0', order_ts: ts(0) }),
      'not json at all'
    ])

    const first = await serve(ws)
    const before = await first.scrape()
    expect(countersOf(before)).toEqual({ orders: 0, alerts: 0, quarantined: 0, late: 0, duplicates: 0, batches: 0 })
    expect(before.get('streamdesk_watermark_timestamp_seconds')).toBeNaN()

    await first.host.handlers['pipeline.start']({})
    await waitForTotals(first.host, 'the first file in the lake', (t) => t.orders === 7 && t.duplicates === 1 && t.quarantined === 2)
    expect((await first.scrape()).get('streamdesk_pipeline_running')).toBe(1)
    // after the first batch the watermark is 12:05 − 1 min: an order at 11:50 is late
    writeLines(ws.orders('o2.jsonl'), [
      order({ order_id: 'late-1', order_ts: ts(-10 * MIN) }),
      order({ order_id: 'big-2', order_ts: ts(6 * MIN), total_amount: 6100 }),
      order({ order_id: 'a-3', order_ts: ts(3 * MIN) })
    ])
    await waitForTotals(first.host, 'the second file in the lake', (t) => t.orders === 9)
    await first.host.handlers['pipeline.stop']({})
    const afterRun = await first.scrape()
    await first.close()

    const lake = await sqlCounts(ws.lake)
    // the crafted input, so that agreeing counters cannot both be wrong the same way
    expect(lake).toMatchObject({ orders: 9, alerts: 2, quarantined: 2, late: 1, duplicates: 2 })
    const { watermark, max_event: maxEvent, ...counts } = lake
    expect(countersOf(afterRun)).toEqual(counts)
    expect(afterRun.get('streamdesk_watermark_timestamp_seconds')).toBe(watermark)
    expect(afterRun.get('streamdesk_max_event_timestamp_seconds')).toBe(maxEvent)
    expect(afterRun.get('streamdesk_event_time_lag_seconds')).toBeGreaterThan(0)
    expect(afterRun.get('streamdesk_pipeline_running')).toBe(0)
    // this process committed every batch, and each one was timed
    expect(afterRun.get('streamdesk_batch_duration_seconds_count')).toBe(counts.batches)
    expect(afterRun.get('streamdesk_batch_duration_seconds_bucket{le="+Inf"}')).toBe(counts.batches)

    // a new process on the same lake: the counters are the lake's before any batch runs
    const second = await serve(ws)
    const restarted = await second.scrape()
    expect(countersOf(restarted)).toEqual(counts)
    expect(restarted.get('streamdesk_watermark_timestamp_seconds')).toBe(watermark)
    expect(restarted.get('streamdesk_batch_duration_seconds_count')).toBe(0)

    // and they go on from there
    writeLines(ws.orders('o3.jsonl'), [order({ order_id: 'after-restart', order_ts: ts(7 * MIN), total_amount: 5500 })])
    await second.host.handlers['pipeline.start']({})
    await waitForTotals(second.host, 'the third file in the lake', (t) => t.orders === 10)
    await second.host.handlers['pipeline.stop']({})
    const resumed = await second.scrape()
    await second.close()
    const { watermark: _w, max_event: _m, ...resumedCounts } = await sqlCounts(ws.lake)
    expect(resumedCounts).toMatchObject({ orders: 10, alerts: 3 })
    expect(countersOf(resumed)).toEqual(resumedCounts)
  })

  it('shows the Kafka lag of every partition while the Kafka source runs', async () => {
    const broker = await startBroker({ km_orders: 2, km_customers: 1 })
    await produce(broker.bootstrap, 'km_customers', [{ key: 'c-1', value: JSON.stringify(customer({ customer_id: 'c-1' })) }])
    await produce(
      broker.bootstrap,
      'km_orders',
      Array.from({ length: 10 }, (_, i) => ({ key: 'c-1', value: JSON.stringify(order({ order_id: `k-${i}`, customer_id: 'c-1' })), partition: i % 2 }))
    )
    const ws = makeWorkspace()
    const served = await serve(ws, { kind: 'kafka', kafka: { servers: [broker.bootstrap], ordersTopic: 'km_orders', customersTopic: 'km_customers' } })
    try {
      expect([...(await served.scrape()).keys()].filter((k) => k.startsWith('streamdesk_kafka_lag_messages'))).toEqual([])
      await served.host.handlers['pipeline.start']({})
      await waitForTotals(served.host, 'every message in the lake', (t) => t.orders === 10)
      const m = await served.scrape()
      const lag = [...m].filter(([k]) => k.startsWith('streamdesk_kafka_lag_messages'))
      // the broker's high-water marks are the lake's offsets now: nothing is behind
      expect(await highWatermarks(broker.bootstrap, 'km_orders')).toEqual(new Map([['km_orders/0', 5], ['km_orders/1', 5]]))
      expect(new Map(lag)).toEqual(
        new Map([
          ['streamdesk_kafka_lag_messages{topic="km_customers",partition="0"}', 0],
          ['streamdesk_kafka_lag_messages{topic="km_orders",partition="0"}', 0],
          ['streamdesk_kafka_lag_messages{topic="km_orders",partition="1"}', 0]
        ])
      )
      await served.host.handlers['pipeline.stop']({})
      expect([...(await served.scrape()).keys()].filter((k) => k.startsWith('streamdesk_kafka_lag_messages'))).toEqual([])
    } finally {
      await served.close()
    }
  })

  it('answers only GET and HEAD', async () => {
    const served = await serve(makeWorkspace())
    try {
      const post = await fetch(`${served.server.url}/metrics`, { method: 'POST' })
      expect(post.status).toBe(405)
      const head = await fetch(`${served.server.url}/metrics`, { method: 'HEAD' })
      expect(head.status).toBe(200)
    } finally {
      await served.close()
    }
  })

  it('the metrics setting serves /metrics on 127.0.0.1 on its own port, and stops when turned off', async () => {
    const served = await serve(makeWorkspace())
    try {
      const port = await freePort()
      await served.host.handlers['settings.update']({ patch: { metrics: { enabled: true, port } } })
      const res = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(res.status).toBe(200)
      expect(parseMetrics(await res.text()).get('streamdesk_orders_total')).toBe(0)
      // a page whose name was rebound to 127.0.0.1 sends its own name
      expect(await statusWithHost(port, 'evil.example:80')).toBe(421)
      await served.host.handlers['settings.update']({ patch: { metrics: { enabled: false } } })
      await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow()
    } finally {
      await served.close()
    }
  })
})

function statusWithHost(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', headers: { host } }, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('error', reject)
    req.end()
  })
}
