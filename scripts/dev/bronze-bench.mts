import { readdirSync, rmSync } from 'node:fs'
import { DuckDBInstance } from '@duckdb/node-api'
const dir = process.argv[2]
const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => `${dir}/${f}`)
const rc = (f: string) => `read_csv('${f}', columns = {'line': 'VARCHAR'}, delim = chr(0), quote = '', escape = '', header = false, auto_detect = false, new_line = '\\n', max_line_size = 8388608, strict_mode = false)`
const win = `sum(coalesce(strlen(line), 0) + 1) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - coalesce(strlen(line), 0) - 1`
const variants: Record<string, string> = {
  unionWindow: files.map((f) => `SELECT '${f}' AS source, ${win} AS off, line FROM ${rc(f)}`).join(' UNION ALL '),
  unionNoWindow: files.map((f) => `SELECT '${f}' AS source, NULL::BIGINT AS off, line FROM ${rc(f)}`).join(' UNION ALL '),
  listNoWindow: `SELECT filename AS source, NULL::BIGINT AS off, line FROM read_csv([${files.map((f) => `'${f}'`).join(',')}], columns = {'line': 'VARCHAR'}, delim = chr(0), quote = '', escape = '', header = false, auto_detect = false, new_line = '\\n', max_line_size = 8388608, strict_mode = false, filename = true)`,
}
for (const [name, sel] of Object.entries(variants)) {
  rmSync('/tmp/bb.duckdb', { force: true }); rmSync('/tmp/bb.duckdb.wal', { force: true })
  const inst = await DuckDBInstance.create('/tmp/bb.duckdb', { preserve_insertion_order: 'false' })
  const c = await inst.connect()
  await c.run(`CREATE TABLE b (source VARCHAR, off BIGINT, raw VARCHAR)`)
  await c.run('BEGIN')
  const cpu = process.cpuUsage(); const t = performance.now()
  if (process.env.STAGE) {
    await c.run(`CREATE TEMP TABLE st AS SELECT * FROM (${sel}) WHERE line IS NOT NULL`)
    await c.run(`INSERT INTO b SELECT * FROM st`)
  } else await c.run(`INSERT INTO b SELECT * FROM (${sel}) WHERE line IS NOT NULL`)
  const d = process.cpuUsage(cpu); const wall = performance.now() - t
  const t2 = performance.now(); await c.run('COMMIT'); const commit = performance.now() - t2
  console.log(name.padEnd(16), 'wall', wall.toFixed(0), 'cpu', ((d.user + d.system) / 1000).toFixed(0), 'commit', commit.toFixed(0))
  c.closeSync(); inst.closeSync()
}
