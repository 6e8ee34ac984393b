import { DuckDBInstance } from '@duckdb/node-api'
import { orderValidationCtes } from '../../src/main/lake/validation-sql'
const inst = await DuckDBInstance.create(':memory:')
const c = await inst.connect()
await c.run(`CREATE TABLE src AS SELECT line AS raw FROM read_csv('${process.argv[2]}', columns={'line':'VARCHAR'}, delim=chr(0), quote='', escape='', header=false, auto_detect=false)`)
const full = orderValidationCtes()
const m = /v AS \(SELECT \*, CASE([\s\S]*)END AS reason FROM r\)/.exec(full)!
const arms = m[1].split(/\n\s*(?=WHEN )/).filter(a => a.trim().startsWith('WHEN'))
console.log('arms', arms.length)
const base = full.slice(0, m.index)
for (const [lo, hi] of [[0, 3], [0, 4], [4, 8], [8, 14], [14, 16], [16, 17]]) {
  const q = `WITH ${base} v AS (SELECT *, CASE ${arms.slice(lo, hi).join(' ')} END AS reason FROM r) SELECT count(reason), count(*) FROM v`
  const cpu = process.cpuUsage(); const r = await c.runAndReadAll(q); const d = process.cpuUsage(cpu)
  console.log(`arms ${lo}-${hi}`.padEnd(12), 'cpu', ((d.user + d.system) / 1000).toFixed(0).padStart(6), String(r.getRows()[0]), arms[lo].slice(0, 50).replace(/\s+/g,' '))
}
