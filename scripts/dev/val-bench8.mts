import { DuckDBInstance } from '@duckdb/node-api'
const inst = await DuckDBInstance.create(':memory:')
const c = await inst.connect()
await c.run(`CREATE TABLE src AS SELECT line AS raw FROM read_csv('${process.argv[2]}', columns={'line':'VARCHAR'}, delim=chr(0), quote='', escape='', header=false, auto_detect=false)`)
const P = `['$.order_id','$.customer_id','$.order_ts','$.status','$.currency','$.total_amount','$.items','$.payment_method','$.shipping_country','$.billing_country','$.channel']`
const qs: Record<string,string> = {
  typesList: `SELECT json_type(raw, ${P}) t, count(*) FROM src GROUP BY t ORDER BY 2 DESC LIMIT 2`,
  typesListCpu: `SELECT count(*) FROM src WHERE json_type(raw, ${P}) = ['VARCHAR','VARCHAR','VARCHAR','VARCHAR','VARCHAR','DOUBLE','ARRAY','VARCHAR','VARCHAR','VARCHAR','VARCHAR']`,
  itemTypes: `SELECT json_type(raw, '$.items[*].quantity') t, count(*) FROM src GROUP BY t ORDER BY 2 DESC LIMIT 2`,
  itemTypesCpu: `SELECT count(*) FROM src WHERE list_bool_and(list_transform(json_type(raw, '$.items[*].quantity'), x -> x IN ('UBIGINT','BIGINT')))`,
}
for (const [n, q] of Object.entries(qs)) {
  const cpu = process.cpuUsage(); const r = await c.runAndReadAll(q); const d = process.cpuUsage(cpu)
  console.log(n.padEnd(14), 'cpu', ((d.user + d.system) / 1000).toFixed(0).padStart(6), JSON.stringify(r.getRowsJson()).slice(0, 300))
}
