import { writeFileSync } from 'node:fs'
import { DuckDBConnection } from '@duckdb/node-api'
import { runFilePipeline, runKafkaPipeline } from '../../src/main/cli/commands/pipeline'
const T0 = performance.now()
const readAll = (DuckDBConnection.prototype as any).runAndReadAll
let explaining = false
for (const m of ['run', 'runAndReadAll'] as const) {
  const orig = (DuckDBConnection.prototype as any)[m]
  ;(DuckDBConnection.prototype as any)[m] = async function (sql: string, ...rest: unknown[]) {
    // EXPLAIN=<text>: a statement containing it runs under EXPLAIN ANALYZE first, its plan into /tmp/explain-N.txt
    // (that runs it twice: an INSERT inserts twice, so the figures after it are off; CREATE OR REPLACE is harmless)
    if (!explaining && process.env.EXPLAIN && typeof sql === 'string' && sql.includes(process.env.EXPLAIN)) {
      explaining = true
      const rows = (await readAll.call(this, `EXPLAIN ANALYZE ${sql}`, ...rest)).getRows()
      writeFileSync(`/tmp/explain-${Date.now()}.txt`, rows.map((x: unknown[]) => String(x[1])).join('\n'))
      explaining = false
    }
    // PLAN=<text>: time the planning alone (EXPLAIN) of a statement containing it
    if (!explaining && process.env.PLAN && typeof sql === 'string' && sql.includes(process.env.PLAN)) {
      explaining = true
      const t0 = performance.now()
      await readAll.call(this, `EXPLAIN ${sql}`, ...rest)
      console.error(`  planning alone: ${(performance.now() - t0).toFixed(0)} ms`)
      explaining = false
    }
    const t = performance.now(); const u = process.cpuUsage()
    if (process.env.MEM && typeof sql === "string" && sql.startsWith("SET memory_limit")) sql = `SET memory_limit = '${process.env.MEM}'`
    if (process.env.CKPT && typeof sql === "string" && sql.startsWith("SET memory_limit")) sql += `; SET checkpoint_threshold = '${process.env.CKPT}'`
    try { return await orig.call(this, sql, ...rest) } finally {
      const ms = performance.now() - t; const cu = process.cpuUsage(u); const cores = ((cu.user + cu.system) / 1000 / ms).toFixed(2)
      if (ms > (Number(process.env.MIN_MS) || 20)) console.error(`${(t - T0).toFixed(0).padStart(6)} +${ms.toFixed(0).padStart(6)} ms ${cores} cores  ${sql.replace(/\s+/g, ' ').slice(0, 110)}`)
    }
  }
}
const t = Date.now()
// <input folder> or kafka://host:port (the generator's topics)
const [input, lake] = process.argv.slice(2)
const common = { lake, trigger: 100, untilIdle: true, watermark: 10 * 60_000 }
if (input.startsWith('kafka://')) await runKafkaPipeline({ ...common, mode: 'kafka', kafkaServers: input.slice('kafka://'.length), quiet: true })
else await runFilePipeline({ ...common, mode: 'file', inputPath: input, quiet: true })
console.log('took', Date.now() - t)
