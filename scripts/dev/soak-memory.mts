// Where a long run's memory goes: the pipeline ingests a folder in-process (watching, like
// `streamdesk run`) while `streamdesk generate` writes <rate> orders/s into it from another
// process; every 30 s prints RSS, the JS heap and DuckDB's own accounting (duckdb_memory()).
// Usage: npx tsx scripts/dev/soak-memory.mts <work dir> <seconds> [rate]
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { defaultSettings } from '../../src/shared/settings'
import { openLake } from '../../src/main/lake/lake'
import { FolderSource } from '../../src/main/sources/folder-source'
import { Pipeline } from '../../src/main/engine/pipeline'

const [work, seconds, rate = '1000'] = process.argv.slice(2)
rmSync(work, { recursive: true, force: true })
const input = join(work, 'in')
for (const s of ['orders', 'customers']) mkdirSync(join(input, s), { recursive: true })
const lake = await openLake(join(work, 'lake'), { create: true })
const source = new FolderSource(input, 'generator', { removeGenerated: true })
const settings = defaultSettings()
let batches = 0
const pipeline = new Pipeline({ lake, source, sourceKind: 'file', settings: () => settings, onBatch: () => batches++ })
source.startWatching()
const gen = spawn(process.execPath, ['bin/streamdesk.js', 'generate', '--output', input, '--rate', rate, '--duration', seconds, '--quiet'], { stdio: 'inherit' })
const running = pipeline.start()
const t0 = Date.now()
const mb = (b: number) => Math.round(b / 2 ** 20)
const timer = setInterval(async () => {
  const m = process.memoryUsage()
  const rows = (await lake.writer.runAndReadAll(`SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 1048576 OR temporary_storage_bytes > 0 ORDER BY 2 DESC`)).getRows()
  const duck = rows.map(([t, b, tmp]) => `${t} ${mb(Number(b))}${Number(tmp) ? `+tmp ${mb(Number(tmp))}` : ''}`).join(', ')
  console.log(`${Math.round((Date.now() - t0) / 1000)} s: ${batches} batches; rss ${mb(m.rss)}, heap ${mb(m.heapUsed)}, ext ${mb(m.external)}; duckdb: ${duck}`)
}, 30_000)
await new Promise((r) => gen.on('close', r))
clearInterval(timer)
await pipeline.stop()
await running
await source.close()
await lake.close()
