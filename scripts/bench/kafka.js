// Kafka ingest next to the folder source, for `npm run bench`.
//
// A real Kafka wire-protocol broker (librdkafka's mock cluster, tests/support/kafka-mock-broker.c,
// built with gcc; needs librdkafka-dev) gets the generator's output (generate --mode kafka, gzip);
// the same orders (same seed and count) are also written as files. Then the pipeline ingests
// each into a fresh lake, folder (A) and Kafka (B) alternating, whole process
// (`pipeline --until-idle`), and the medians are compared. Target: Kafka >= 0.6 x folder.
//
//   import { benchKafka } from './bench/kafka.js'
//   const r = await benchKafka({ orders: 300_000, log, launcher })   // { folderOps, kafkaOps, ratio, ... } or { skipped }
//   (launcher: the bin/streamdesk.js of the build to measure; default this checkout's)
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { fmt, liveChildren, median, timeProcess } from './util.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const defaultLauncher = join(root, 'bin', 'streamdesk.js')
const brokerSource = join(root, 'tests', 'support', 'kafka-mock-broker.c')
export const TARGET_KAFKA_RATIO = 0.6

/** Compiles the mock broker (cached by source hash); throws with a readable reason. */
function brokerBinary() {
  if (!existsSync('/usr/include/librdkafka/rdkafka_mock.h')) {
    throw new Error('librdkafka-dev is not installed (apt-get install librdkafka-dev)')
  }
  const hash = createHash('sha256').update(readFileSync(brokerSource)).digest('hex').slice(0, 12)
  const dir = join(os.tmpdir(), 'streamdesk-kafka-mock')
  const bin = join(dir, `kafka-mock-broker-${hash}`)
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    const tmp = `${bin}.${process.pid}.tmp`
    execFileSync('gcc', ['-O1', '-rdynamic', '-o', tmp, brokerSource, '-lrdkafka', '-ldl'], { stdio: 'pipe' })
    renameSync(tmp, bin)
  }
  return bin
}

/** Starts the mock cluster; resolves { bootstrap, stop }. */
function startBroker(bin, topics) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, Object.entries(topics).map(([t, n]) => `${t}:${n}`), { stdio: ['pipe', 'pipe', 'pipe'] })
    liveChildren.add(proc)
    let out = ''
    let err = ''
    proc.stderr.on('data', (d) => (err += d))
    proc.stdout.on('data', (d) => {
      out += d
      const m = /BOOTSTRAP (\S+)/.exec(out)
      if (m) {
        resolve({
          bootstrap: m[1].split(',')[0],
          stop: () =>
            new Promise((done) => {
              liveChildren.delete(proc)
              if (proc.exitCode !== null) return done()
              proc.on('exit', () => done())
              proc.stdin.end()
              proc.kill('SIGTERM')
            })
        })
      }
    })
    proc.on('exit', (code) => reject(new Error(`mock broker exited (${code}): ${err.trim()}`)))
    proc.on('error', reject)
  })
}

async function silverCount(lake) {
  const instance = await DuckDBInstance.create(join(lake, 'lake.duckdb'), { access_mode: 'READ_ONLY' })
  const conn = await instance.connect()
  try {
    const r = await conn.runAndReadAll(
      `SELECT (SELECT count(*) FROM silver_orders) AS silver, (SELECT count(*) FROM batches) AS batches,
        (SELECT coalesce(sum(rows_read), 0) FROM batches) AS rows_read`
    )
    const row = r.getRowObjectsJS()[0]
    return { silver: Number(row.silver), batches: Number(row.batches), rowsRead: Number(row.rows_read) }
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}

/**
 * Measures folder vs Kafka ingest of `orders` orders; logs progress and RESULT lines with `log`.
 * Never throws on timing; returns { skipped } when no broker can be built here.
 */
export async function benchKafka({ orders, log = console.log, rounds = 3, launcher = defaultLauncher }) {
  let bin
  try {
    bin = brokerBinary()
  } catch (err) {
    log(`  skipped: ${err.message}`)
    return { skipped: err.message }
  }
  const work = mkdtempSync(join(os.tmpdir(), 'streamdesk-bench-kafka-'))
  // the mock broker keeps only the newest ~5 MiB per partition: ~80 bytes per gzip'd order
  const partitions = Math.max(3, Math.ceil((orders * 100) / (2.5 * 1024 * 1024)))
  const broker = await startBroker(bin, { ecommerce_orders: partitions, ecommerce_customers: 4 })
  const problems = []
  try {
    const input = join(work, 'input')
    const gen = await timeProcess(
      process.execPath,
      [launcher, 'generate', '--mode', 'kafka', '--kafka-servers', broker.bootstrap, '--rate', 'max', '--count', String(orders), '--seed', '7', '--quiet'],
      { cwd: work }
    )
    if (gen.code !== 0) throw new Error(`generate --mode kafka failed (exit ${gen.code}):\n${gen.stderr}`)
    log(
      `  generate --mode kafka: ${fmt(orders)} orders to ${partitions} partitions (gzip) in ${(gen.ms / 1000).toFixed(2)} s ` +
        `(${fmt(orders / (gen.ms / 1000))} orders/s, whole process)`
    )
    const genFiles = await timeProcess(
      process.execPath,
      [launcher, 'generate', '--output', input, '--rate', 'max', '--count', String(orders), '--seed', '7', '--quiet'],
      { cwd: work }
    )
    if (genFiles.code !== 0) throw new Error(`generate failed (exit ${genFiles.code}):\n${genFiles.stderr}`)

    const runs = { folder: [], kafka: [] }
    for (let round = 1; round <= rounds; round++) {
      for (const mode of ['folder', 'kafka']) {
        const lake = join(work, `lake-${mode}-${round}`)
        const args =
          mode === 'folder'
            ? [launcher, 'pipeline', '--input-path', input, '--lake', lake, '--until-idle', '--quiet']
            : [launcher, 'pipeline', '--mode', 'kafka', '--kafka-servers', broker.bootstrap, '--lake', lake, '--until-idle', '--quiet']
        const r = await timeProcess(process.execPath, args, { cwd: work })
        if (r.code !== 0) throw new Error(`pipeline (${mode}) failed (exit ${r.code}):\n${r.stderr}`)
        const s = await silverCount(lake)
        rmSync(lake, { recursive: true, force: true })
        if (s.silver !== orders) problems.push(`${mode} round ${round}: silver holds ${fmt(s.silver)} orders, expected ${fmt(orders)}`)
        runs[mode].push(r.ms)
        log(
          `  round ${round} ${mode === 'folder' ? 'A folder' : 'B kafka '}: ${(r.ms / 1000).toFixed(2)} s process ` +
            `(${fmt(orders / (r.ms / 1000))} orders/s), ${fmt(s.batches)} batch${s.batches === 1 ? '' : 'es'}, ` +
            `${fmt(s.rowsRead)} rows; load ${os.loadavg()[0].toFixed(2)}`
        )
      }
    }
    const folderOps = orders / (median(runs.folder) / 1000)
    const kafkaOps = orders / (median(runs.kafka) / 1000)
    const ratio = kafkaOps / folderOps
    for (const p of problems) log(`  !! ${p}`)
    log(`RESULT folder ingest: median ${fmt(folderOps)} orders/s (whole process)`)
    log(
      `RESULT kafka ingest: median ${fmt(kafkaOps)} orders/s (whole process); kafka / folder = ${ratio.toFixed(2)} ` +
        `vs target >= ${TARGET_KAFKA_RATIO}: ${ratio >= TARGET_KAFKA_RATIO ? 'meets target' : 'BELOW TARGET'}`
    )
    return { folderOps, kafkaOps, ratio, partitions, problems, runs }
  } finally {
    await broker.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

// `node scripts/bench/kafka.js [orders]` runs this section alone (after `npm run build`).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const orders = Number(process.argv[2] ?? process.env.BENCH_ORDERS ?? 100_000)
  const r = await benchKafka({ orders, log: (l = '') => console.log(l) })
  if (r.problems?.length) process.exitCode = 1
}
