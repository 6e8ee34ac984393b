import { afterAll, describe, expect, it } from 'vitest'
import { cleanupTempDirs, lakeFromFixture, makeWorkspace, order, query, runPipeline, writeLines } from '../support/lake-fixtures'

// New lakes are written in DuckDB's v1.4 storage format with bronze's raw lines in zstd (see
// LAKE_STORAGE_VERSION); lakes written before keep their format and go on taking batches.

afterAll(cleanupTempDirs)

const rawCompression = (lake: string) =>
  query(lake, `SELECT DISTINCT compression FROM pragma_storage_info('bronze_orders') WHERE column_name = 'raw' AND segment_type = 'VARCHAR' ORDER BY 1`)

const lines = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => order({ order_id: `${prefix}-${i}`, customer_id: `c-${i % 97}`, total_amount: 10 + (i % 50) }))

describe('lake storage', () => {
  it('a new lake keeps raw lines in zstd and gives every byte back', async () => {
    const ws = makeWorkspace()
    const written = lines('new', 3000)
    writeLines(ws.orders('a.jsonl'), written)
    await runPipeline(ws)
    expect(await rawCompression(ws.lake)).toEqual([{ compression: 'ZSTD' }])
    const stored = await query(ws.lake, `SELECT raw FROM bronze_orders ORDER BY byte_offset`)
    expect(stored.map((r) => r.raw)).toEqual(written.map((l) => JSON.stringify(l)))
  })

  it('a lake written before keeps its format and takes new batches', async () => {
    const ws = lakeFromFixture('lake-v3.duckdb.gz')
    const before = await rawCompression(ws.lake)
    expect(before.map((r) => r.compression)).not.toContain('ZSTD')
    const written = lines('old', 3000)
    writeLines(ws.orders('b.jsonl'), written)
    await runPipeline(ws)
    expect((await rawCompression(ws.lake)).map((r) => r.compression)).not.toContain('ZSTD')
    const stored = await query(ws.lake, `SELECT raw FROM bronze_orders WHERE source LIKE '%b.jsonl' ORDER BY byte_offset`)
    expect(stored.map((r) => r.raw)).toEqual(written.map((l) => JSON.stringify(l)))
  })
})
