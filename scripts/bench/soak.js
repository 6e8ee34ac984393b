// Section 10 of `npm run bench`: a long run at a steady rate. `streamdesk run` generates orders
// at `rate` per second into a folder and ingests them for `minutes`, then drains and exits. The
// process tree's resident memory is sampled every 5 s; each batch's lag (its commit minus the
// newest event time it had seen, which the generator stamps with the wall clock) and the gap
// between batch starts come from the lake's `batches` table afterwards. Figures are compared
// between the second and the last quarter of the run (the first is the warm-up: DuckDB's buffer
// pool and the engine's caches fill): flat means no growth with time.
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { fmt, liveChildren, loadAvg, median, quantile } from './util.js'

export const TARGET_SOAK_LAG_P99_MS = 1000
/** Last quarter's median RSS ÷ the second's: above this, memory grows with time. */
export const TARGET_SOAK_RSS_GROWTH = 1.1

function treeRssKiB(pid) {
  let sum = 0
  const walk = (p) => {
    try {
      sum += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0)
      for (const k of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/)) if (k) walk(Number(k))
    } catch {
      // gone meanwhile
    }
  }
  walk(pid)
  return sum
}

async function batchRows(lake) {
  const instance = await DuckDBInstance.create(join(lake, 'lake.duckdb'), { access_mode: 'READ_ONLY' })
  const conn = await instance.connect()
  try {
    const r = await conn.runAndReadAll(`SELECT epoch_ms(started_at) AS started, greatest(epoch_ms(committed_at) - epoch_ms(max_event_ts), 0) AS lag_ms,
        rows_read FROM batches WHERE max_event_ts IS NOT NULL ORDER BY batch_id`)
    return r.getRowObjectsJS().map((b) => ({ started: Number(b.started), lagMs: Number(b.lag_ms), rows: Number(b.rows_read) }))
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}

/**
 * @param {object} ctx  { launcher, work, log, result, problem }
 */
export async function benchSoak(ctx, { minutes, rate }) {
  const dir = join(ctx.work, 'soak')
  const input = join(dir, 'input')
  const lake = join(dir, 'lake')
  try {
    const seconds = Math.round(minutes * 60)
    const t0 = Date.now()
    const child = spawn(
      process.execPath,
      [ctx.launcher, 'run', '--input-path', input, '--lake', lake, '--generator-rate', String(rate), '--generator-duration', String(seconds), '--seed', '10', '--quiet'],
      { cwd: ctx.work, stdio: ['ignore', 'ignore', 'pipe'], detached: true }
    )
    child.processGroup = true
    liveChildren.add(child)
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const samples = []
    const timer = setInterval(() => samples.push({ at: Date.now(), kib: treeRssKiB(child.pid) }), 5000)
    const { code, signal } = await new Promise((resolve) => child.on('close', (c, s) => resolve({ code: c, signal: s })))
    clearInterval(timer)
    liveChildren.delete(child)
    if (code !== 0) {
      ctx.problem(`soak: run exited ${code}${signal ? ` (${signal})` : ''}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`)
      return null
    }
    const batches = await batchRows(lake)
    // the drain after the generator stops counts in the last quarter
    const quarterOf = (at) => Math.min(3, Math.floor(((at - t0) / 1000 / seconds) * 4))
    const gaps = batches.slice(1).map((b, i) => ({ at: b.started, ms: b.started - batches[i].started }))
    const inQuarter = (q) => ({
      rss: samples.filter((s) => quarterOf(s.at) === q).map((s) => s.kib),
      lags: batches.filter((b) => quarterOf(b.started) === q).map((b) => b.lagMs),
      gaps: gaps.filter((g) => quarterOf(g.at) === q).map((g) => g.ms)
    })
    const first = inQuarter(0)
    const second = inQuarter(1)
    const last = inQuarter(3)
    const mibOf = (kib) => `${fmt(kib / 1024)} MiB`
    for (const [name, q] of [['first quarter', first], ['second quarter', second], ['last quarter', last]]) {
      ctx.log(
        `  ${name}: RSS median ${mibOf(median(q.rss))}, max ${mibOf(Math.max(...q.rss))}; ${fmt(q.lags.length)} batches, lag p50 ${fmt(median(q.lags))} ms, ` +
          `p99 ${fmt(quantile(q.lags, 0.99))} ms, max ${fmt(Math.max(...q.lags))} ms; gap between batch starts p99 ${fmt(quantile(q.gaps, 0.99))} ms`
      )
    }
    const growth = median(last.rss) / median(second.rss)
    const lagP99 = quantile(last.lags, 0.99)
    const rows = batches.reduce((a, b) => a + b.rows, 0)
    ctx.result(
      `soak ${fmt(minutes, 1)} min at ${fmt(rate)} orders/s (${fmt(rows)} lines in ${fmt(batches.length)} batches): RSS last ÷ second quarter ` +
        `${growth.toFixed(2)}x (${mibOf(median(last.rss))} vs ${mibOf(median(second.rss))}, max ${mibOf(Math.max(...samples.map((s) => s.kib)))}) vs target <= ${TARGET_SOAK_RSS_GROWTH}x: ` +
        `${growth <= TARGET_SOAK_RSS_GROWTH ? 'meets target' : 'BELOW TARGET'}; last quarter lag p99 ${fmt(lagP99)} ms vs target < ${fmt(TARGET_SOAK_LAG_P99_MS)} ms: ` +
        `${lagP99 < TARGET_SOAK_LAG_P99_MS ? 'meets target' : 'BELOW TARGET'}; load ${loadAvg()}`
    )
    return { growth, lagP99, samples, batches }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
