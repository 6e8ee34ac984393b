import { DuckDBInstance } from '@duckdb/node-api'
import { orderValidationCtes } from '../../src/main/lake/validation-sql'
const inst = await DuckDBInstance.create(':memory:')
const c = await inst.connect()
await c.run(`CREATE TABLE src AS SELECT line AS raw FROM read_csv('${process.argv[2]}', columns={'line':'VARCHAR'}, delim=chr(0), quote='', escape='', header=false, auto_detect=false)`)
const ctes = orderValidationCtes().replace(/,\s*v AS \(SELECT[\s\S]*$/, '')
const exprs: Record<string,string> = {
  jsonTypeAll: `count(CASE WHEN coalesce(json_type(f.order_id),'NULL') NOT IN ('VARCHAR') THEN 1 WHEN coalesce(json_type(f.customer_id),'NULL') NOT IN ('VARCHAR') THEN 1 WHEN coalesce(json_type(f.status),'NULL') NOT IN ('VARCHAR') THEN 1 END)`,
  trimText: `count(trim(f.order_id->>'$'))`,
  regexTs: `count(regexp_matches(trim(f.order_ts->>'$'), '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}(:?\\d{2})?)$'))`,
  castTs: `count(try_cast(trim(f.order_ts->>'$') AS TIMESTAMPTZ))`,
  regexCountry: `count(regexp_matches(trim(f.billing_country->>'$'), '^[A-Za-z]{2}$'))`,
  lenCountry: `count(length(trim(f.billing_country->>'$')) = 2)`,
  itemsSum: `sum(list_sum(list_transform(items_f, x -> try_cast(x.quantity AS DOUBLE) * try_cast(x.unit_price AS DOUBLE))))`,
  itemProblemSimple: `count(list_filter(list_transform(items_f, (x, i) -> CASE WHEN json_type(x.quantity) NOT IN ('BIGINT') THEN 'a' || i END), p -> p IS NOT NULL)[1])`,
  itemBoolAnd: `count(list_bool_and(list_transform(items_f, x -> json_type(x.quantity) IN ('BIGINT','UBIGINT') AND json_type(x.unit_price) IN ('BIGINT','UBIGINT','DOUBLE') AND json_type(x.product_id) = 'VARCHAR')))`,
}
for (const [n, e] of Object.entries(exprs)) {
  const cpu = process.cpuUsage(); const t = performance.now(); const r = await c.runAndReadAll(`WITH ${ctes} SELECT ${e} FROM r`); const d = process.cpuUsage(cpu)
  console.log(n.padEnd(20), 'cpu', ((d.user + d.system) / 1000).toFixed(0).padStart(6), 'wall', (performance.now()-t).toFixed(0), String(r.getRows()[0]))
}
