import { DuckDBInstance } from '@duckdb/node-api'
import { orderValidationCtes } from '../../src/main/lake/validation-sql'
const inst = await DuckDBInstance.create(':memory:')
const c = await inst.connect()
await c.run(`CREATE TABLE src AS SELECT line AS raw FROM read_csv('${process.argv[2]}', columns={'line':'VARCHAR'}, delim=chr(0), quote='', escape='', header=false, auto_detect=false)`)
const T=`'{"order_id":"VARCHAR","customer_id":"VARCHAR","order_ts":"VARCHAR","status":"VARCHAR","currency":"VARCHAR","total_amount":"DOUBLE","items":[{"product_id":"VARCHAR","product_name":"VARCHAR","category":"VARCHAR","quantity":"BIGINT","unit_price":"DOUBLE"}],"payment_method":"VARCHAR","shipping_country":"VARCHAR","billing_country":"VARCHAR","channel":"VARCHAR"}'`
const qs: Record<string,string> = {
  full: `WITH ${orderValidationCtes()} SELECT count(reason), count(*) FROM v`,
  structure: `SELECT count(DISTINCT json_structure(raw)) FROM src`,
  structureTop: `SELECT json_structure(raw) s, count(*) FROM src GROUP BY s ORDER BY 2 DESC LIMIT 3`,
  typed: `SELECT count(j.order_id) FROM (SELECT try(from_json(raw, ${T})) j FROM src)`,
  typedChecks: `SELECT count(*) FROM (SELECT try(from_json(raw, ${T})) j FROM src) WHERE j.status IN ('placed','paid') AND regexp_matches(j.currency, '^[A-Z]{3}$') AND list_bool_and(list_transform(j.items, x -> x.quantity >= 1 AND x.unit_price >= 0)) AND abs(j.total_amount - list_sum(list_transform(j.items, x -> x.quantity * x.unit_price))) <= 0.01`,
}
for (const [n, q] of Object.entries(qs)) {
  const cpu = process.cpuUsage(); const r = await c.runAndReadAll(q); const d = process.cpuUsage(cpu)
  console.log(n.padEnd(14), 'cpu', ((d.user + d.system) / 1000).toFixed(0).padStart(6), JSON.stringify(r.getRowsJson()).slice(0, 600))
}
