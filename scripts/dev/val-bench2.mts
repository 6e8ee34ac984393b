import { DuckDBInstance } from '@duckdb/node-api'
const inst = await DuckDBInstance.create(':memory:')
const c = await inst.connect()
await c.run(`CREATE TABLE src AS SELECT line AS raw FROM read_csv('${process.argv[2]}', columns={'line':'VARCHAR'}, delim=chr(0), quote='', escape='', header=false, auto_detect=false)`)
await c.run(`CREATE TABLE f AS SELECT from_json(raw, '{"order_ts":"JSON","status":"JSON","items":"JSON"}') f FROM src`)
const tests: Record<string,string> = {
  extract: `count(f.order_ts->>'$')`,
  trimExtract: `count(trim(f.order_ts->>'$'))`,
  regex: `count(*) FILTER (WHERE regexp_matches(f.order_ts->>'$', '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}(:?\\d{2})?)$'))`,
  castTz: `count(try_cast(f.order_ts->>'$' AS TIMESTAMPTZ))`,
  castTs: `count(try_cast(f.order_ts->>'$' AS TIMESTAMP))`,
  jsonType: `count(*) FILTER (WHERE json_type(f.status) = 'VARCHAR')`,
  itemsList: `sum(len(from_json(f.items, '["JSON"]')))`,
  itemsStruct: `sum(len(from_json(f.items, '[{"product_id":"JSON","product_name":"JSON","category":"JSON","quantity":"JSON","unit_price":"JSON"}]')))`,
  itemsLambda: `sum(list_sum(list_transform(from_json(f.items, '[{"quantity":"JSON","unit_price":"JSON"}]'), x -> x.quantity::DOUBLE * x.unit_price::DOUBLE)))`,
}
for (const [n, e] of Object.entries(tests)) { const t = performance.now(); const r = await c.runAndReadAll(`SELECT ${e} FROM f`); console.log(n.padEnd(12), (performance.now()-t).toFixed(0), 'ms', String(r.getRows()[0][0])) }
