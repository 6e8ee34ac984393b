// Bare DuckDB baseline for `npm run bench` (run as a child process so its wall clock includes
// process start, module load and opening the database, like the pipeline's does):
//   node scripts/bench/duckdb-load.js <db-file> <input-dir>
// Loads <input-dir>/orders/*.jsonl and <input-dir>/customers/*.jsonl into a fresh DuckDB file
// with default settings and prints one JSON line with the in-process timings and row counts.
import { DuckDBInstance } from '@duckdb/node-api'

const [dbFile, inputDir] = process.argv.slice(2)
if (!dbFile || !inputDir) {
  console.error('usage: node scripts/bench/duckdb-load.js <db-file> <input-dir>')
  process.exit(2)
}
const q = (s) => `'${s.replaceAll("'", "''")}'`

const t0 = performance.now()
const instance = await DuckDBInstance.create(dbFile)
const conn = await instance.connect()
const tOpen = performance.now()
await conn.run(`CREATE TABLE orders AS SELECT * FROM read_json(${q(`${inputDir}/orders/*.jsonl`)})`)
const tOrders = performance.now()
await conn.run(`CREATE TABLE customers AS SELECT * FROM read_json(${q(`${inputDir}/customers/*.jsonl`)})`)
const tEnd = performance.now()
const [row] = await (
  await conn.runAndReadAll('SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM customers) AS customers')
).getRowObjectsJS()
conn.closeSync()
instance.closeSync()
console.log(
  JSON.stringify({
    openMs: tOpen - t0,
    ordersMs: tOrders - tOpen,
    customersMs: tEnd - tOrders,
    queryMs: tEnd - tOpen,
    orders: Number(row.orders),
    customers: Number(row.customers)
  })
)
