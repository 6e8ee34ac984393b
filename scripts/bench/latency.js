// Section 4 of `npm run bench`: landing → shown latency at a steady 1,000 orders/s.
// Starts `streamdesk serve` on a free port, connects a WebSocket client like the dashboard does,
// starts the pipeline, writes order files itself (hidden .tmp name, then rename) and times, for
// every file, rename → first 'pipeline.state' push whose totals.orders covers it (what the
// header counter shows) and rename → first 'batch.progress' push that commits it.
import { spawn } from 'node:child_process'
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { liveChildren, quantile } from './util.js'
import { makeRandom } from './orders.js'

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)))

// --- valid orders per docs/EVENTS.md ------------------------------------------------------------

const STATUSES = ['placed', 'paid', 'shipped', 'completed', 'cancelled', 'refunded']
const CHANNELS = ['web', 'mobile', 'marketplace']
const CATEGORIES = ['Electronics', 'Home & Kitchen', 'Fashion', 'Books & Media', 'Toys & Baby']

function orderLine(rand, seq, nowIso) {
  const n = 1 + Math.floor(rand() * 3)
  const items = []
  let cents = 0
  for (let i = 0; i < n; i++) {
    const unitCents = 500 + Math.floor(rand() * 30000) // 5.00 .. 305.00, well below fraud amounts
    const quantity = 1 + Math.floor(rand() * 2)
    cents += unitCents * quantity
    items.push({
      product_id: `P${String(Math.floor(rand() * 3000)).padStart(6, '0')}`,
      product_name: `Bench product ${i}`,
      category: CATEGORIES[Math.floor(rand() * CATEGORIES.length)],
      quantity,
      unit_price: unitCents / 100
    })
  }
  return JSON.stringify({
    order_id: `bench_${seq.toString(16).padStart(10, '0')}`,
    // Many distinct customers, so the velocity rule stays quiet.
    customer_id: `cus_bench_${Math.floor(rand() * 1e9).toString(16)}`,
    order_ts: nowIso,
    status: STATUSES[Math.floor(rand() * 4)],
    currency: 'USD',
    total_amount: cents / 100,
    items,
    payment_method: 'credit_card',
    shipping_country: 'US',
    billing_country: 'US',
    channel: CHANNELS[Math.floor(rand() * CHANNELS.length)]
  })
}

// --- server + client ----------------------------------------------------------------------------

function startServer(cliLauncher, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliLauncher, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    liveChildren.add(child)
    let stderr = ''
    let settled = false
    const exited = new Promise((done) =>
      child.on('close', (code, signal) => {
        liveChildren.delete(child)
        done({ code, signal })
        if (!settled) {
          settled = true
          reject(new Error(`serve exited early (code ${code}, signal ${signal}):\n${stderr}`))
        }
      })
    )
    child.stdout.on('data', (d) => (stderr += d))
    child.stderr.on('data', (d) => {
      stderr += d
      const m = /serving the dashboard at (http:\/\/\S+)/.exec(stderr)
      if (m && !settled) {
        settled = true
        resolve({ child, url: m[1], exited, output: () => stderr })
      }
    })
    setTimeout(() => {
      if (!settled) {
        settled = true
        reject(new Error(`serve did not print its URL within 60 s:\n${stderr}`))
      }
    }, 60_000).unref()
  })
}

function connect(url) {
  return new Promise((resolve, reject) => {
    // No Origin header: the server accepts non-browser clients without one (or with its own origin).
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`)
    let nextId = 1
    const pending = new Map()
    const listeners = []
    ws.on('message', (data) => {
      const at = performance.now()
      let msg
      try {
        msg = JSON.parse(data.toString('utf8'))
      } catch {
        return
      }
      if (typeof msg.id === 'number') {
        const p = pending.get(msg.id)
        if (!p) return
        pending.delete(msg.id)
        if (msg.ok) p.resolve(msg.result)
        else p.reject(new Error(`${msg.error?.type}: ${msg.error?.message}`))
      } else if (msg.event) {
        for (const l of listeners) l(msg.event, msg.payload, at)
      }
    })
    ws.once('open', () =>
      resolve({
        ws,
        onPush: (fn) => listeners.push(fn),
        invoke: (name, args = {}) =>
          new Promise((res, rej) => {
            const id = nextId++
            pending.set(id, { resolve: res, reject: rej })
            ws.send(JSON.stringify({ id, name, args }))
          }),
        close: () =>
          new Promise((res) => {
            if (ws.readyState === WebSocket.CLOSED) return res()
            ws.once('close', () => res())
            ws.close()
            setTimeout(() => {
              ws.terminate()
              res()
            }, 2000).unref()
          })
      })
    )
    ws.once('error', reject)
  })
}

// --- the measurement ----------------------------------------------------------------------------

/**
 * @param {{ cliLauncher: string, workDir: string, seconds: number, ordersPerSecond?: number, filesPerSecond?: number, log: (s: string) => void }} o
 */
export async function runLatency(o) {
  const ordersPerSecond = o.ordersPerSecond ?? 1000
  const filesPerSecond = o.filesPerSecond ?? 10
  const perFile = Math.round(ordersPerSecond / filesPerSecond)
  const periodMs = 1000 / filesPerSecond
  const input = join(o.workDir, 'latency-input')
  const lake = join(o.workDir, 'latency-lake')
  const ordersDir = join(input, 'orders')
  mkdirSync(ordersDir, { recursive: true })
  mkdirSync(join(input, 'customers'), { recursive: true })
  const settingsFile = join(o.workDir, 'latency-settings.json')
  writeFileSync(
    settingsFile,
    JSON.stringify(
      {
        source: { kind: 'folder', inputPath: input },
        lakePath: lake,
        pipeline: { triggerMs: 250 },
        dashboard: { refreshSeconds: 0.5 },
        generator: { enabled: false }
      },
      null,
      2
    )
  )

  const server = await startServer(
    o.cliLauncher,
    ['--port', '0', '--input-path', input, '--lake', lake, '--settings', settingsFile],
    o.workDir
  )
  o.log(`  serve is up at ${server.url} (pid ${server.child.pid})`)
  const client = await connect(server.url)

  const files = [] // { landed, cum, shown?, committed? }
  let shownIdx = 0
  let committedIdx = 0
  let committedOrders = 0
  let statePushes = 0
  let maxShown = 0
  const batchDurations = []
  const batchRows = []
  const errors = []
  client.onPush((event, payload, at) => {
    if (event === 'pipeline.state') {
      statePushes++
      const shown = payload?.totals?.orders ?? 0
      maxShown = Math.max(maxShown, shown)
      while (shownIdx < files.length && files[shownIdx].cum <= shown) files[shownIdx++].shown = at
      if (payload?.state === 'error') errors.push(`pipeline error: ${payload.message}`)
    } else if (event === 'batch.progress') {
      committedOrders += payload.valid
      batchDurations.push(payload.durationMs)
      batchRows.push(payload.rowsRead)
      while (committedIdx < files.length && files[committedIdx].cum <= committedOrders) files[committedIdx++].committed = at
    }
  })

  let stoppedCleanly = false
  try {
    const status = await client.invoke('pipeline.start')
    if (status.state !== 'running') throw new Error(`pipeline.start answered state '${status.state}': ${status.message}`)
    await sleep(1000) // let the watcher settle; the clock starts with the first file

    const rand = makeRandom(42)
    let seq = 0
    const t0 = performance.now()
    const total = Math.round(o.seconds * filesPerSecond)
    for (let i = 0; i < total; i++) {
      await sleep(t0 + i * periodMs - performance.now())
      const nowIso = new Date().toISOString().replace('Z', '+00:00')
      let text = ''
      for (let k = 0; k < perFile; k++) text += orderLine(rand, seq++, nowIso) + '\n'
      const name = `orders-bench-${String(i).padStart(6, '0')}.jsonl`
      const tmp = join(ordersDir, `.${name}.tmp`)
      writeFileSync(tmp, text)
      renameSync(tmp, join(ordersDir, name))
      files.push({ landed: performance.now(), cum: seq })
    }
    const writeSeconds = (performance.now() - t0) / 1000
    // Drain: wait until the last file is shown (or give up after 30 s).
    const deadline = performance.now() + 30_000
    while (shownIdx < files.length && performance.now() < deadline) await sleep(50)

    const shownLat = files.filter((f) => f.shown !== undefined).map((f) => f.shown - f.landed)
    const commitLat = files.filter((f) => f.committed !== undefined).map((f) => f.committed - f.landed)
    const stats = (xs) => ({
      n: xs.length,
      p50: quantile(xs, 0.5),
      p95: quantile(xs, 0.95),
      p99: quantile(xs, 0.99),
      max: xs.length ? Math.max(...xs) : Number.NaN
    })

    await client.invoke('pipeline.stop')
    stoppedCleanly = true
    return {
      url: server.url,
      files: files.length,
      orders: seq,
      perFile,
      writeSeconds,
      achievedRate: seq / writeSeconds,
      shown: stats(shownLat),
      committed: stats(commitLat),
      notShown: files.length - shownLat.length,
      maxShown,
      statePushes,
      batches: batchDurations.length,
      batchDurationP50: quantile(batchDurations, 0.5),
      batchDurationP99: quantile(batchDurations, 0.99),
      rowsPerBatch: batchRows.length ? batchRows.reduce((a, b) => a + b, 0) / batchRows.length : 0,
      errors
    }
  } finally {
    if (!stoppedCleanly) await client.invoke('pipeline.stop').catch(() => undefined)
    await client.close()
    server.child.kill('SIGINT')
    const killer = setTimeout(() => {
      o.log('  serve did not exit within 15 s of SIGINT; sending SIGKILL')
      server.child.kill('SIGKILL')
    }, 15_000)
    const exit = await server.exited
    clearTimeout(killer)
    o.log(`  serve exited (code ${exit.code}${exit.signal ? `, signal ${exit.signal}` : ''})`)
    const noise = server
      .output()
      .split('\n')
      .filter((l) => l.trim() && !/serving the dashboard at|^stopping…$|dashboard is not built/.test(l))
    if (noise.length) o.log(`  serve printed:\n${noise.map((l) => `    ${l}`).join('\n')}`)
  }
}
