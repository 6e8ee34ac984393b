import { DuckDBInstance } from '@duckdb/node-api'
import { orderValidationCtes } from '../../src/main/lake/validation-sql'
const inst = await DuckDBInstance.create(':memory:')
const c = await inst.connect()
await c.run(`CREATE TABLE src AS SELECT line AS raw FROM read_csv('${process.argv[2]}', columns={'line':'VARCHAR'}, delim=chr(0), quote='', escape='', header=false, auto_detect=false)`)
for (const last of ["SELECT count(f) FROM p", "SELECT count(*) FILTER (WHERE fast_ok) FROM g", "SELECT count(reason), count(*) FROM v"]) {
  const cpu = process.cpuUsage(); const t = performance.now(); const r = await c.runAndReadAll(`WITH ${orderValidationCtes()} ${last}`); const d = process.cpuUsage(cpu)
  console.log(last.padEnd(50), 'cpu', ((d.user + d.system) / 1000).toFixed(0).padStart(6), 'wall', (performance.now()-t).toFixed(0), String(r.getRows()[0]))
}
