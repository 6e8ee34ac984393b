import { afterAll, describe, expect, it } from 'vitest'
import { appendRaw, cleanupTempDirs, makeWorkspace, order, query, runPipeline, writeLines } from '../support/lake-fixtures'

afterAll(cleanupTempDirs)

describe('lines that are not records', () => {
  for (const mode of ['whole file', 'appended tail'] as const) {
    it(`skips whitespace-only lines and explains a BOM (${mode})`, async () => {
      const ws = makeWorkspace()
      const path = ws.orders('a.jsonl')
      const lines = [order({ order_id: 'a1' }), '   ', '\t', order({ order_id: 'a2' })]
      const bom = '\ufeff' + JSON.stringify(order({ order_id: 'bom' }))
      if (mode === 'whole file') {
        writeLines(path, [...lines, bom])
      } else {
        writeLines(path, [order({ order_id: 'first' })])
        await runPipeline(ws)
        appendRaw(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n' + bom + '\n')
      }
      await runPipeline(ws)
      const silver = await query(ws.lake, `SELECT order_id FROM silver_orders ORDER BY order_id`)
      expect(silver.map((r) => r.order_id)).toEqual(mode === 'whole file' ? ['a1', 'a2'] : ['a1', 'a2', 'first'])
      const q = await query(ws.lake, `SELECT reason FROM quarantine`)
      expect(q.map((r) => r.reason)).toEqual([expect.stringMatching(/byte order mark/)])
      const bronze = await query(ws.lake, `SELECT count(*) AS n FROM bronze_orders WHERE trim(raw) = ''`)
      expect(Number(bronze[0].n)).toBe(0)
    })
  }
})
