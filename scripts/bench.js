#!/usr/bin/env node
// `npm run bench`: StreamDesk's performance figures, measured against the built CLI.
// A benchmark, not a test: it prints figures next to their targets and never fails on timing
// (it exits non-zero only when something is broken: a CLI error, a wrong row count).
//
//   1. generator throughput      generate --rate max, whole process, events/s (orders + customers)
//   2. bare DuckDB load          read_json of the same files into a fresh DuckDB file (baseline)
//   3. pipeline end to end       pipeline --until-idle, whole process, orders/s; lake statistics
//      (2 and 3 alternate three times, A B A B A B, and are compared by their medians)
//   4. latency at 1,000 orders/s serve + WebSocket client; file landing → header counter shows it
//
// Knobs: BENCH_ORDERS (300000), BENCH_LATENCY_SECONDS (30), BENCH_SKIP_LATENCY=1, BENCH_SKIP_KAFKA=1.
// See docs/BENCHMARKS.md.
import { benchKafka } from './bench/kafka.js'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { runLatency } from './bench/latency.js'
import { countLines, fmt, killLiveChildren, median, timeProcess } from './bench/util.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const launcher = join(root, 'bin', 'streamdesk.js')
const loader = join(root, 'scripts', 'bench', 'duckdb-load.js')

function intEnv(name, dflt, min) {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return dflt
  const v = Number(raw)
  if (!Number.isInteger(v) || v < min) {
    console.error(`bench: ${name} must be an integer >= ${min}, got '${raw}'`)
    process.exit(2)
  }
  return v
}
const ORDERS = intEnv('BENCH_ORDERS', 300_000, 1)
const LATENCY_SECONDS = intEnv('BENCH_LATENCY_SECONDS', 30, 1)
const SKIP_LATENCY = process.env.BENCH_SKIP_LATENCY === '1'
const ROUNDS = 3

const TARGET_GENERATOR_EPS = 50_000
const TARGET_RATIO = 0.8
const CLICKHOUSE_REFERENCE_OPS = 400_000
const TARGET_SHOWN_P99_MS = 1000

const log = (line = '') => console.log(line)
const ms = (v) => `${fmt(v)} ms`
const secs = (v) => `${(v / 1000).toFixed(2)} s`
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ')
const verdict = (ok) => (ok ? 'meets target' : 'BELOW TARGET')
let problems = 0
const problem = (line) => {
  problems++
  log(`  !! ${line}`)
}

// --- setup --------------------------------------------------------------------------------------

if (!existsSync(join(root, 'out', 'main', 'cli.js'))) {
  log('bench: out/main/cli.js is missing, building it (npx electron-vite build)…')
  const r = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error('bench: the build failed')
    process.exit(1)
  }
}

// Which build is measured: the CLI's mtime and the checkout's commit (a rebuild mid-run is reported).
const cliFile = join(root, 'out', 'main', 'cli.js')
const cliBuiltAt = () => statSync(cliFile).mtime
const builtAtStart = cliBuiltAt()
const gitHead = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' })
const commit = gitHead.status === 0 ? gitHead.stdout.trim() : 'unknown'

const work = mkdtempSync(join(os.tmpdir(), 'streamdesk-bench-'))
let cleaned = false
function cleanup() {
  if (cleaned) return
  cleaned = true
  killLiveChildren()
  rmSync(work, { recursive: true, force: true })
}
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`bench: ${sig}, cleaning up`)
    cleanup()
    process.exit(130)
  })
}

const cpus = os.cpus()
log('StreamDesk benchmark')
log(
  `machine: ${cpus.length} cpu${cpus.length === 1 ? '' : 's'} (${cpus[0]?.model?.trim() ?? 'unknown'}), ` +
    `${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM, ${os.platform()} ${os.release()}, node ${process.version}`
)
log(`load average at start (1/5/15 min): ${load()}`)
log(`build: out/main/cli.js from ${builtAtStart.toISOString()}, checkout at ${commit}`)
log(`orders: ${fmt(ORDERS)}; work dir: ${work}`)
log()

const input = join(work, 'input')

// --- 1. generator -------------------------------------------------------------------------------

log('1. Generator: generate --rate max --count N --seed 7 (whole process)')
const gen = await timeProcess(
  process.execPath,
  [launcher, 'generate', '--output', input, '--rate', 'max', '--count', String(ORDERS), '--seed', '7', '--quiet'],
  { cwd: work }
)
if (gen.code !== 0) {
  console.error(`bench: generate failed (exit ${gen.code}):\n${gen.stderr}`)
  process.exit(1)
}
if (gen.stderr.trim()) log(`  generate printed: ${gen.stderr.trim()}`)
const orderFiles = await countLines(join(input, 'orders'))
const customerFiles = await countLines(join(input, 'customers'))
if (orderFiles.lines !== ORDERS) problem(`expected ${fmt(ORDERS)} order lines, found ${fmt(orderFiles.lines)}`)
const events = orderFiles.lines + customerFiles.lines
const genEps = events / (gen.ms / 1000)
log(
  `  ${fmt(orderFiles.lines)} orders + ${fmt(customerFiles.lines)} customers = ${fmt(events)} events in ` +
    `${fmt(orderFiles.files)} + ${fmt(customerFiles.files)} files, ${secs(gen.ms)}`
)
log(
  `RESULT generator: ${fmt(genEps)} events/s (${fmt(orderFiles.lines / (gen.ms / 1000))} orders/s) ` +
    `vs target ${fmt(TARGET_GENERATOR_EPS)} events/s: ${verdict(genEps >= TARGET_GENERATOR_EPS)}`
)
log()

// --- 2 + 3. bare DuckDB load vs pipeline, alternating ------------------------------------------

async function bareLoad(round) {
  const db = join(work, `bare-${round}.duckdb`)
  const r = await timeProcess(process.execPath, [loader, db, input], { cwd: work })
  rmSync(db, { force: true })
  rmSync(`${db}.wal`, { force: true })
  if (r.code !== 0) throw new Error(`bare DuckDB load failed (exit ${r.code}):\n${r.stderr}`)
  const inner = JSON.parse(r.stdout.trim().split('\n').pop())
  if (inner.orders !== orderFiles.lines || inner.customers !== customerFiles.lines) {
    problem(`bare load read ${inner.orders} orders / ${inner.customers} customers, expected ${orderFiles.lines} / ${customerFiles.lines}`)
  }
  return { wallMs: r.ms, queryMs: inner.queryMs, ordersMs: inner.ordersMs, customersMs: inner.customersMs }
}

async function lakeStats(lakeDir) {
  const instance = await DuckDBInstance.create(join(lakeDir, 'lake.duckdb'), { access_mode: 'READ_ONLY' })
  const conn = await instance.connect()
  try {
    const one = async (sql) => (await (await conn.runAndReadAll(sql)).getRowObjectsJS())[0]
    const b = await one(`SELECT count(*) AS batches,
        quantile_cont(duration_ms, 0.5) AS p50, quantile_cont(duration_ms, 0.99) AS p99, max(duration_ms) AS max,
        avg(rows_read) AS rows_per_batch, coalesce(sum(rows_read), 0) AS rows_read, coalesce(sum(valid), 0) AS valid,
        coalesce(sum(quarantined), 0) AS quarantined, coalesce(sum(duplicates), 0) AS duplicates,
        coalesce(sum(late), 0) AS late, coalesce(sum(alerts), 0) AS alerts FROM batches`)
    const c = await one(`SELECT (SELECT count(*) FROM silver_orders) AS silver, (SELECT count(*) FROM fraud_alerts) AS alerts,
        (SELECT count(*) FROM order_windows) AS windows, (SELECT count(*) FROM customers) AS customers,
        (SELECT count(*) FROM quarantine) AS quarantine`)
    const num = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? Number.NaN : Number(v)]))
    return { ...num(b), tables: num(c) }
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}

async function pipelineRun(round) {
  const lake = join(work, `lake-${round}`)
  const r = await timeProcess(
    process.execPath,
    [launcher, 'pipeline', '--input-path', input, '--lake', lake, '--until-idle', '--quiet'],
    { cwd: work }
  )
  if (r.code !== 0) throw new Error(`pipeline failed (exit ${r.code}):\n${r.stderr}`)
  const extra = r.stderr
    .split('\n')
    .filter((l) => l.trim() && !/^idle: all input committed/.test(l))
  if (extra.length) log(`    pipeline printed: ${extra.join(' | ')}`)
  const stats = await lakeStats(lake)
  rmSync(lake, { recursive: true, force: true })
  return { wallMs: r.ms, stats }
}

log(`2+3. Bare DuckDB load (A) and pipeline end to end (B), alternating ${ROUNDS} times`)
const bare = []
const pipe = []
for (let round = 1; round <= ROUNDS; round++) {
  const a = await bareLoad(round)
  bare.push(a)
  log(
    `  round ${round} A bare:     ${secs(a.wallMs)} process (${fmt(ORDERS / (a.wallMs / 1000))} orders/s), ` +
      `queries ${ms(a.queryMs)} (orders ${ms(a.ordersMs)}, customers ${ms(a.customersMs)}); load ${load()}`
  )
  const b = await pipelineRun(round)
  pipe.push(b)
  const s = b.stats
  log(
    `  round ${round} B pipeline: ${secs(b.wallMs)} process (${fmt(ORDERS / (b.wallMs / 1000))} orders/s), ` +
      `${fmt(s.batches)} batch${s.batches === 1 ? '' : 'es'}, batch p50 ${ms(s.p50)} p99 ${ms(s.p99)}, ${fmt(s.rows_per_batch)} rows/batch; load ${load()}`
  )
  const okSilver = s.tables.silver === s.valid && s.tables.silver === orderFiles.lines
  log(
    `    lake: silver ${fmt(s.tables.silver)} (valid ${fmt(s.valid)}, generated ${fmt(orderFiles.lines)}: ${okSilver ? 'ok' : 'MISMATCH'}), ` +
      `alerts ${fmt(s.tables.alerts)}, windows ${fmt(s.tables.windows)}, customers ${fmt(s.tables.customers)}, ` +
      `quarantined ${fmt(s.quarantined)}, duplicates ${fmt(s.duplicates)}, late ${fmt(s.late)}`
  )
  if (!okSilver) problem('silver_orders row count does not match the valid/generated orders')
}

const bareWall = median(bare.map((x) => x.wallMs))
const bareQuery = median(bare.map((x) => x.queryMs))
const pipeWall = median(pipe.map((x) => x.wallMs))
const bareOps = ORDERS / (bareWall / 1000)
const bareQueryOps = ORDERS / (bareQuery / 1000)
const pipeOps = ORDERS / (pipeWall / 1000)
const ratio = pipeOps / bareOps
const med = (f) => median(pipe.map((x) => f(x.stats)))
log(
  `RESULT bare DuckDB load: median ${secs(bareWall)} process = ${fmt(bareOps)} orders/s ` +
    `(in-process queries ${secs(bareQuery)} = ${fmt(bareQueryOps)} orders/s)`
)
log(
  `RESULT pipeline: median ${secs(pipeWall)} process = ${fmt(pipeOps)} orders/s; ` +
    `median of ${fmt(med((s) => s.batches))} batch(es), batch duration p50 ${ms(med((s) => s.p50))} / p99 ${ms(med((s) => s.p99))}, ` +
    `${fmt(med((s) => s.rows_per_batch))} rows/batch`
)
log(
  `RESULT pipeline / bare DuckDB (whole process, medians): ${ratio.toFixed(2)} vs target >= ${TARGET_RATIO}: ` +
    `${verdict(ratio >= TARGET_RATIO)}; ClickHouse reference ~${fmt(CLICKHOUSE_REFERENCE_OPS)} orders/s on a 2-core ` +
    `machine (pipeline = ${((100 * pipeOps) / CLICKHOUSE_REFERENCE_OPS).toFixed(1)}% of it)`
)
log()

// --- 4. latency ---------------------------------------------------------------------------------

if (SKIP_LATENCY) {
  log('4. Latency: skipped (BENCH_SKIP_LATENCY=1)')
} else {
  log(`4. Latency at 1,000 orders/s for ${LATENCY_SECONDS} s: serve (trigger 250 ms, refresh 0.5 s) + WebSocket client`)
  log(`  load ${load()}`)
  const r = await runLatency({ cliLauncher: launcher, workDir: work, seconds: LATENCY_SECONDS, log })
  log(
    `  wrote ${fmt(r.orders)} orders in ${fmt(r.files)} files of ${r.perFile} over ${r.writeSeconds.toFixed(1)} s ` +
      `(${fmt(r.achievedRate)} orders/s); ${fmt(r.batches)} batches (p50 ${ms(r.batchDurationP50)}, p99 ${ms(r.batchDurationP99)}, ` +
      `${fmt(r.rowsPerBatch)} rows/batch); ${fmt(r.statePushes)} pipeline.state pushes; load ${load()}`
  )
  for (const e of r.errors) problem(e)
  if (r.notShown > 0) problem(`${r.notShown} of ${r.files} files were never shown (header reached ${fmt(r.maxShown)} of ${fmt(r.orders)} orders)`)
  const line = (s) => `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (n=${s.n})`
  log(`RESULT latency landing→commit (batch.progress): ${line(r.committed)}`)
  log(
    `RESULT latency landing→shown (pipeline.state totals.orders): ${line(r.shown)} vs target p99 < ${fmt(TARGET_SHOWN_P99_MS)} ms: ` +
      `${verdict(r.shown.p99 < TARGET_SHOWN_P99_MS)}`
  )
}
log()

// --- 5. Kafka ingest next to the folder source ---------------------------------------------------

if (process.env.BENCH_SKIP_KAFKA === '1') {
  log('5. Kafka: skipped (BENCH_SKIP_KAFKA=1)')
} else {
  log('5. Kafka ingest vs folder source, same orders, same run')
  const k = await benchKafka({ orders: Math.min(ORDERS, 200_000), log })
  if (k.skipped) log(`5. Kafka: not measured: ${k.skipped}`)
}
log()
log(`load average at end (1/5/15 min): ${load()}`)
if (existsSync(cliFile) && cliBuiltAt().getTime() !== builtAtStart.getTime()) {
  log(`note: out/main/cli.js was rebuilt during the run (now ${cliBuiltAt().toISOString()}); the figures may mix two builds`)
}

cleanup()
const leftovers = existsSync(work) ? readdirSync(work) : []
if (leftovers.length) log(`bench: could not remove ${work}`)
if (problems) {
  log(`bench: ${problems} problem(s) above (correctness, not timing)`)
  process.exitCode = 1
}
