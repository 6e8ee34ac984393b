import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { Pipeline } from '../../src/main/engine/pipeline'
import { openLake } from '../../src/main/lake/lake'
import { FolderSource, FILE_SOURCE_KIND } from '../../src/main/sources/folder-source'
import type { PlannedBatch, Source } from '../../src/main/sources/source'
import { settingsFromFlags } from '../../src/main/cli/commands/pipeline'
import {
  appendRaw,
  cleanupTempDirs,
  customer,
  linesWithOffsets,
  makeWorkspace,
  order,
  queries,
  runPipeline,
  ts,
  type Workspace
} from '../support/lake-fixtures'
import { until } from '../support/wait'

// Files that grow: only complete lines are ingested, the rest is picked up from the committed
// byte offset later, nothing is duplicated or lost.

afterAll(cleanupTempDirs)

const line = (o: unknown) => JSON.stringify(o) + '\n'

/** Bronze matches the files exactly: every complete non-blank line once, at its offset. */
async function expectBronzeMatchesFiles(ws: Workspace, files: string[]): Promise<void> {
  const r = await queries(ws.lake, {
    bronze: `SELECT source, byte_offset, raw FROM bronze_orders UNION ALL SELECT source, byte_offset, raw FROM bronze_customers`,
    offsets: `SELECT key, next_offset FROM source_offsets`,
    quarantine: `SELECT source, byte_offset, reason FROM quarantine`
  })
  const offsets = new Map(r.offsets.map((o) => [o.key as string, o.next_offset as number]))
  for (const f of files) {
    const buf = readFileSync(f)
    const lastNl = buf.lastIndexOf(10)
    expect(offsets.get(f) ?? 0, `source_offsets of ${f}`).toBe(lastNl + 1)
    const expected = linesWithOffsets(buf).map((l) => ({ byte_offset: l.offset, raw: l.bytes.toString('utf8') }))
    const actual = r.bronze
      .filter((b) => b.source === f)
      .map((b) => ({ byte_offset: b.byte_offset, raw: b.raw }))
      .sort((a, b) => (a.byte_offset as number) - (b.byte_offset as number))
    expect(actual, `bronze rows of ${f}`).toEqual(expected)
  }
  expect(r.quarantine, 'nothing was cut into a bad half-line').toEqual([])
}

describe('a file with a partial last line', () => {
  it('ingests complete lines only and continues from the committed offset', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('growing.jsonl')
    const l = [1, 2, 3, 4, 5, 6, 7].map((i) => line(order({ order_id: `g-${i}` })))
    const cut4 = 100
    writeFileSync(f, l[0] + l[1] + l[2] + l[3].slice(0, cut4))
    expect((await runPipeline(ws)).batches).toBe(1)
    await expectBronzeMatchesFiles(ws, [f])

    // nothing new: no batch
    expect((await runPipeline(ws)).batches).toBe(0)

    appendRaw(f, l[3].slice(cut4) + l[4] + l[5].slice(0, 7))
    await runPipeline(ws)
    await expectBronzeMatchesFiles(ws, [f])

    // a single byte that is not a newline: still nothing to read
    appendRaw(f, l[5].slice(7, 8))
    expect((await runPipeline(ws)).batches).toBe(0)

    appendRaw(f, l[5].slice(8) + l[6])
    await runPipeline(ws)
    await expectBronzeMatchesFiles(ws, [f])
    const r = await queries(ws.lake, {
      silver: `SELECT order_id FROM silver_orders ORDER BY order_id`,
      batches: `SELECT count(*) AS n, sum(rows_read)::BIGINT AS rows FROM batches`
    })
    expect(r.silver.map((s) => s.order_id)).toEqual(['g-1', 'g-2', 'g-3', 'g-4', 'g-5', 'g-6', 'g-7'])
    expect(r.batches[0]).toEqual({ n: 3, rows: 7 })
  })

  it('ends a line at its newline even when the newline arrives alone', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('nl.jsonl')
    const body = JSON.stringify(order({ order_id: 'nl-1' }))
    writeFileSync(f, body)
    expect((await runPipeline(ws)).batches).toBe(0)
    appendRaw(f, '\n')
    await runPipeline(ws)
    await expectBronzeMatchesFiles(ws, [f])
  })
})

describe('a file that grows between batches several times', () => {
  it('ingests each appended piece once, whatever the cut points', async () => {
    const ws = makeWorkspace()
    const orders = ws.orders('stream.jsonl')
    const customers = ws.customers('stream.jsonl')
    const lines = Array.from({ length: 60 }, (_, i) => line(order({ order_id: `s-${i}`, order_ts: ts(i * 1000) })))
    // a blank line in the middle and one at the end
    const all = lines.slice(0, 30).join('') + '\n' + lines.slice(30).join('') + '\n'
    const allCustomers = Array.from({ length: 10 }, (_, i) => line(customer({ customer_id: `s-c${i}` }))).join('')
    // cut points in the middle of lines, right after newlines, inside the blank line's neighbourhood
    const blankAt = all.indexOf('\n\n') + 1
    const cuts = [0, 17, 700, 701, 2000, all.indexOf('\n', 5000) + 1, blankAt, blankAt + 1, 12345, all.length]
    const ccuts = [0, 5, 300, 301, 900, allCustomers.length]
    for (let k = 1; k < cuts.length; k++) {
      appendRaw(orders, all.slice(cuts[k - 1], cuts[k]))
      if (k < ccuts.length) appendRaw(customers, allCustomers.slice(ccuts[k - 1], ccuts[k]))
      await runPipeline(ws)
      await expectBronzeMatchesFiles(ws, [orders, customers])
    }
    const r = await queries(ws.lake, {
      silver: `SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM silver_orders`,
      customers: `SELECT count(*) AS n FROM customers`
    })
    expect(r.silver[0]).toEqual({ n: 60, d: 60 })
    expect(r.customers[0].n).toBe(10)
  })
})

describe('a running pipeline watching files grow', () => {
  it('picks up appends and new files while running, without duplicates or half lines', async () => {
    const ws = makeWorkspace()
    const lake = await openLake(ws.lake, { create: true })
    const source = new FolderSource(ws.input)
    const settings = settingsFromFlags({ trigger: 50 })
    let committed = 0
    const pipeline = new Pipeline({
      lake,
      source,
      sourceKind: FILE_SOURCE_KIND,
      settings: () => settings,
      rescanMs: 100,
      onBatch: () => committed++
    })
    const bronzeCount = async () =>
      Number((await lake.reader.runAndReadAll(`SELECT count(*) FROM bronze_orders`)).getRows()[0][0])
    const waitFor = (n: number) => until(`bronze_orders to reach ${n} rows`, async () => (await bronzeCount()) >= n, { detail: bronzeCount })
    let running: Promise<void> | null = null
    try {
      source.startWatching()
      running = pipeline.start()
      const f = ws.orders('live.jsonl')
      const g = ws.orders('live2.jsonl')
      const h = ws.orders('live3.jsonl')
      const l = Array.from({ length: 41 }, (_, i) => line(order({ order_id: `live-${i}`, order_ts: ts(i * 1000) })))
      writeFileSync(f, l[0] + l[1] + l[2].slice(0, 50))
      await waitFor(2)
      // The half line must stay unread. A whole line in another file, taken by a later batch,
      // proves the pipeline planned again while the half line was there (no pause to hope for).
      writeFileSync(h, l[40])
      await waitFor(3)
      expect(await bronzeCount()).toBe(3)
      appendRaw(f, l[2].slice(50) + l[3])
      await waitFor(5)
      writeFileSync(g, l[4] + l[5] + l[6])
      await waitFor(8)
      // dribble the rest in small chunks that split lines anywhere; the pauses only spread the
      // chunks over several batches, and any split is correct
      const rest = l.slice(7, 40).join('')
      for (let pos = 0; pos < rest.length; pos += 333) {
        appendRaw(f, rest.slice(pos, pos + 333))
        await sleep(15)
      }
      await waitFor(41)
    } finally {
      await pipeline.stop()
      await running?.catch(() => undefined)
      await source.close()
      await lake.close()
    }
    expect(committed).toBeGreaterThan(3)
    await expectBronzeMatchesFiles(ws, [ws.orders('live.jsonl'), ws.orders('live2.jsonl'), ws.orders('live3.jsonl')])
    const r = await queries(ws.lake, { silver: `SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM silver_orders` })
    expect(r.silver[0]).toEqual({ n: 41, d: 41 })
    expect(statSync(ws.orders('live.jsonl')).size).toBeGreaterThan(0)
  })
})

describe('a file that grows after the batch was planned', () => {
  it('reads exactly the planned bytes and takes the rest in the next batch', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('racing.jsonl')
    const l = Array.from({ length: 8 }, (_, i) => line(order({ order_id: `r-${i}`, order_ts: ts(i * 1000) })))
    writeFileSync(f, l[0] + l[1] + l[2])
    const inner = new FolderSource(ws.input)
    let polls = 0
    // The real folder source, except that the file grows right after each of the first two plans
    // were made: DuckDB's whole-file read then sees more than planned.
    const source: Source = {
      description: inner.description,
      open: (c) => inner.open(c),
      poll: async (max) => {
        const plan: PlannedBatch | null = await inner.poll(max)
        polls++
        if (polls === 1) appendRaw(f, l[3] + l[4] + l[5].slice(0, 30))
        if (polls === 2) appendRaw(f, l[5].slice(30) + l[6])
        return plan
      },
      afterCommit: (b) => inner.afterCommit(b),
      onInput: (fn) => inner.onInput(fn),
      close: () => inner.close()
    }
    const lake = await openLake(ws.lake, { create: true })
    const settings = settingsFromFlags({ trigger: 50 })
    const sizes: number[] = []
    try {
      await new Pipeline({
        lake,
        source,
        sourceKind: FILE_SOURCE_KIND,
        settings: () => settings,
        untilIdle: true,
        onBatch: (b) => sizes.push(b.rowsRead)
      }).start()
    } finally {
      await source.close()
      await lake.close()
    }
    expect(sizes[0]).toBe(3)
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(7)
    appendRaw(f, l[7])
    await runPipeline(ws)
    await expectBronzeMatchesFiles(ws, [f])
    const r = await queries(ws.lake, { silver: `SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM silver_orders` })
    expect(r.silver[0]).toEqual({ n: 8, d: 8 })
  })
})
