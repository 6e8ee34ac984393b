import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanupTempDirs, makeWorkspace, order, queries, runPipeline, type Workspace } from '../support/lake-fixtures'

// Input that passes the line-level checks but is extreme, and input files with unusual names.
// The engine must never stop on bad input: an order it cannot store goes to quarantine, and the
// lines around it are ingested.

afterAll(cleanupTempDirs)

const j = (o: unknown) => JSON.stringify(o)
const item = (over: Record<string, unknown>) => ({ product_id: 'p', product_name: 'n', category: 'c', quantity: 1, unit_price: 1, ...over })

async function ingestWithNeighbours(ws: Workspace, oddLine: string) {
  const path = ws.orders('odd.jsonl')
  const before = j(order({ order_id: 'before' }))
  writeFileSync(path, `${before}\n${oddLine}\n${j(order({ order_id: 'after' }))}\n`)
  const run = await runPipeline(ws).then(
    () => null,
    (e: unknown) => e as Error
  )
  expect(run, `the pipeline stopped on ${oddLine.slice(0, 120)}: ${run?.message}`).toBeNull()
  const r = await queries(ws.lake, {
    silver: `SELECT order_id FROM silver_orders ORDER BY order_id`,
    quarantine: `SELECT byte_offset, reason, raw FROM quarantine`,
    offsets: `SELECT next_offset FROM source_offsets`
  })
  expect(r.silver.map((s) => s.order_id)).toEqual(['after', 'before'])
  expect(r.quarantine).toHaveLength(1)
  expect(r.quarantine[0]).toMatchObject({ byte_offset: before.length + 1, raw: oddLine })
  expect(r.offsets).toHaveLength(1)
  return r.quarantine[0].reason as string
}

describe('numbers a valid-looking order cannot hold', () => {
  it('quarantines a total of 1e17 (beyond DECIMAL(18,2) and BIGINT cents)', async () => {
    const line = j(order({ order_id: 'huge-total', total_amount: 1e17, items: [item({ unit_price: 1e17 })] }))
    await ingestWithNeighbours(makeWorkspace(), line)
  })

  it('quarantines a total of 5e16 (fits BIGINT cents, not DECIMAL(18,2))', async () => {
    const line = j(order({ order_id: 'big-total', total_amount: 5e16, items: [item({ unit_price: 5e16 })] }))
    await ingestWithNeighbours(makeWorkspace(), line)
  })

  // 10^19 is a JSON integer (UBIGINT) and passes validation; x.quantity::BIGINT then silently
  // gives NULL, so the order must not reach silver with a NULL quantity and item_count 0.
  it('quarantines an item quantity of 10^19 (beyond BIGINT)', async () => {
    const line = j(order({ order_id: 'huge-qty', total_amount: 0, items: [item({ unit_price: 0 })] })).replace(
      '"quantity":1',
      '"quantity":10000000000000000000'
    )
    await ingestWithNeighbours(makeWorkspace(), line)
  })

  it("quarantines a NaN amount (DuckDB's JSON parser accepts NaN)", async () => {
    const base = j(order({ order_id: 'nan', total_amount: 1, items: [item({})] }))
    await ingestWithNeighbours(makeWorkspace(), base.replace('"total_amount":1', '"total_amount":NaN').replace('"unit_price":1', '"unit_price":NaN'))
  })

  it('quarantines a 1e400 amount (parsed as infinity)', async () => {
    const inf = j(order({ order_id: 'inf', total_amount: 1, items: [item({})] }))
    await ingestWithNeighbours(makeWorkspace(), inf.replace('"total_amount":1', '"total_amount":1e400').replace('"unit_price":1', '"unit_price":1e400'))
  })
})

describe('input file names', () => {
  it('reads files whose names contain quotes, spaces, glob characters and non-ASCII letters', async () => {
    const ws = makeWorkspace()
    const names = ["o'brien.jsonl", 'with space.jsonl', 'glob[1].jsonl', 'glob1.jsonl', 'star*.jsonl', 'q?.ndjson', 'bestellungen-ü.json']
    names.forEach((name, i) => writeFileSync(ws.orders(name), `${j(order({ order_id: `f-${i}-a` }))}\n${j(order({ order_id: `f-${i}-b` }))}\n`))
    // not input files: ignored
    writeFileSync(ws.orders('notes.txt'), 'hello\n')
    writeFileSync(ws.orders('.hidden.jsonl'), j(order({ order_id: 'hidden' })) + '\n')
    writeFileSync(ws.orders('partial.jsonl.tmp'), j(order({ order_id: 'tmp' })) + '\n')
    await runPipeline(ws)
    const r = await queries(ws.lake, {
      bronze: `SELECT source, count(*) AS n FROM bronze_orders GROUP BY source ORDER BY source`,
      silver: `SELECT order_id FROM silver_orders ORDER BY order_id`,
      quarantine: `SELECT count(*) AS n FROM quarantine`
    })
    expect(r.bronze).toEqual(names.map((n) => ({ source: ws.orders(n), n: 2 })).sort((a, b) => (a.source < b.source ? -1 : 1)))
    // each bronze row holds the bytes of its own file (a name like glob[1].jsonl must not be read
    // as a glob pattern that matches glob1.jsonl instead)
    const rows = await queries(ws.lake, { b: `SELECT source, byte_offset, raw FROM bronze_orders` })
    for (const b of rows.b) {
      const buf = readFileSync(b.source as string)
      const off = b.byte_offset as number
      expect(buf.subarray(off, buf.indexOf(10, off)).toString('utf8'), `${b.source}@${off}`).toBe(b.raw)
    }
    expect(r.silver).toHaveLength(names.length * 2)
    expect(r.quarantine[0].n).toBe(0)
  })
})
