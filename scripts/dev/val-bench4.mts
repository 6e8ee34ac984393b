import { DuckDBInstance } from '@duckdb/node-api'
const inst = await DuckDBInstance.create(':memory:')
const c = await inst.connect()
await c.run(`CREATE TABLE src AS SELECT line AS raw FROM read_csv('${process.argv[2]}', columns={'line':'VARCHAR'}, delim=chr(0), quote='', escape='', header=false, auto_detect=false)`)
const S=`'{"order_id":"VARCHAR","customer_id":"VARCHAR","order_ts":"VARCHAR","status":"VARCHAR","currency":"VARCHAR","total_amount":"DOUBLE","items":[{"product_id":"VARCHAR","product_name":"VARCHAR","category":"VARCHAR","quantity":"BIGINT","unit_price":"DOUBLE"}],"payment_method":"VARCHAR","shipping_country":"VARCHAR","billing_country":"VARCHAR","channel":"VARCHAR"}'`
const SJ=`'{"order_id":"JSON","customer_id":"JSON","order_ts":"JSON","status":"JSON","currency":"JSON","total_amount":"JSON","items":"JSON","payment_method":"JSON","shipping_country":"JSON","billing_country":"JSON","channel":"JSON"}'`
const F=['order_id','customer_id','order_ts','status','currency','total_amount','payment_method','shipping_country','billing_country','channel']
const cnt = (pre: string) => F.map(f=>`count(${pre}${f})`).join(',')
const qs: Record<string,string> = {
  typed1: `SELECT count(j.order_id) FROM (SELECT try(from_json(raw, ${S})) j FROM src)`,
  typedAll: `SELECT ${cnt('j.')} FROM (SELECT try(from_json(raw, ${S})) j FROM src)`,
  typedAllMat: `WITH p AS MATERIALIZED (SELECT try(from_json(raw, ${S})) j FROM src) SELECT ${cnt('j.')} FROM p`,
  jsonAll: `SELECT ${cnt('j.')} FROM (SELECT from_json(raw, ${SJ}) j FROM src)`,
  jsonTypes: `SELECT ${F.map(f=>`count(json_type(j.${f}))`).join(',')} FROM (SELECT from_json(raw, ${SJ}) j FROM src)`,
  jsonTypesMat: `WITH p AS MATERIALIZED (SELECT from_json(raw, ${SJ}) j FROM src) SELECT ${F.map(f=>`count(json_type(j.${f}))`).join(',')} FROM p`,
  jsonStr: `SELECT ${F.map(f=>`count(j.${f}->>'$')`).join(',')} FROM (SELECT from_json(raw, ${SJ}) j FROM src)`,
}
for (const [n, q] of Object.entries(qs)) {
  const cpu = process.cpuUsage(); const t = performance.now(); const r = await c.runAndReadAll(q); const d = process.cpuUsage(cpu)
  console.log(n.padEnd(14), 'cpu', ((d.user + d.system) / 1000).toFixed(0).padStart(6), 'ms  wall', (performance.now()-t).toFixed(0).padStart(6), String(r.getRows()[0]).slice(0,40))
}
