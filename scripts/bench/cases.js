// Sections 6-9 of `npm run bench`: the input shapes that used to hurt (many small files, one big
// file, one hot customer, a lake that grows batch after batch). Each runs
// `streamdesk pipeline --until-idle` as a process on input written by ./orders.js and reports
// wall time, rows/s and the process's peak RSS (see runMeasured in ./util.js) next to a target,
// then checks the lake's silver/bronze row counts against what was written.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkCounts, fmt, lakeStats, loadAvg, median, mib, runMeasured } from './util.js'
import { customerLine, makeRandom, OrderFactory, writeLines, writeLinesToSize } from './orders.js'

const secs = (v) => `${(v / 1000).toFixed(2)} s`
const verdict = (ok) => (ok ? 'meets target' : 'BELOW TARGET')
const MiB = 1024

export const TARGET_MANY_FILES_RSS_MIB = 500
export const TARGET_MANY_FILES_RATIO = 2
export const TARGET_BIG_FILE_RSS_MIB = 1024
export const TARGET_HOT_RATIO = 1.5
export const TARGET_CONSECUTIVE_RATIO = 1.5

function newInput(dir) {
  mkdirSync(join(dir, 'orders'), { recursive: true })
  mkdirSync(join(dir, 'customers'), { recursive: true })
  return dir
}

/**
 * One `pipeline --until-idle` process into `lake`; checks the lake against `expect`
 * ({ orders, customers } in the lake after this run). Returns null when the command failed.
 * @param {object} ctx  { launcher, work, log, problem, rssLimitMiB }
 */
export async function pipelineMeasured(ctx, label, input, lake, expect, { afterBatchId = null } = {}) {
  const r = await runMeasured(
    process.execPath,
    [ctx.launcher, 'pipeline', '--input-path', input, '--lake', lake, '--until-idle', '--quiet'],
    { cwd: ctx.work, rssLimitMiB: ctx.rssLimitMiB }
  )
  if (r.killedForRss) {
    ctx.problem(`${label}: killed by the bench after ${secs(r.ms)}: the process tree used ${mib(r.killedForRss)} (limit BENCH_RSS_LIMIT_MB=${ctx.rssLimitMiB}); load ${loadAvg()}`)
    return null
  }
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-8).join('\n      ')
    ctx.problem(`${label}: pipeline failed (exit ${r.code}${r.signal ? `, ${r.signal}` : ''}) after ${secs(r.ms)}, peak RSS ${mib(r.peakRssKiB)}; load ${loadAvg()}:\n      ${tail}`)
    return null
  }
  const extra = r.stderr.split('\n').filter((l) => l.trim() && !/^idle: all input committed/.test(l))
  if (extra.length) ctx.log(`    pipeline printed: ${extra.slice(0, 5).join(' | ')}`)
  const stats = await lakeStats(lake, { afterBatchId })
  const bad = checkCounts(stats, expect)
  for (const b of bad) ctx.problem(`${label}: ${b}`)
  return { ms: r.ms, rss: r.peakRssKiB, stats, ok: bad.length === 0 }
}

const runLine = (rows, r) =>
  `${secs(r.ms)} process, ${fmt(rows / (r.ms / 1000))} rows/s, peak RSS ${mib(r.rss)}, ` +
  `${fmt(r.stats.batches)} batch${r.stats.batches === 1 ? '' : 'es'} (${secs(r.stats.duration_sum)} in batches)`

// --- 6. many small files --------------------------------------------------------------------------

export async function benchManyFiles(ctx, { files }) {
  const dir = join(ctx.work, 'many-files')
  const many = newInput(join(dir, 'input-many'))
  const one = newInput(join(dir, 'input-one'))
  try {
    const f = new OrderFactory({ seed: 6, idPrefix: 'm' })
    const lines = []
    for (let i = 0; i < files; i++) lines.push(f.next())
    const t0 = performance.now()
    for (let i = 0; i < files; i++) {
      writeFileSync(join(many, 'orders', `orders-${String(i).padStart(6, '0')}.jsonl`), lines[i] + '\n')
    }
    const one1 = writeLines(join(one, 'orders', 'orders-all.jsonl'), files, (() => { let i = 0; return () => lines[i++] })())
    ctx.log(`  wrote ${fmt(files)} one-line order files and the same ${fmt(files)} lines (${fmt(one1.bytes / 1e6, 1)} MB) as one file in ${secs(performance.now() - t0)}`)
    lines.length = 0

    const a = await pipelineMeasured(ctx, `${fmt(files)} files`, many, join(dir, 'lake-many'), { orders: files })
    if (a) ctx.log(`  ${fmt(files)} files: ${runLine(files, a)}; load ${loadAvg()}`)
    const b = await pipelineMeasured(ctx, 'one file', one, join(dir, 'lake-one'), { orders: files })
    if (b) ctx.log(`  one file:     ${runLine(files, b)}; load ${loadAvg()}`)
    if (a) {
      ctx.result(
        `many small files (${fmt(files)} one-line files): ${secs(a.ms)}, ${fmt(files / (a.ms / 1000))} rows/s, ` +
          `peak RSS ${mib(a.rss)} vs target < ${fmt(TARGET_MANY_FILES_RSS_MIB)} MiB: ${verdict(a.rss < TARGET_MANY_FILES_RSS_MIB * MiB)}; load ${loadAvg()}`
      )
    }
    if (a && b) {
      const ratio = a.ms / b.ms
      ctx.result(
        `many small files / same lines in one file: ${ratio.toFixed(2)}x process time (one file ${secs(b.ms)}, ` +
          `peak RSS ${mib(b.rss)}; in batches ${(a.stats.duration_sum / b.stats.duration_sum).toFixed(2)}x) ` +
          `vs target <= ${TARGET_MANY_FILES_RATIO}x: ${verdict(ratio <= TARGET_MANY_FILES_RATIO)}`
      )
    }
    return { a, b }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// --- 7. one big file ------------------------------------------------------------------------------

export async function benchBigFile(ctx, { megabytes }) {
  const dir = join(ctx.work, 'big-file')
  const input = newInput(join(dir, 'input'))
  try {
    const f = new OrderFactory({ seed: 7, idPrefix: 'b' })
    const t0 = performance.now()
    const w = writeLinesToSize(join(input, 'orders', 'orders-big.jsonl'), megabytes * 1e6, () => f.next())
    ctx.log(`  wrote one file of ${fmt(w.bytes / 1e6)} MB, ${fmt(w.lines)} orders, in ${secs(performance.now() - t0)}`)
    const r = await pipelineMeasured(ctx, `one ${fmt(megabytes)} MB file`, input, join(dir, 'lake'), { orders: w.lines })
    if (r) {
      ctx.log(`  ${runLine(w.lines, r)}, batch p50 ${fmt(r.stats.p50)} ms / max ${fmt(r.stats.max)} ms; load ${loadAvg()}`)
      ctx.result(
        `one ${fmt(w.bytes / 1e6)} MB file (${fmt(w.lines)} orders): ${secs(r.ms)}, ${fmt(w.lines / (r.ms / 1000))} rows/s, ` +
          `peak RSS ${mib(r.rss)} vs target < ${fmt(TARGET_BIG_FILE_RSS_MIB)} MiB: ${verdict(r.rss < TARGET_BIG_FILE_RSS_MIB * MiB)}; load ${loadAvg()}`
      )
    }
    return r
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// --- 8. one hot customer --------------------------------------------------------------------------

export async function benchHotCustomer(ctx, { orders, rounds }) {
  const dir = join(ctx.work, 'hot-customer')
  try {
    // Same seed, same event times (10 ms apart), same baskets; only customer_id differs.
    const inputs = {}
    for (const kind of ['spread', 'hot']) {
      const input = newInput(join(dir, `input-${kind}`))
      const f = new OrderFactory({
        seed: 8,
        idPrefix: 'h',
        stepMs: 10,
        customerId: kind === 'hot' ? () => 'cus_hot_000000000001' : (seq) => `cus_${seq.toString(16).padStart(16, '0')}`
      })
      writeLines(join(input, 'orders', 'orders-hot.jsonl'), orders, () => f.next())
      inputs[kind] = input
    }
    ctx.log(`  wrote ${fmt(orders)} orders twice: one customer_id ("hot") and ${fmt(orders)} different ones ("spread"); A spread, B hot, ${rounds} round(s)`)
    const runs = { spread: [], hot: [] }
    for (let round = 1; round <= rounds; round++) {
      for (const kind of ['spread', 'hot']) {
        const lake = join(dir, `lake-${kind}-${round}`)
        const r = await pipelineMeasured(ctx, `${kind} round ${round}`, inputs[kind], lake, { orders })
        rmSync(lake, { recursive: true, force: true })
        if (!r) continue
        runs[kind].push(r)
        ctx.log(
          `  round ${round} ${kind === 'spread' ? 'A spread' : 'B hot   '}: ${runLine(orders, r)}, alerts ${fmt(r.stats.tables.alerts)}; load ${loadAvg()}`
        )
      }
    }
    const m = (kind, f) => median(runs[kind].map(f))
    for (const kind of ['spread', 'hot']) {
      if (!runs[kind].length) continue
      ctx.result(
        `${kind === 'hot' ? 'one hot customer' : `${fmt(orders)} different customers`} (${fmt(orders)} orders): median ${secs(m(kind, (r) => r.ms))}, ` +
          `${fmt(orders / (m(kind, (r) => r.ms) / 1000))} rows/s, peak RSS ${mib(m(kind, (r) => r.rss))}; load ${loadAvg()}`
      )
    }
    if (runs.hot.length && runs.spread.length) {
      const ratio = m('hot', (r) => r.ms) / m('spread', (r) => r.ms)
      const inBatches = m('hot', (r) => r.stats.duration_sum) / m('spread', (r) => r.stats.duration_sum)
      ctx.result(
        `one hot customer / ${fmt(orders)} different customers: ${ratio.toFixed(2)}x process time (in batches ${inBatches.toFixed(2)}x) ` +
          `vs target about 1x (<= ${TARGET_HOT_RATIO}x): ${verdict(ratio <= TARGET_HOT_RATIO)}`
      )
    }
    return runs
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// --- 9. consecutive batches into one lake ----------------------------------------------------------

export async function benchConsecutive(ctx, { batches, orders }) {
  const dir = join(ctx.work, 'consecutive')
  const input = newInput(join(dir, 'input'))
  const lake = join(dir, 'lake')
  try {
    // One factory across all batches: unique order ids, event time keeps advancing (2 ms per order).
    const f = new OrderFactory({ seed: 9, idPrefix: 'c', stepMs: 2 })
    const rand = makeRandom(99)
    const runs = []
    let lastBatchId = 0
    let total = 0
    let totalCustomers = 0
    for (let i = 1; i <= batches; i++) {
      const w = writeLines(join(input, 'orders', `orders-batch-${String(i).padStart(3, '0')}.jsonl`), orders, () => f.next())
      // a few customer records per batch too, like the generator's mix (new sign-ups)
      const nCustomers = Math.ceil(orders / 100)
      writeLines(join(input, 'customers', `customers-batch-${String(i).padStart(3, '0')}.jsonl`), nCustomers, () =>
        customerLine(`cus_${Math.floor(rand() * 200_000).toString(16).padStart(12, '0')}`, rand)
      )
      total += w.lines
      totalCustomers += nCustomers
      const r = await pipelineMeasured(ctx, `batch ${i}`, input, lake, { orders: total, customers: totalCustomers }, { afterBatchId: lastBatchId })
      if (!r) break
      lastBatchId = r.stats.max_batch_id
      runs.push({ ms: r.ms, rss: r.rss, inBatches: r.stats.after.duration_sum, n: r.stats.after.batches })
      ctx.log(
        `  batch ${String(i).padStart(2)}: ${secs(r.ms)} process (${fmt((w.lines + nCustomers) / (r.ms / 1000))} rows/s), ` +
          `${secs(r.stats.after.duration_sum)} in ${fmt(r.stats.after.batches)} batch${r.stats.after.batches === 1 ? '' : 'es'}, ` +
          `peak RSS ${mib(r.rss)}; lake now ${fmt(total)} orders; load ${loadAvg()}`
      )
    }
    if (runs.length >= 2) {
      const first = runs[0]
      const last = runs[runs.length - 1]
      const med = (f) => median(runs.map(f))
      ctx.result(
        `${fmt(runs.length)} consecutive ${fmt(orders)}-order batches, process time: first ${secs(first.ms)}, median ${secs(med((r) => r.ms))}, ` +
          `last ${secs(last.ms)}; last/first ${(last.ms / first.ms).toFixed(2)}x vs target flat (<= ${TARGET_CONSECUTIVE_RATIO}x): ` +
          `${verdict(last.ms / first.ms <= TARGET_CONSECUTIVE_RATIO)}; load ${loadAvg()}`
      )
      ctx.result(
        `  same, time in batches (batches.duration_ms): first ${secs(first.inBatches)}, median ${secs(med((r) => r.inBatches))}, ` +
          `last ${secs(last.inBatches)}; last/first ${(last.inBatches / first.inBatches).toFixed(2)}x; ` +
          `median ${fmt(orders / (med((r) => r.ms) / 1000))} orders/s; peak RSS max ${mib(Math.max(...runs.map((r) => r.rss)))}`
      )
    }
    return runs
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
