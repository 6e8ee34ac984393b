// Dev aid only (not used by tests or the app): an in-memory engine producing plausible, changing
// data behind the real HTTP/WebSocket server, so the UI can be looked at without the streaming
// engine.
//
//   npx electron-vite build            # or any build that fills out/renderer
//   npx jiti scripts/fake-engine.ts    # (or: npx vite-node scripts/fake-engine.ts)
//   open http://127.0.0.1:8502
//
// Environment: PORT (default 8502), FAKE_EMPTY=1 (no history: shows the empty states),
// FAKE_AUTOSTART=1 (start the pipeline at once). Setting the input folder to "fail" makes
// pipeline.start fail, to see the error state.

import { resolve } from 'node:path'
import { ApiError, type Handlers } from '../src/shared/api'
import type {
  AlertRow,
  BatchRow,
  CountRow,
  DashboardSnapshot,
  Kpis,
  OrderRow,
  PipelineStatus,
  QuarantineRow,
  WindowRow
} from '../src/shared/dto'
import { changedPaths, defaultSettings, needsRestart, parseSettings, type Settings } from '../src/shared/settings'
import { EventBus } from '../src/main/api/event-bus'
import { startHttpServer } from '../src/main/api/http-server'

// ---- deterministic randomness -----------------------------------------------------------------
let seed = 0x5eed
function rand(): number {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]
const STATUSES = ['placed', 'paid', 'shipped', 'completed', 'cancelled', 'refunded'] as const
const STATUS_WEIGHTS = [0.15, 0.3, 0.2, 0.27, 0.05, 0.03]
const CHANNELS = ['web', 'mobile', 'marketplace'] as const
const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'CA', 'NL']

function weightedStatus(): string {
  let r = rand()
  for (let i = 0; i < STATUSES.length; i++) {
    r -= STATUS_WEIGHTS[i]
    if (r <= 0) return STATUSES[i]
  }
  return 'paid'
}

// ---- state ------------------------------------------------------------------------------------
const events = new EventBus()
let settings: Settings = defaultSettings()
let orderSeq = 100_000
let batchSeq = 0
let quarantineSeq = 0
const orders: OrderRow[] = [] // newest last, bounded
const windows = new Map<number, WindowRow & { customers: Set<string> }>()
const alerts: AlertRow[] = [] // newest first, bounded
const batches: BatchRow[] = []
const quarantine: QuarantineRow[] = []
const statusCounts = new Map<string, number>()
const histogram = new Map<number, number>()
let totalRevenue = 0
let totalOrders = 0

const status: PipelineStatus = {
  state: 'stopped',
  message: null,
  source: { kind: 'generator', label: 'built-in generator → data/streaming' },
  startedAt: null,
  lastBatchId: null,
  lastBatchAt: null,
  totals: { orders: 0, alerts: 0, quarantined: 0, late: 0, duplicates: 0 },
  lagSeconds: null,
  generator: { running: false, produced: 0 }
}

function sourceLabel(s: Settings): PipelineStatus['source'] {
  if (s.source.kind === 'kafka') return { kind: 'kafka', label: `kafka ${s.source.kafka.servers.join(',')} ${s.source.kafka.ordersTopic}` }
  if (s.source.kind === 'folder') return { kind: 'folder', label: resolve(s.source.inputPath) }
  return { kind: 'generator', label: `built-in generator → ${s.source.inputPath}` }
}

function windowStartOf(t: number): number {
  const size = settings.pipeline.windowMinutes * 60_000
  return Math.floor(t / size) * size
}

function score(amount: number, st: string, mismatch: boolean, newAccount: boolean, velocity: boolean) {
  const w = settings.fraud.weights
  const reasons: string[] = []
  let s = 0
  if (amount > 5000) (s += w.amountOver5000), reasons.push('amount > 5,000')
  else if (amount > 3000) (s += w.amountOver3000), reasons.push('amount > 3,000')
  else if (amount > 2000) (s += w.amountOver2000), reasons.push('amount > 2,000')
  if (st === 'cancelled' || st === 'refunded') (s += w.cancelledOrRefunded), reasons.push(st)
  if (velocity) (s += w.velocity), reasons.push('velocity')
  if (newAccount) (s += w.newAccountLargeOrder), reasons.push('new account, large order')
  if (mismatch) (s += w.countryMismatch), reasons.push('shipping ≠ billing country')
  return { score: s + rand() * 0.4, reasons }
}

function makeOrder(t: number): { order: OrderRow; alert: AlertRow | null } {
  const suspicious = rand() < settings.generator.fraudRate * 1.5
  const amount = suspicious ? 1500 + rand() * 6500 : Math.round((15 + rand() ** 2 * 600) * 100) / 100
  const st = weightedStatus()
  const ship = pick(COUNTRIES)
  const bill = suspicious && rand() < 0.6 ? pick(COUNTRIES.filter((c) => c !== ship)) : ship
  const { score: fraudScore, reasons } = score(amount, st, ship !== bill, suspicious && rand() < 0.4, suspicious && rand() < 0.3)
  const order: OrderRow = {
    orderId: `ORD-${++orderSeq}`,
    customerId: `CUST-${1000 + Math.floor(rand() * 4000)}`,
    orderTs: new Date(t).toISOString(),
    status: st,
    amount: Math.round(amount * 100) / 100,
    currency: 'USD',
    itemCount: 1 + Math.floor(rand() * 5),
    channel: pick(CHANNELS),
    fraudScore: Math.round(fraudScore * 10) / 10,
    isLate: rand() < 0.01
  }
  const alert: AlertRow | null =
    order.fraudScore >= settings.fraud.threshold
      ? {
          orderId: order.orderId,
          customerId: order.customerId,
          orderTs: order.orderTs,
          amount: order.amount,
          currency: order.currency,
          status: order.status,
          fraudScore: order.fraudScore,
          fraudReasons: reasons,
          shippingCountry: ship,
          billingCountry: bill,
          detectedAt: new Date(t + 400).toISOString()
        }
      : null
  return { order, alert }
}

function ingest(order: OrderRow, alert: AlertRow | null): void {
  const t = Date.parse(order.orderTs)
  orders.push(order)
  if (orders.length > 2000) orders.splice(0, orders.length - 2000)
  const ws = windowStartOf(t)
  let w = windows.get(ws)
  if (!w) {
    w = {
      windowStart: new Date(ws).toISOString(),
      windowEnd: new Date(ws + settings.pipeline.windowMinutes * 60_000).toISOString(),
      orders: 0,
      revenueOrders: 0,
      revenue: 0,
      avgOrderValue: 0,
      uniqueCustomers: 0,
      partial: false,
      customers: new Set()
    }
    windows.set(ws, w)
    if (windows.size > 1500) windows.delete(Math.min(...windows.keys()))
  }
  w.orders++
  w.revenue = Math.round((w.revenue + order.amount) * 100) / 100
  w.avgOrderValue = w.revenue / w.orders
  w.customers.add(order.customerId)
  w.uniqueCustomers = w.customers.size
  statusCounts.set(order.status, (statusCounts.get(order.status) ?? 0) + 1)
  const bucket = Math.min(10, Math.floor(order.fraudScore))
  histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1)
  totalRevenue += order.amount
  totalOrders++
  if (alert) {
    alerts.unshift(alert)
    if (alerts.length > 1000) alerts.length = 1000
  }
}

const BAD_LINES = [
  (n: number) => ({ reason: 'malformed JSON: Unexpected end of input', raw: `{"order_id":"ORD-${n}","customer_id":"CUST-12","order_ts":"2025-03-04T10:1` }),
  (n: number) => ({ reason: 'total_amount: expected a number, got string', raw: JSON.stringify({ order_id: `ORD-${n}`, customer_id: 'CUST-77', order_ts: new Date().toISOString(), status: 'paid', currency: 'USD', total_amount: 'twelve', items: [] }) }),
  (n: number) => ({
    reason: 'status: expected one of placed, paid, shipped, completed, cancelled, refunded',
    raw: JSON.stringify({
      order_id: `ORD-${n}`,
      customer_id: 'CUST-3',
      order_ts: new Date().toISOString(),
      status: 'lost-in-mail',
      currency: 'USD',
      total_amount: 99.5,
      items: Array.from({ length: 6 }, (_, i) => ({ product_id: `P-${i}`, product_name: `Product number ${i} with a long descriptive name`, category: 'home', quantity: 1, unit_price: 16.5 })),
      payment_method: 'card',
      shipping_country: 'US',
      billing_country: 'US',
      channel: 'web'
    })
  })
]

function runBatch(startedAt: number, count: number, record = true): BatchRow {
  const fresh: AlertRow[] = []
  let valid = 0
  const spread = settings.pipeline.triggerMs
  for (let i = 0; i < count; i++) {
    const { order, alert } = makeOrder(startedAt - spread + rand() * spread)
    ingest(order, alert)
    valid++
    if (alert) fresh.push(alert)
  }
  let q = 0
  if (rand() < 0.08) {
    const bad = pick(BAD_LINES)(orderSeq + 1)
    quarantine.unshift({
      id: ++quarantineSeq,
      batchId: batchSeq + 1,
      kind: 'order',
      source: `data/streaming/orders/orders-${Math.floor(startedAt / 60_000)}.jsonl`,
      position: `line ${1 + Math.floor(rand() * 400)}`,
      reason: bad.reason,
      raw: bad.raw,
      ingestedAt: new Date(startedAt).toISOString(),
      resolvedBatchId: null
    })
    q = 1
  }
  const late = rand() < 0.05 ? 1 : 0
  const dup = rand() < 0.04 ? 1 : 0
  const durationMs = Math.round(60 + rand() * 120 + count * 0.8)
  const batch: BatchRow = {
    batchId: ++batchSeq,
    startedAt: new Date(startedAt).toISOString(),
    committedAt: new Date(startedAt + durationMs).toISOString(),
    durationMs,
    rowsRead: valid + q + dup,
    valid,
    quarantined: q,
    late,
    duplicates: dup,
    alerts: fresh.length,
    inputRate: Math.round((valid / (settings.pipeline.triggerMs / 1000)) * 10) / 10,
    processingRate: Math.round((valid / (durationMs / 1000)) * 10) / 10,
    watermark: new Date(startedAt - settings.pipeline.watermarkMinutes * 60_000).toISOString()
  }
  batches.push(batch)
  if (batches.length > 1000) batches.splice(0, batches.length - 1000)
  status.totals.orders += valid
  status.totals.alerts += fresh.length
  status.totals.quarantined += q
  status.totals.late += late
  status.totals.duplicates += dup
  status.lastBatchId = batch.batchId
  status.lastBatchAt = batch.committedAt
  status.lagSeconds = Math.round((0.2 + rand() * 0.8) * 10) / 10
  status.generator.produced += count
  if (record) {
    events.emit('batch.progress', batch)
    if (fresh.length > 0) events.emit('alerts.new', fresh)
  }
  return batch
}

/** The real engine's definition (docs/LAKE.md, Dashboard figures), over the last complete minutes. */
function kpis(minutes: number): Kpis {
  const asOf = orders.length ? orders[orders.length - 1].orderTs : null
  const none = { minutes, completeMinutes: 0, periodStart: null, periodEnd: null, firstCompleteAt: null, orders: 0, ordersPerMinute: 0, revenue: 0, avgOrderValue: 0, uniqueCustomers: 0, asOf }
  if (!asOf) return none
  const end = Math.floor(Date.parse(asOf) / 60_000) * 60_000
  const first = Math.ceil(Date.parse(orders[0].orderTs) / 60_000) * 60_000
  const start = Math.max(end - minutes * 60_000, first)
  if (start >= end) return { ...none, firstCompleteAt: new Date(first + 60_000).toISOString() }
  const counted = orders.filter((o) => {
    const t = Date.parse(o.orderTs)
    return t >= start && t < end && !o.isLate && o.status !== 'cancelled' && o.status !== 'refunded'
  })
  const revenue = Math.round(counted.reduce((s, o) => s + o.amount, 0) * 100) / 100
  const completeMinutes = (end - start) / 60_000
  return {
    ...none,
    completeMinutes,
    periodStart: new Date(start).toISOString(),
    periodEnd: new Date(end).toISOString(),
    orders: counted.length,
    ordersPerMinute: counted.length / completeMinutes,
    revenue,
    avgOrderValue: counted.length ? revenue / counted.length : 0,
    uniqueCustomers: new Set(counted.map((o) => o.customerId)).size
  }
}

function windowRows(limit: number): WindowRow[] {
  return [...windows.entries()]
    .sort((a, b) => a[0] - b[0])
    .slice(-limit)
    .map(([, w], i, all) => ({
      windowStart: w.windowStart,
      windowEnd: w.windowEnd,
      orders: w.orders,
      revenueOrders: w.revenueOrders || w.orders,
      revenue: w.revenue,
      avgOrderValue: w.avgOrderValue,
      uniqueCustomers: w.uniqueCustomers,
      partial: i === all.length - 1
    }))
}

const statusRows = (): CountRow[] => STATUSES.map((s) => ({ key: s, count: statusCounts.get(s) ?? 0 })).filter((r) => r.count > 0)
const histogramRows = (): CountRow[] =>
  Array.from({ length: 11 }, (_, i) => ({ key: i === 10 ? '10+' : String(i), count: histogram.get(i) ?? 0 }))

function snapshot(): DashboardSnapshot {
  return {
    at: new Date().toISOString(),
    kpis: kpis(settings.dashboard.kpiMinutes),
    windows: windowRows(60),
    alerts: alerts.slice(0, 100),
    recentOrders: orders.slice(-100).reverse(),
    statusDistribution: statusRows(),
    fraudHistogram: histogramRows(),
    batches: batches.slice(-100),
    summary: { orders: totalOrders, revenue: Math.round(totalRevenue * 100) / 100, avgOrderValue: totalOrders ? totalRevenue / totalOrders : 0 }
  }
}

// ---- pipeline loop ----------------------------------------------------------------------------
let loop: ReturnType<typeof setInterval> | null = null
let snapshotTimer: ReturnType<typeof setInterval> | null = null

function setState(state: PipelineStatus['state'], message: string | null = null) {
  status.state = state
  status.message = message
  events.emit('pipeline.state', structuredClone(status))
}

function startLoop() {
  const every = Math.max(250, settings.pipeline.triggerMs)
  let carry = 0
  loop = setInterval(() => {
    const perSecond = settings.generator.pace === 'rate' ? settings.generator.ratePerSecond : 1 / settings.generator.intervalSeconds
    const wobble = 0.6 + 0.8 * (0.5 + 0.5 * Math.sin(Date.now() / 90_000)) * rand()
    const expected = settings.generator.enabled ? perSecond * (every / 1000) * wobble + carry : 0
    const n = Math.floor(expected)
    carry = expected - n
    runBatch(Date.now(), Math.min(n, 5000))
  }, every)
  snapshotTimer = setInterval(() => events.emit('dashboard.snapshot', snapshot()), 500)
}

function stopLoop() {
  if (loop) clearInterval(loop)
  if (snapshotTimer) clearInterval(snapshotTimer)
  loop = snapshotTimer = null
}

function seedHistory(minutes: number) {
  const now = Date.now()
  const step = 5_000
  for (let t = now - minutes * 60_000; t < now; t += step) {
    const perSecond = settings.generator.ratePerSecond * (0.7 + 0.5 * Math.sin(t / 400_000) + 0.2 * rand())
    runBatch(t, Math.max(0, Math.round((perSecond * step) / 1000)), false)
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---- handlers ---------------------------------------------------------------------------------
const handlers: Handlers = {
  async 'pipeline.start'() {
    if (status.state === 'running' || status.state === 'starting') return structuredClone(status)
    status.source = sourceLabel(settings)
    setState('starting')
    await sleep(600)
    if (settings.source.inputPath === 'fail') {
      setState('error', `cannot watch input folder ${resolve('fail')}: ENOENT: no such file or directory`)
      return structuredClone(status)
    }
    status.startedAt = new Date().toISOString()
    status.generator.running = settings.source.kind === 'generator' && settings.generator.enabled
    startLoop()
    setState('running')
    return structuredClone(status)
  },
  async 'pipeline.stop'() {
    if (status.state !== 'running' && status.state !== 'starting') return structuredClone(status)
    setState('stopping')
    await sleep(400)
    stopLoop()
    status.generator.running = false
    status.lagSeconds = null
    setState('stopped')
    return structuredClone(status)
  },
  async 'pipeline.status'() {
    return structuredClone(status)
  },
  async 'settings.get'() {
    return settings
  },
  async 'settings.update'({ patch }) {
    const next = parseSettings(patch, settings)
    if (next.source.kind === 'kafka' && next.source.kafka.servers.includes('localhost:1')) {
      throw new ApiError('validation', 'kafka server refused', [{ field: 'source.kafka.servers', message: 'connection refused by localhost:1' }])
    }
    const changed = changedPaths(settings, next)
    settings = next
    if (status.state === 'stopped') status.source = sourceLabel(settings)
    if (loop && changed.some((p) => p.startsWith('pipeline.triggerMs'))) {
      stopLoop()
      startLoop()
    }
    return { settings, restartRequired: status.state === 'running' ? needsRestart(changed) : [] }
  },
  async 'lake.export'({ outDir, format }) {
    const tables = ['bronze_orders', 'silver_orders', 'silver_customers', 'gold_windows', 'gold_alerts', 'quarantine']
    for (let i = 0; i < tables.length; i++) {
      events.emit('export.progress', { table: tables[i], done: i, total: tables.length })
      await sleep(350)
    }
    events.emit('export.progress', { table: tables[tables.length - 1], done: tables.length, total: tables.length })
    const dir = resolve(outDir)
    const ext = format === 'duckdb' ? 'duckdb' : format
    return {
      outDir: dir,
      format,
      tables: tables.map((name, i) => ({
        name,
        rows: name === 'quarantine' ? quarantine.length : Math.max(0, totalOrders - i * 7),
        file: format === 'duckdb' ? `${dir}/streamdesk.duckdb` : `${dir}/${name}.${ext}`
      })),
      manifestPath: `${dir}/manifest.json`
    }
  },
  async 'query.dashboard'() {
    return snapshot()
  },
  async 'query.kpis'({ minutes }) {
    return kpis(minutes)
  },
  async 'query.windows'({ limit }) {
    return windowRows(limit)
  },
  async 'query.alerts'({ limit }) {
    return alerts.slice(0, limit)
  },
  async 'query.alertPage'({ limit, offset, search }) {
    const q = search.toLowerCase()
    const matching = q ? alerts.filter((a) => a.orderId.toLowerCase().includes(q) || a.customerId.toLowerCase().includes(q)) : alerts
    return { rows: matching.slice(offset, offset + limit), total: matching.length, all: alerts.length }
  },
  async 'query.recentOrders'({ limit }) {
    return orders.slice(-limit).reverse()
  },
  async 'query.statusDistribution'() {
    return statusRows()
  },
  async 'query.fraudHistogram'() {
    return histogramRows()
  },
  async 'query.batches'({ limit }) {
    return batches.slice(-limit).reverse()
  },
  async 'query.quarantine'({ limit, offset }) {
    return { rows: quarantine.slice(offset, offset + limit), total: quarantine.length }
  },
  async 'quarantine.revalidate'() {
    // the fake's bad lines are bad for good: nothing a setting fixes
    if (status.state !== 'stopped') throw new ApiError('validation', 'stop the pipeline first: a running batch writes the same tables')
    return { batchId: null, lines: 0, valid: 0, duplicates: 0, stillBad: 0, alerts: 0 }
  }
}

// ---- main -------------------------------------------------------------------------------------
if (process.env.FAKE_EMPTY !== '1') seedHistory(45)
const port = Number(process.env.PORT ?? 8502)
const server = await startHttpServer({ handlers, events, staticDir: resolve('out/renderer'), port })
console.log(`fake engine: UI and API on ${server.url}`)
if (process.env.FAKE_AUTOSTART === '1') void handlers['pipeline.start']({})

const shutdown = async () => {
  stopLoop()
  await server.close()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
