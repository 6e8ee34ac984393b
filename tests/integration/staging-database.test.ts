import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultSettings } from '../../src/shared/settings'
import { openLake, stageFile } from '../../src/main/lake/lake'
import { stagingFor, writeBatch } from '../../src/main/lake/batch-writer'
import { transformSettings } from '../../src/main/lake/batch-transform'
import { ActiveScoring } from '../../src/main/lake/active-scoring'
import { seedRuleset } from '../../src/main/lake/rules-store'
import type { InputLine, LinesSegment } from '../../src/main/sources/source'
import { writeBulkInput } from '../support/bulk-input'
import { cleanupTempDirs, linesWithOffsets, makeWorkspace, order, query, runPipeline } from '../support/lake-fixtures'

// A batch of a few MiB is staged in the lake's staging database (lake.duckdb.stage), where
// DuckDB scans it on every core, instead of in temp tables. Where rows are staged must never
// change what is committed: these batches are checked line by line against their input.

afterAll(cleanupTempDirs)

describe('the staging database', () => {
  it('stages a mid-sized folder batch and commits every line exactly once, at its byte offset', async () => {
    const ws = makeWorkspace()
    const exp = writeBulkInput(ws.input, { files: 12, ordersPerFile: 1200, customers: 3000, seed: 21 })
    await runPipeline(ws)
    const [batch] = await query(ws.lake, `SELECT count(*) OVER () AS batches, bytes_read AS bytes FROM batches`)
    expect(batch.batches).toBe(1)
    // the batch was one the writer stages in the staging database
    const lake = await openLake(ws.lake, { create: false })
    try {
      expect(existsSync(stageFile(lake.file))).toBe(true)
      expect(stagingFor(lake, Number(batch.bytes))).toBe(lake.stage)
    } finally {
      await lake.close()
    }
    expect(existsSync(stageFile(join(ws.lake, 'lake.duckdb')))).toBe(false)

    const silver = await query(ws.lake, `SELECT order_id FROM silver_orders`)
    expect(new Set(silver.map((r) => r.order_id))).toEqual(exp.validOrderIds)
    expect(silver).toHaveLength(exp.validOrderIds.size)
    const [counts] = await query(
      ws.lake,
      `SELECT (SELECT count(*) FROM quarantine WHERE kind = 'order') AS bad_orders, (SELECT count(*) FROM quarantine WHERE kind = 'customer') AS bad_customers,
        (SELECT count(*) FROM customers) AS customers, (SELECT sum(duplicates) FROM batches) AS duplicates`
    )
    expect(counts).toEqual({ bad_orders: exp.badOrderLines, bad_customers: exp.badCustomerLines, customers: exp.customerIds.size, duplicates: exp.duplicateLines })

    // bronze holds every non-blank line of every file once, at the offset it starts at
    const bronze = await query(ws.lake, `SELECT source, byte_offset, raw FROM bronze_orders UNION ALL SELECT source, byte_offset, raw FROM bronze_customers`)
    const stored = new Map(bronze.map((r) => [`${r.source}@${r.byte_offset}`, r.raw]))
    const expected = exp.files.flatMap((f) => linesWithOffsets(readFileSync(f)).map((l) => [`${f}@${l.offset}`, l.bytes.toString()] as const))
    expect(bronze).toHaveLength(expected.length)
    expect(new Map(expected)).toEqual(stored)
  })

  it('stages a mid-sized batch of Kafka messages with their partitions and offsets', async () => {
    const ws = makeWorkspace()
    const lake = await openLake(ws.lake, { create: true })
    const lines: InputLine[] = []
    const n = 18_000
    for (let i = 0; i < n; i++) {
      const partition = i % 3
      const offset = Math.floor(i / 3)
      // every 500th message repeats the order before it; every 1,000th is not JSON
      const id = i % 500 === 499 ? `k-${i - 1}` : `k-${i}`
      const raw = i % 1000 === 0 ? `{"order_id": "cut off at ${i}` : JSON.stringify(order({ order_id: id, customer_id: `c-${i % 700}` }))
      lines.push({ raw, kafka: { topic: 'orders', partition, offset: String(offset), key: null, timestamp: null } })
    }
    const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l.raw ?? ''), 0)
    const seg: LinesSegment = { type: 'lines', stream: 'orders', source: 'orders', lines }
    const s = defaultSettings()
    try {
      expect(stagingFor(lake, bytes)).toBe(lake.stage)
      await seedRuleset(lake.writer, s.fraud)
      const b = await writeBatch(lake, { segments: [seg], offsets: [], bytes, newestInputAt: null }, transformSettings(s, await new ActiveScoring().current(lake.writer)))
      expect(b.quarantined).toBe(n / 1000)
      expect(b.duplicates).toBe(n / 500)
      expect(b.valid).toBe(n - n / 1000 - n / 500)
    } finally {
      await lake.close()
    }
    const [dup] = await query(ws.lake, `SELECT source_position FROM silver_orders WHERE order_id = 'k-498'`)
    // k-498 is partition 0 offset 166; its repeat (message 499, partition 1) is the duplicate
    expect(dup.source_position).toBe('partition 0 offset 166')
    const [bad] = await query(ws.lake, `SELECT kafka_partition, kafka_offset, reason FROM quarantine WHERE raw LIKE '%cut off at 3000'`)
    expect(bad).toMatchObject({ kafka_partition: 0, kafka_offset: 1000, reason: 'malformed JSON' })
  })

  it('replaces a staging database a killed process left behind', async () => {
    const ws = makeWorkspace()
    writeBulkInput(ws.input, { files: 1, ordersPerFile: 50, customers: 10, seed: 3 })
    await runPipeline(ws)
    // what a SIGKILL leaves: the lake's own file, never anything else in the folder
    const left = stageFile(join(ws.lake, 'lake.duckdb'))
    writeFileSync(left, 'the staging database of a process that was killed')
    writeBulkInput(ws.input, { files: 1, ordersPerFile: 50, customers: 0, seed: 4, prefix: 'later', firstOrder: 1000 })
    await runPipeline(ws)
    expect(existsSync(left)).toBe(false)
    const [n] = await query(ws.lake, `SELECT count(*) AS batches FROM batches`)
    expect(n.batches).toBe(2)
  })
})
