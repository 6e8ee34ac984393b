#!/usr/bin/env node
// `npm run bench`: StreamDesk's performance figures, measured against a built CLI.
// A benchmark, not a test: it prints figures next to their targets and never fails on timing
// (it exits non-zero only when something is broken: a command failed, a row count is wrong).
//
//   1. generator throughput      generate --rate max, whole process, events/s (orders + customers)
//   2. bare DuckDB load          read_json of the same files into a fresh DuckDB file (baseline)
//   3. pipeline end to end       pipeline --until-idle, whole process, orders/s, peak RSS; lake statistics
//      (2 and 3 alternate three times, A B A B A B, and are compared by their medians)
//   4. latency at 1,000 orders/s serve + WebSocket client; file landing → header counter shows it
//   5. Kafka vs folder           the same orders through the Kafka source and the folder source
//   6. many small files          10,000 one-line files vs the same lines in one file
//   7. one big file              one 300 MB .jsonl, peak RSS with default settings
//   8. one hot customer          60,000 orders of one customer vs 60,000 different customers
//   9. consecutive batches       20 batches of 300,000 orders into one growing lake
//  10. soak                      `run` at 1,000 orders/s for BENCH_SOAK_SECONDS (off by default)
// Every pipeline run reports wall time, rows/s and peak RSS (GNU time's ru_maxrss, see util.js).
//
// Knobs (see docs/BENCHMARKS.md): BENCH_QUICK=1, BENCH_ROOT, BENCH_ORDERS, BENCH_LATENCY_SECONDS,
// BENCH_MANY_FILES, BENCH_BIG_MB, BENCH_HOT_ORDERS, BENCH_CONSECUTIVE, BENCH_CONSECUTIVE_ORDERS,
// BENCH_SOAK_SECONDS, BENCH_SOAK_RATE, BENCH_RSS_LIMIT_MB, BENCH_SKIP_<THROUGHPUT|LATENCY|KAFKA|MANY_FILES|BIG_FILE|HOT_CUSTOMER|CONSECUTIVE|SOAK>=1.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchBigFile, benchConsecutive, benchHotCustomer, benchManyFiles } from './bench/cases.js'
import { benchKafka } from './bench/kafka.js'
import { runLatency } from './bench/latency.js'
import { benchSoak } from './bench/soak.js'
import { checkCounts, countLines, fmt, killLiveChildren, lakeStats, loadAvg, median, mib, rssMethod, runMeasured } from './bench/util.js'

const here = fileURLToPath(new URL('..', import.meta.url))
// BENCH_ROOT: measure another checkout's build (e.g. a git worktree of an older commit) with this script.
const root = process.env.BENCH_ROOT ? resolve(process.env.BENCH_ROOT) : here
const launcher = join(root, 'bin', 'streamdesk.js')
const loader = join(here, 'scripts', 'bench', 'duckdb-load.js')

const QUICK = process.env.BENCH_QUICK === '1'
function intEnv(name, dflt, quick, min) {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return QUICK ? quick : dflt
  const v = Number(raw)
  if (!Number.isInteger(v) || v < min) {
    console.error(`bench: ${name} must be an integer >= ${min}, got '${raw}'`)
    process.exit(2)
  }
  return v
}
//                      name                        default    quick   min
const ORDERS = intEnv('BENCH_ORDERS', 300_000, 5_000, 1)
const LATENCY_SECONDS = intEnv('BENCH_LATENCY_SECONDS', 30, 3, 1)
const MANY_FILES = intEnv('BENCH_MANY_FILES', 10_000, 200, 1)
const BIG_MB = intEnv('BENCH_BIG_MB', 300, 5, 1)
const HOT_ORDERS = intEnv('BENCH_HOT_ORDERS', 60_000, 2_000, 3)
const CONSECUTIVE = intEnv('BENCH_CONSECUTIVE', 20, 3, 2)
const CONSECUTIVE_ORDERS = intEnv('BENCH_CONSECUTIVE_ORDERS', 300_000, 5_000, 1)
const RSS_LIMIT_MIB = intEnv('BENCH_RSS_LIMIT_MB', 8192, 8192, 256)
const SOAK_SECONDS = intEnv('BENCH_SOAK_SECONDS', 0, 20, 0)
const SOAK_RATE = intEnv('BENCH_SOAK_RATE', 1000, 1000, 1)
const ROUNDS = QUICK ? 1 : 3
const skip = (name) => process.env[`BENCH_SKIP_${name}`] === '1'

const TARGET_GENERATOR_EPS = 50_000
const TARGET_RATIO_NEXT = 0.5
const TARGET_RATIO_GOAL = 0.8
const CLICKHOUSE_REFERENCE_OPS = 755_000
const TARGET_SHOWN_P99_MS = 1000

const summary = []
const log = (line = '') => {
  console.log(line)
  if (line.startsWith('RESULT')) summary.push(line)
}
const ms = (v) => `${fmt(v)} ms`
const secs = (v) => `${(v / 1000).toFixed(2)} s`
const verdict = (ok) => (ok ? 'meets target' : 'BELOW TARGET')
let problems = 0
const problem = (line) => {
  problems++
  log(`  !! ${line}`)
  summary.push(`!! ${line.split('\n')[0]}`)
}

// --- setup --------------------------------------------------------------------------------------

if (!existsSync(launcher)) {
  console.error(`bench: ${launcher} does not exist (BENCH_ROOT must be a StreamDesk checkout)`)
  process.exit(2)
}
const cliFile = join(root, 'out', 'main', 'cli.js')
if (!existsSync(cliFile)) {
  log(`bench: ${cliFile} is missing, building it (npx electron-vite build in ${root})…`)
  const r = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error('bench: the build failed')
    process.exit(1)
  }
}

// Which build is measured: the CLI's mtime and the checkout's commit (a rebuild mid-run is reported).
const cliBuiltAt = () => statSync(cliFile).mtime
const builtAtStart = cliBuiltAt()
const gitHead = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' })
const commit = gitHead.status === 0 ? gitHead.stdout.trim() : 'unknown'
const gitDirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], { cwd: root, encoding: 'utf8' })
const dirty = gitDirty.status === 0 && gitDirty.stdout.trim() ? ' + uncommitted changes in src/' : ''

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
log(`StreamDesk benchmark${QUICK ? ' (BENCH_QUICK=1: everything small, a smoke check of the harness; the figures mean nothing)' : ''}`)
log(
  `machine: ${cpus.length} cpu${cpus.length === 1 ? '' : 's'} (${cpus[0]?.model?.trim() ?? 'unknown'}), ` +
    `${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM, ${os.platform()} ${os.release()}, node ${process.version}`
)
log(`load average at start (1/5/15 min): ${loadAvg()}`)
log(`build: ${cliFile} from ${builtAtStart.toISOString()}, checkout at ${commit}${dirty}`)
log(`peak RSS: ${rssMethod()}; a process tree above ${fmt(RSS_LIMIT_MIB)} MiB is killed (BENCH_RSS_LIMIT_MB)`)
log(`work dir: ${work}`)
log()

/** Runs one section: skippable, its load printed, an exception is a problem (the next section still runs). */
async function section(title, skipName, fn) {
  if (skipName && skip(skipName)) {
    log(`${title}: skipped (BENCH_SKIP_${skipName}=1)`)
    log()
    return
  }
  log(`${title}  [load ${loadAvg()}]`)
  try {
    await fn()
  } catch (err) {
    problem(`${title}: ${err.message}`)
  }
  log(`  load at end of section: ${loadAvg()}`)
  log()
}

const ctx = {
  launcher,
  work,
  log,
  problem,
  rssLimitMiB: RSS_LIMIT_MIB,
  result: (line) => log(`RESULT ${line}`)
}

// --- 1. generator -------------------------------------------------------------------------------

const input = join(work, 'input')
let orderFiles = null
let customerFiles = null

await section(`1. Generator: generate --rate max --count ${fmt(ORDERS)} --seed 7 (whole process)`, 'THROUGHPUT', async () => {
  const gen = await runMeasured(
    process.execPath,
    [launcher, 'generate', '--output', input, '--rate', 'max', '--count', String(ORDERS), '--seed', '7', '--quiet'],
    { cwd: work, rssLimitMiB: RSS_LIMIT_MIB }
  )
  if (gen.code !== 0) throw new Error(`generate failed (exit ${gen.code}):\n${gen.stderr}`)
  if (gen.stderr.trim()) log(`  generate printed: ${gen.stderr.trim()}`)
  orderFiles = await countLines(join(input, 'orders'))
  customerFiles = await countLines(join(input, 'customers'))
  if (orderFiles.lines !== ORDERS) problem(`expected ${fmt(ORDERS)} order lines, found ${fmt(orderFiles.lines)}`)
  const events = orderFiles.lines + customerFiles.lines
  const genEps = events / (gen.ms / 1000)
  log(
    `  ${fmt(orderFiles.lines)} orders + ${fmt(customerFiles.lines)} customers = ${fmt(events)} events in ` +
      `${fmt(orderFiles.files)} + ${fmt(customerFiles.files)} files, ${secs(gen.ms)}, peak RSS ${mib(gen.peakRssKiB)}`
  )
  log(
    `RESULT generator: ${fmt(genEps)} events/s (${fmt(orderFiles.lines / (gen.ms / 1000))} orders/s) ` +
      `vs target ${fmt(TARGET_GENERATOR_EPS)} events/s: ${verdict(genEps >= TARGET_GENERATOR_EPS)}; load ${loadAvg()}`
  )
})

// --- 2 + 3. bare DuckDB load vs pipeline, alternating ------------------------------------------

async function bareLoad(round) {
  const db = join(work, `bare-${round}.duckdb`)
  const r = await runMeasured(process.execPath, [loader, db, input], { cwd: work, rssLimitMiB: RSS_LIMIT_MIB })
  rmSync(db, { force: true })
  rmSync(`${db}.wal`, { force: true })
  if (r.code !== 0) throw new Error(`bare DuckDB load failed (exit ${r.code}):\n${r.stderr}`)
  const inner = JSON.parse(r.stdout.trim().split('\n').pop())
  if (inner.orders !== orderFiles.lines || inner.customers !== customerFiles.lines) {
    problem(`bare load read ${inner.orders} orders / ${inner.customers} customers, expected ${orderFiles.lines} / ${customerFiles.lines}`)
  }
  return { wallMs: r.ms, rss: r.peakRssKiB, queryMs: inner.queryMs, ordersMs: inner.ordersMs, customersMs: inner.customersMs }
}

async function pipelineRun(round) {
  const lake = join(work, `lake-${round}`)
  const r = await runMeasured(
    process.execPath,
    [launcher, 'pipeline', '--input-path', input, '--lake', lake, '--until-idle', '--quiet'],
    { cwd: work, rssLimitMiB: RSS_LIMIT_MIB }
  )
  if (r.killedForRss) throw new Error(`pipeline killed by the bench: the process tree used ${mib(r.killedForRss)}`)
  if (r.code !== 0) throw new Error(`pipeline failed (exit ${r.code}):\n${r.stderr}`)
  const extra = r.stderr.split('\n').filter((l) => l.trim() && !/^idle: all input committed/.test(l))
  if (extra.length) log(`    pipeline printed: ${extra.join(' | ')}`)
  const stats = await lakeStats(lake)
  rmSync(lake, { recursive: true, force: true })
  return { wallMs: r.ms, rss: r.peakRssKiB, stats }
}

if (orderFiles) {
  await section(`2+3. Bare DuckDB load (A) and pipeline end to end (B), the generator's mix, alternating ${ROUNDS} times`, null, async () => {
    const bare = []
    const pipe = []
    for (let round = 1; round <= ROUNDS; round++) {
      const a = await bareLoad(round)
      bare.push(a)
      log(
        `  round ${round} A bare:     ${secs(a.wallMs)} process (${fmt(ORDERS / (a.wallMs / 1000))} orders/s), peak RSS ${mib(a.rss)}, ` +
          `queries ${ms(a.queryMs)} (orders ${ms(a.ordersMs)}, customers ${ms(a.customersMs)}); load ${loadAvg()}`
      )
      const b = await pipelineRun(round)
      pipe.push(b)
      const s = b.stats
      log(
        `  round ${round} B pipeline: ${secs(b.wallMs)} process (${fmt(ORDERS / (b.wallMs / 1000))} orders/s, ` +
          `${fmt((orderFiles.lines + customerFiles.lines) / (b.wallMs / 1000))} rows/s), peak RSS ${mib(b.rss)}, ` +
          `${fmt(s.batches)} batch${s.batches === 1 ? '' : 'es'}, batch p50 ${ms(s.p50)} p99 ${ms(s.p99)}, ${fmt(s.rows_per_batch)} rows/batch; load ${loadAvg()}`
      )
      const bad = checkCounts(s, { orders: orderFiles.lines, customers: customerFiles.lines })
      log(
        `    lake: silver ${fmt(s.tables.silver)}, bronze ${fmt(s.tables.bronze_orders)} orders + ${fmt(s.tables.bronze_customers)} customers ` +
          `(written ${fmt(orderFiles.lines)} + ${fmt(customerFiles.lines)}: ${bad.length ? 'MISMATCH' : 'ok'}), ` +
          `alerts ${fmt(s.tables.alerts)}, windows ${fmt(s.tables.windows)}, customers ${fmt(s.tables.customers)}, ` +
          `quarantined ${fmt(s.quarantined)}, duplicates ${fmt(s.duplicates)}, late ${fmt(s.late)}`
      )
      for (const x of bad) problem(`round ${round}: ${x}`)
    }

    const bareWall = median(bare.map((x) => x.wallMs))
    const bareQuery = median(bare.map((x) => x.queryMs))
    const pipeWall = median(pipe.map((x) => x.wallMs))
    const bareOps = ORDERS / (bareWall / 1000)
    const pipeOps = ORDERS / (pipeWall / 1000)
    const ratio = pipeOps / bareOps
    const med = (f) => median(pipe.map((x) => f(x.stats)))
    log(
      `RESULT bare DuckDB load: median ${secs(bareWall)} process = ${fmt(bareOps)} orders/s ` +
        `(in-process queries ${secs(bareQuery)} = ${fmt(ORDERS / (bareQuery / 1000))} orders/s), peak RSS ${mib(median(bare.map((x) => x.rss)))}`
    )
    log(
      `RESULT pipeline, generator's mix (${fmt(orderFiles.lines)} orders + ${fmt(customerFiles.lines)} customers): median ${secs(pipeWall)} process = ` +
        `${fmt(pipeOps)} orders/s, ${fmt((orderFiles.lines + customerFiles.lines) / (pipeWall / 1000))} rows/s, ` +
        `peak RSS ${mib(median(pipe.map((x) => x.rss)))} (max ${mib(Math.max(...pipe.map((x) => x.rss)))}); ` +
        `median of ${fmt(med((s) => s.batches))} batch(es), batch duration p50 ${ms(med((s) => s.p50))} / p99 ${ms(med((s) => s.p99))}; load ${loadAvg()}`
    )
    log(
      `RESULT pipeline / bare DuckDB (whole process, medians): ${ratio.toFixed(2)} vs target >= ${TARGET_RATIO_NEXT} next ` +
        `(${verdict(ratio >= TARGET_RATIO_NEXT)}), goal >= ${TARGET_RATIO_GOAL} (${ratio >= TARGET_RATIO_GOAL ? 'met' : 'not met'}); ` +
        `ClickHouse reference ~${fmt(CLICKHOUSE_REFERENCE_OPS)} orders/s on this machine (pipeline = ${((100 * pipeOps) / CLICKHOUSE_REFERENCE_OPS).toFixed(1)}% of it)`
    )
  })
}

// --- 4. latency ---------------------------------------------------------------------------------

await section(`4. Latency at 1,000 orders/s for ${LATENCY_SECONDS} s: serve (trigger 250 ms, refresh 0.5 s) + WebSocket client`, 'LATENCY', async () => {
  const r = await runLatency({ cliLauncher: launcher, workDir: work, seconds: LATENCY_SECONDS, log })
  log(
    `  wrote ${fmt(r.orders)} orders in ${fmt(r.files)} files of ${r.perFile} over ${r.writeSeconds.toFixed(1)} s ` +
      `(${fmt(r.achievedRate)} orders/s); ${fmt(r.batches)} batches (p50 ${ms(r.batchDurationP50)}, p99 ${ms(r.batchDurationP99)}, ` +
      `${fmt(r.rowsPerBatch)} rows/batch); ${fmt(r.statePushes)} pipeline.state pushes; load ${loadAvg()}`
  )
  for (const e of r.errors) problem(e)
  if (r.notShown > 0) problem(`${r.notShown} of ${r.files} files were never shown (header reached ${fmt(r.maxShown)} of ${fmt(r.orders)} orders)`)
  const line = (s) => `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (n=${s.n})`
  log(`RESULT latency landing→commit (batch.progress): ${line(r.committed)}`)
  log(
    `RESULT latency landing→shown (pipeline.state totals.orders): ${line(r.shown)} vs target p99 < ${fmt(TARGET_SHOWN_P99_MS)} ms: ` +
      `${verdict(r.shown.p99 < TARGET_SHOWN_P99_MS)}; load ${loadAvg()}`
  )
})

// --- 5. Kafka ingest next to the folder source ---------------------------------------------------

await section('5. Kafka ingest vs folder source, same orders, same run', 'KAFKA', async () => {
  const k = await benchKafka({ orders: Math.min(ORDERS, 200_000), log, rounds: ROUNDS, launcher })
  if (k.skipped) log(`  Kafka: not measured: ${k.skipped}`)
  // kafka.js printed them already; count them here
  for (const p of k.problems ?? []) {
    problems++
    summary.push(`!! kafka: ${p}`)
  }
})

// --- 6-9. input shapes ---------------------------------------------------------------------------

await section(`6. Many small files: ${fmt(MANY_FILES)} one-line order files vs the same lines in one file`, 'MANY_FILES', () =>
  benchManyFiles(ctx, { files: MANY_FILES })
)
await section(`7. One big file: ${fmt(BIG_MB)} MB of orders in one .jsonl, default settings`, 'BIG_FILE', () =>
  benchBigFile(ctx, { megabytes: BIG_MB })
)
await section(`8. One hot customer: ${fmt(HOT_ORDERS)} orders of one customer_id vs ${fmt(HOT_ORDERS)} different customers`, 'HOT_CUSTOMER', () =>
  benchHotCustomer(ctx, { orders: HOT_ORDERS, rounds: ROUNDS })
)
await section(`9. ${fmt(CONSECUTIVE)} consecutive ${fmt(CONSECUTIVE_ORDERS)}-order batches into one lake (one pipeline --until-idle per batch)`, 'CONSECUTIVE', () =>
  benchConsecutive(ctx, { batches: CONSECUTIVE, orders: CONSECUTIVE_ORDERS })
)

// --- 10. a long run ------------------------------------------------------------------------------

await section(`10. Soak: streamdesk run at ${fmt(SOAK_RATE)} orders/s for ${fmt(SOAK_SECONDS)} s, memory and lag over time`, 'SOAK', async () => {
  if (SOAK_SECONDS === 0) {
    log('  not run: set BENCH_SOAK_SECONDS (1800 is half an hour; it runs as long as it says)')
    return
  }
  await benchSoak(ctx, { minutes: SOAK_SECONDS / 60, rate: SOAK_RATE })
})

log(`load average at end (1/5/15 min): ${loadAvg()}`)
if (existsSync(cliFile) && cliBuiltAt().getTime() !== builtAtStart.getTime()) {
  log(`note: ${cliFile} was rebuilt during the run (now ${cliBuiltAt().toISOString()}); the figures may mix two builds`)
}
log()
log('Summary')
for (const line of summary) console.log(`  ${line}`)

cleanup()
const leftovers = existsSync(work) ? readdirSync(work) : []
if (leftovers.length) log(`bench: could not remove ${work}`)
if (problems) {
  log(`bench: ${problems} problem(s) above (correctness, not timing)`)
  process.exitCode = 1
}
