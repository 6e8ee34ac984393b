import { writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { MAX_FILES_PER_BATCH } from '../../src/main/sources/folder-source'
import { cleanupTempDirs, makeWorkspace, order, queries, runPipeline } from '../support/lake-fixtures'

// A backlog of many small files (one file per event) is read in batches of bounded size: at most
// MAX_FILES_PER_BATCH files each, every line once, with its file and offset.

afterAll(cleanupTempDirs)

describe('a backlog of many one-line files', () => {
  it('is read in batches of at most MAX_FILES_PER_BATCH files, every line exactly once', async () => {
    const ws = makeWorkspace()
    const n = MAX_FILES_PER_BATCH + 150
    for (let i = 0; i < n; i++) writeFileSync(ws.orders(`one-${String(i).padStart(6, '0')}.jsonl`), JSON.stringify(order({ order_id: `f-${i}` })) + '\n')
    await runPipeline(ws)
    const r = await queries(ws.lake, {
      batches: 'SELECT rows_read FROM batches ORDER BY batch_id',
      silver: 'SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM silver_orders',
      bronze: `SELECT count(*) AS n, count(DISTINCT source) AS files, count(*) FILTER (WHERE byte_offset <> 0) AS not_at_0 FROM bronze_orders`,
      offsets: 'SELECT count(*) AS n FROM source_offsets'
    })
    expect(r.batches.length).toBeGreaterThanOrEqual(2)
    for (const b of r.batches) expect(b.rows_read).toBeLessThanOrEqual(MAX_FILES_PER_BATCH)
    expect(r.silver[0]).toEqual({ n, d: n })
    expect(r.bronze[0]).toEqual({ n, files: n, not_at_0: 0 })
    expect(r.offsets[0].n).toBe(n)
  })
})
