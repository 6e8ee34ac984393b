import { DuckDBInstance } from '@duckdb/node-api'
import { ORDER_FIELDS, jsonStructSpec, orderReasonSql } from '../../src/main/lake/validation-sql'
const inst = await DuckDBInstance.create(':memory:')
const c = await inst.connect()
await c.run(`CREATE TABLE src AS SELECT line AS raw FROM read_csv('${process.argv[2]}', columns={'line':'VARCHAR'}, delim=chr(0), quote='', escape='', header=false, auto_detect=false)`)
const variants: Record<string, string> = {
  full: orderReasonSql(),
  parseOnly: `CASE WHEN j IS NULL THEN 'x' END`,
  noItems: orderReasonSql().replace(/WHEN len\(items_json\) = 0[\s\S]*?(?=\n  END)/, ''),
  types: `CASE ${ORDER_FIELDS.map(f=>`WHEN json_type(f.${f.name}) NOT IN ('VARCHAR') THEN 'x'`).join(' ')} END`,
  sumOnly: `CASE WHEN abs((f.total_amount)::DOUBLE - list_sum(list_transform(items_json, x -> (x->>'$.quantity')::DOUBLE * (x->>'$.unit_price')::DOUBLE))) > 0.01 THEN 'x' END`,
}
for (const [name, reason] of Object.entries(variants)) {
  const t = performance.now()
  const r = await c.runAndReadAll(`WITH p AS (SELECT *, try(json(raw)) AS j FROM src),
    f0 AS (SELECT *, CASE WHEN json_type(j) = 'OBJECT' THEN from_json(j, ${jsonStructSpec(ORDER_FIELDS)}) END AS f FROM p),
    f AS (SELECT *, CASE WHEN json_type(f.items) = 'ARRAY' THEN from_json(f.items, '["JSON"]') END AS items_json FROM f0)
    SELECT count(*), count(${reason}) FROM f`)
  console.log(name, (performance.now() - t).toFixed(0), 'ms', r.getRows())
}
