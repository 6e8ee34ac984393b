// Peak memory of one pipeline run, split by where it lives: samples process.memoryUsage() every
// 50 ms while `runFilePipeline` ingests <input> into <lake>, and prints the peaks.
// Usage: npx tsx scripts/dev/memory-pipeline.mts <input> <lake>
import { runFilePipeline } from '../../src/main/cli/commands/pipeline'

const peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }
const sample = () => {
  const m = process.memoryUsage()
  for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], m[k])
}
const timer = setInterval(sample, 50)
const t = Date.now()
await runFilePipeline({ mode: 'file', inputPath: process.argv[2], lake: process.argv[3], trigger: 100, untilIdle: true, watermark: 10 * 60_000, quiet: true })
clearInterval(timer)
sample()
const mb = (b: number) => `${Math.round(b / 2 ** 20)} MiB`
console.log(`took ${Date.now() - t} ms; peak rss ${mb(peak.rss)}, JS heap ${mb(peak.heapUsed)}, external ${mb(peak.external)} (array buffers ${mb(peak.arrayBuffers)}); rss − heap − external ≈ native (DuckDB) ${mb(peak.rss - peak.heapUsed - peak.external)}`)
