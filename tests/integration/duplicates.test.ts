import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanupTempDirs, makeWorkspace, order, queries, runPipeline, writeLines, type Row, type Workspace } from '../support/lake-fixtures'

// The same order_id more than once (in one file, across files of one batch, in a later batch):
// one row in silver (the first one processed), batches.duplicates counts the others, bronze keeps
// every line.

afterAll(cleanupTempDirs)

describe('duplicate order ids', () => {
  let ws: Workspace
  let r: Record<'silver' | 'batches' | 'bronze' | 'alerts' | 'quarantine' | 'windows', Row[]>

  beforeAll(async () => {
    ws = makeWorkspace()
    writeLines(ws.orders('1.jsonl'), [
      order({ order_id: 'A', total_amount: 10 }),
      order({ order_id: 'B', total_amount: 6000 }),
      order({ order_id: 'A', total_amount: 11 }),
      order({ order_id: 'C', total_amount: 12 }),
      order({ order_id: 'A', total_amount: 13 }),
      order({ order_id: 'F', status: 'lost' }) // quarantined: not an order, so not a duplicate either
    ])
    await runPipeline(ws)
    writeLines(ws.orders('2.jsonl'), [
      order({ order_id: 'A', total_amount: 14 }),
      order({ order_id: 'D', total_amount: 15 }),
      order({ order_id: 'D', total_amount: 16 }),
      order({ order_id: 'B', total_amount: 6000 }),
      order({ order_id: 'F', total_amount: 17 })
    ])
    await runPipeline(ws)
    // two files of the same batch sharing an id
    writeLines(ws.orders('3a.jsonl'), [order({ order_id: 'E', total_amount: 18 }), order({ order_id: 'G', total_amount: 19 })])
    writeLines(ws.orders('3b.jsonl'), [order({ order_id: 'E', total_amount: 20 }), order({ order_id: 'C', total_amount: 21 })])
    await runPipeline(ws)
    r = await queries(ws.lake, {
      silver: `SELECT order_id, total_amount::VARCHAR AS total, batch_id FROM silver_orders ORDER BY order_id`,
      batches: `SELECT batch_id, rows_read, valid, quarantined, duplicates FROM batches ORDER BY batch_id`,
      bronze: `SELECT count(*) AS n, count(DISTINCT (source, byte_offset)) AS distinct_positions FROM bronze_orders`,
      alerts: `SELECT order_id, count(*) AS n FROM fraud_alerts GROUP BY order_id`,
      quarantine: `SELECT count(*) AS n FROM quarantine`,
      windows: `SELECT sum(orders)::BIGINT AS orders, sum(revenue)::VARCHAR AS revenue FROM order_windows`
    })
  })

  it('keeps one silver row per order_id: the first one processed', () => {
    expect(r.silver).toEqual([
      { order_id: 'A', total: '10.00', batch_id: 1 },
      { order_id: 'B', total: '6000.00', batch_id: 1 },
      { order_id: 'C', total: '12.00', batch_id: 1 },
      { order_id: 'D', total: '15.00', batch_id: 2 },
      { order_id: 'E', total: expect.stringMatching(/^(18|20)\.00$/), batch_id: 3 },
      { order_id: 'F', total: '17.00', batch_id: 2 },
      { order_id: 'G', total: '19.00', batch_id: 3 }
    ])
  })

  it('counts duplicates per batch', () => {
    expect(r.batches).toEqual([
      { batch_id: 1, rows_read: 6, valid: 3, quarantined: 1, duplicates: 2 },
      { batch_id: 2, rows_read: 5, valid: 2, quarantined: 0, duplicates: 3 },
      { batch_id: 3, rows_read: 4, valid: 2, quarantined: 0, duplicates: 2 }
    ])
  })

  it('keeps every line in bronze', () => {
    expect(r.bronze[0]).toEqual({ n: 15, distinct_positions: 15 })
    expect(r.quarantine[0].n).toBe(1)
  })

  it('alerts and windows count a duplicated order once', () => {
    expect(r.alerts).toEqual([{ order_id: 'B', n: 1 }])
    expect(r.windows[0].orders).toBe(7)
    const e = Number(r.silver.find((s) => s.order_id === 'E')!.total)
    expect(Number(r.windows[0].revenue)).toBeCloseTo(10 + 6000 + 12 + 15 + e + 17 + 19, 2)
  })
})
