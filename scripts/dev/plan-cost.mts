import { DuckDBInstance } from '@duckdb/node-api'
import { orderValidationCtes } from '../../src/main/lake/validation-sql'
const c = await (await DuckDBInstance.create(':memory:')).connect()
await c.run(`CREATE TABLE src AS SELECT '{"a":1}' AS raw, 'x' AS source LIMIT 0`)
const q = `WITH ${orderValidationCtes()} SELECT count(reason) FROM v`
for (let i = 0; i < 3; i++) {
  let t = performance.now(); await c.run(`EXPLAIN ${q}`); const plan = performance.now() - t
  t = performance.now(); await c.run(q); const run = performance.now() - t
  t = performance.now(); await c.run('SELECT 1'); const trivial = performance.now() - t
  console.log(`explain ${plan.toFixed(1)} ms, run on empty ${run.toFixed(1)} ms, SELECT 1 ${trivial.toFixed(1)} ms, sql ${q.length} chars`)
}
