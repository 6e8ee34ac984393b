// Small helpers shared by scripts/bench.js and its sections.
import { spawn, spawnSync } from 'node:child_process'
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'

/** Children still running; killed (by pid, or by process group for measured runs) if the benchmark is interrupted. */
export const liveChildren = new Set()
/** Scratch folders of runs in flight (GNU time's output); removed with the children. */
const liveScratch = new Set()

export const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : String(n)

/** The machine's load average (1/5/15 min), e.g. '5.12 4.80 3.90'. */
export const loadAvg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

/** KiB (what getrusage and /proc report) as MiB, e.g. '252 MiB'. */
export const mib = (kib) => (Number.isFinite(kib) ? `${fmt(kib / 1024)} MiB` : 'n/a')

/** Linear interpolation between closest ranks (same definition as DuckDB's quantile_cont). */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo] + (s[hi] - s[lo]) * (pos - lo)
}
export const median = (values) => quantile(values, 0.5)

/** Number of '\n' in every *.jsonl file of a folder. */
export async function countLines(dir) {
  let lines = 0
  let files = 0
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.jsonl') || name.startsWith('.')) continue
    files++
    for await (const chunk of createReadStream(join(dir, name))) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
    }
  }
  return { lines, files }
}

/**
 * Runs a command to completion and measures its wall clock (spawn → exit).
 * Resolves { code, signal, ms, stdout, stderr }; never rejects on a non-zero exit.
 */
export function timeProcess(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
    liveChildren.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', (err) => {
      liveChildren.delete(child)
      reject(err)
    })
    child.on('close', (code, signal) => {
      liveChildren.delete(child)
      resolve({ code, signal, ms: performance.now() - t0, stdout, stderr })
    })
  })
}

// --- peak RSS -----------------------------------------------------------------------------------

const GNU_TIME = '/usr/bin/time'
let gnuTimeOk
/** True when /usr/bin/time is GNU time and reports a sane maximum RSS (some old builds report 4x). */
export function haveGnuTime() {
  if (gnuTimeOk !== undefined) return gnuTimeOk
  gnuTimeOk = false
  if (process.platform !== 'linux' || !existsSync(GNU_TIME)) return gnuTimeOk
  const dir = mkdtempSync(join(os.tmpdir(), 'streamdesk-bench-time-'))
  try {
    const out = join(dir, 'rusage')
    // a child that holds ~64 MiB: GNU time must report between 50 and 200 MiB
    const r = spawnSync(
      GNU_TIME,
      ['-f', '%M', '-o', out, process.execPath, '-e', 'globalThis.b = Buffer.alloc(64 * 1024 * 1024, 1)'],
      { stdio: 'ignore', timeout: 30_000 }
    )
    if (r.status === 0) {
      const kib = Number(readFileSync(out, 'utf8').trim().split('\n').pop())
      gnuTimeOk = kib > 50 * 1024 && kib < 200 * 1024
    }
  } catch {
    gnuTimeOk = false
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return gnuTimeOk
}

/** How runMeasured gets the peak RSS, for the bench's header. */
export function rssMethod() {
  return haveGnuTime()
    ? 'GNU time (/usr/bin/time -f %M): the kernel\'s ru_maxrss of the process from wait4(), exact up to its exit'
    : 'polling /proc/<pid>/status VmHWM (the kernel\'s high-water mark) every 100 ms; growth in the last <100 ms before exit can be missed'
}

function procStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (key) => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)
      return m ? Number(m[1]) : 0
    }
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') }
  } catch {
    return null
  }
}

function processTree(pid, out = []) {
  out.push(pid)
  let kids = ''
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
  } catch {
    return out
  }
  for (const k of kids.trim().split(/\s+/)) if (k) processTree(Number(k), out)
  return out
}

/**
 * Runs a command like timeProcess and also measures its peak resident set size.
 *
 * With GNU time: `/usr/bin/time -f '%M %x' -o <file> cmd args…`; %M is ru_maxrss (KiB) of the
 * command, which the kernel keeps until the process exits. Without it: /proc/<pid>/status VmHWM
 * polled every 100 ms (the largest of the process and its descendants).
 *
 * Either way the process tree's summed VmRSS is polled every 100 ms as a guard: above
 * `rssLimitMiB` the whole group is killed with SIGKILL (`killedForRss` set) so one runaway case
 * cannot take a shared machine down.
 *
 * Resolves { code, signal, ms, stdout, stderr, peakRssKiB, polledPeakKiB, killedForRss }.
 */
export function runMeasured(cmd, args, opts = {}) {
  const { rssLimitMiB = 8192, ...spawnOpts } = opts
  const gnu = haveGnuTime()
  const dir = gnu ? mkdtempSync(join(os.tmpdir(), 'streamdesk-bench-rusage-')) : null
  const rusageFile = dir ? join(dir, 'rusage') : null
  if (dir) liveScratch.add(dir)
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const [c, a] = gnu ? [GNU_TIME, ['-f', 'RUSAGE %M %x', '-o', rusageFile, cmd, ...args]] : [cmd, args]
    // its own process group, so an interrupted bench kills the command, not only GNU time
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOpts })
    child.processGroup = true
    liveChildren.add(child)
    let stdout = ''
    let stderr = ''
    let polledPeakKiB = 0 // largest VmHWM seen in the tree (without GNU time: the measurement)
    let killedForRss = null
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const poll = () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      let sum = 0
      for (const pid of processTree(child.pid)) {
        if (gnu && pid === child.pid) continue // GNU time itself
        const s = procStatus(pid)
        if (!s) continue
        sum += s.rss
        polledPeakKiB = Math.max(polledPeakKiB, s.hwm)
      }
      if (sum > rssLimitMiB * 1024 && !killedForRss) {
        killedForRss = sum
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {
          // gone already
        }
      }
    }
    const timer = setInterval(poll, 100)
    child.on('error', (err) => {
      clearInterval(timer)
      liveChildren.delete(child)
      if (dir) rmSync(dir, { recursive: true, force: true })
      liveScratch.delete(dir)
      reject(err)
    })
    child.on('close', (code, signal) => {
      const ms = performance.now() - t0
      clearInterval(timer)
      liveChildren.delete(child)
      let peakRssKiB = polledPeakKiB || Number.NaN
      if (gnu) {
        let text = ''
        try {
          text = readFileSync(rusageFile, 'utf8')
        } catch {
          // the command could not be started
        }
        rmSync(dir, { recursive: true, force: true })
        liveScratch.delete(dir)
        const m = /RUSAGE (\d+) (-?\d+)/.exec(text)
        if (m) {
          peakRssKiB = Number(m[1])
          const sig = /terminated by signal (\d+)/.exec(text)
          if (sig) signal = `signal ${sig[1]}`
        }
      }
      resolve({ code, signal, ms, stdout, stderr, peakRssKiB, polledPeakKiB, killedForRss })
    })
  })
}

export function killLiveChildren() {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.processGroup ? -child.pid : child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  for (const dir of liveScratch) rmSync(dir, { recursive: true, force: true })
  liveScratch.clear()
}

// --- the lake -----------------------------------------------------------------------------------

/**
 * Opens a lake read-only and returns batch statistics and row counts (numbers).
 * `afterBatchId`: also the number and summed duration of the batches after that id.
 */
export async function lakeStats(lakeDir, { afterBatchId = null } = {}) {
  const instance = await DuckDBInstance.create(join(lakeDir, 'lake.duckdb'), { access_mode: 'READ_ONLY' })
  const conn = await instance.connect()
  try {
    const one = async (sql) => (await (await conn.runAndReadAll(sql)).getRowObjectsJS())[0]
    const b = await one(`SELECT count(*) AS batches,
        quantile_cont(duration_ms, 0.5) AS p50, quantile_cont(duration_ms, 0.99) AS p99, max(duration_ms) AS max,
        coalesce(sum(duration_ms), 0) AS duration_sum, coalesce(max(batch_id), 0) AS max_batch_id,
        avg(rows_read) AS rows_per_batch, coalesce(sum(rows_read), 0) AS rows_read, coalesce(sum(valid), 0) AS valid,
        coalesce(sum(quarantined), 0) AS quarantined, coalesce(sum(duplicates), 0) AS duplicates,
        coalesce(sum(late), 0) AS late, coalesce(sum(alerts), 0) AS alerts FROM batches`)
    const c = await one(`SELECT (SELECT count(*) FROM silver_orders) AS silver, (SELECT count(*) FROM fraud_alerts) AS alerts,
        (SELECT count(*) FROM order_windows) AS windows, (SELECT count(*) FROM customers) AS customers,
        (SELECT count(*) FROM quarantine) AS quarantine,
        (SELECT count(*) FROM bronze_orders) AS bronze_orders, (SELECT count(*) FROM bronze_customers) AS bronze_customers`)
    const num = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? Number.NaN : Number(v)]))
    const stats = { ...num(b), tables: num(c) }
    if (afterBatchId !== null) {
      stats.after = num(
        await one(`SELECT count(*) AS batches, coalesce(sum(duration_ms), 0) AS duration_sum,
          coalesce(sum(rows_read), 0) AS rows_read FROM batches WHERE batch_id > ${Number(afterBatchId)}`)
      )
    }
    return stats
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}

/**
 * Compares a lake's row counts with what the bench wrote (all orders valid and unique):
 * silver_orders = bronze_orders = sum(batches.valid) = orders, bronze_customers = customers,
 * nothing quarantined. Returns a list of mismatches (empty when all is well).
 */
export function checkCounts(stats, { orders, customers = 0 }) {
  const t = stats.tables
  const bad = []
  if (t.silver !== orders) bad.push(`silver_orders holds ${fmt(t.silver)} rows, ${fmt(orders)} orders were written`)
  if (t.bronze_orders !== orders) bad.push(`bronze_orders holds ${fmt(t.bronze_orders)} rows, ${fmt(orders)} order lines were written`)
  if (t.bronze_customers !== customers)
    bad.push(`bronze_customers holds ${fmt(t.bronze_customers)} rows, ${fmt(customers)} customer lines were written`)
  if (stats.valid !== orders) bad.push(`sum(batches.valid) is ${fmt(stats.valid)}, expected ${fmt(orders)}`)
  if (t.quarantine !== 0) bad.push(`${fmt(t.quarantine)} lines quarantined, expected none`)
  return bad
}
