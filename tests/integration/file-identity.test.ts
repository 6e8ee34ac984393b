import { appendFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, describe, expect, it } from 'vitest'
import { settingsFromFlags } from '../../src/main/cli/commands/pipeline'
import { Pipeline } from '../../src/main/engine/pipeline'
import { lakeFile, openLake, type Lake } from '../../src/main/lake/lake'
import { FolderSource, FILE_SOURCE_KIND, SMALL_FILE_BYTES } from '../../src/main/sources/folder-source'
import type { PlannedBatch, Source } from '../../src/main/sources/source'
import { parseSettings, type Settings } from '../../src/shared/settings'
import { cleanupTempDirs, customer, makeWorkspace, order, queries, runPipeline, writeLines, type Workspace } from '../support/lake-fixtures'
import { spawnCli } from '../support/kafka-processes'
import { until } from '../support/wait'

// A path is not a file: files are renamed, deleted and created again under the same name,
// truncated and written again (copytruncate), changed while being read, or hold one huge line.
// Each case runs the real pipeline on real files and a real lake; each runPipeline() is a fresh
// start (the source reads the lake's offsets and identities), like a restarted process.

afterAll(cleanupTempDirs)

const line = (o: unknown) => JSON.stringify(o) + '\n'

interface Event {
  kind: string
  path: string
  from?: string
  message: string
}

async function events(ws: Workspace): Promise<Event[]> {
  const r = await queries(ws.lake, { e: `SELECT events::VARCHAR AS e FROM batches ORDER BY batch_id` })
  return r.e.flatMap((row) => JSON.parse((row.e as string | null) ?? '[]') as Event[])
}

async function count(lake: Lake, sql: string): Promise<number> {
  return Number((await lake.reader.runAndReadAll(sql)).getRows()[0][0])
}

/**
 * Runs a watching pipeline (as the app does) while `work` runs, then stops it. The pipeline must
 * not have stopped by itself meanwhile.
 */
async function watching(
  ws: Workspace,
  settings: Settings,
  work: (lake: Lake) => Promise<void>,
  wrap: (s: FolderSource) => Source = (s) => s
): Promise<void> {
  const lake = await openLake(ws.lake, { create: true })
  const folder = new FolderSource(ws.input)
  const pipeline = new Pipeline({ lake, source: wrap(folder), sourceKind: FILE_SOURCE_KIND, settings: () => settings, rescanMs: 100 })
  let failure: unknown = null
  let ended = false
  const running = pipeline.start().then(
    () => {
      ended = true
    },
    (err: unknown) => {
      failure = err
      ended = true
    }
  )
  try {
    folder.startWatching()
    await Promise.race([
      work(lake),
      running.then(() => {
        throw new Error(`the pipeline stopped by itself: ${String(failure)}`)
      })
    ])
    expect(ended, `the pipeline stopped by itself: ${String(failure)}`).toBe(false)
  } finally {
    await pipeline.stop()
    await running
    await folder.close()
    await lake.close()
  }
}

describe('a file renamed after it was read', () => {
  it('is not read again after a restart; lines appended later are read under the new name', async () => {
    const ws = makeWorkspace()
    writeLines(ws.customers('a.jsonl'), [customer({ customer_id: 'c1', name: 'First' }), customer({ customer_id: 'c2', name: 'Other' })])
    expect((await runPipeline(ws)).batches).toBe(1)
    writeLines(ws.customers('b.jsonl'), [customer({ customer_id: 'c1', name: 'Second' })])
    expect((await runPipeline(ws)).batches).toBe(1)

    renameSync(ws.customers('a.jsonl'), ws.customers('a-renamed.jsonl'))
    expect((await runPipeline(ws)).batches).toBe(0)
    const renamed = await queries(ws.lake, {
      c1: `SELECT name FROM customers WHERE customer_id = 'c1'`,
      bronze: `SELECT count(*) AS n FROM bronze_customers`
    })
    expect(renamed.c1, 'the profile must not revert to the renamed file’s older one').toEqual([{ name: 'Second' }])
    expect(renamed.bronze).toEqual([{ n: 3 }])
    // a second restart: the lake still knows the file by its old name and identity
    expect((await runPipeline(ws)).batches).toBe(0)

    const before = statSync(ws.customers('a-renamed.jsonl')).size
    appendFileSync(ws.customers('a-renamed.jsonl'), line(customer({ customer_id: 'c3', name: 'Third' })))
    expect((await runPipeline(ws)).batches).toBe(1)
    const r = await queries(ws.lake, {
      bronze: `SELECT source, byte_offset FROM bronze_customers WHERE batch_id = 3`,
      offsets: `SELECT key, next_offset, identity IS NOT NULL AS has_identity FROM source_offsets ORDER BY key`,
      c1: `SELECT name FROM customers WHERE customer_id = 'c1'`
    })
    expect(r.bronze).toEqual([{ source: ws.customers('a-renamed.jsonl'), byte_offset: before }])
    expect(r.c1).toEqual([{ name: 'Second' }])
    // the old name's offset went in that batch's transaction; the new name holds it now
    expect(r.offsets).toEqual([
      { key: ws.customers('a-renamed.jsonl'), next_offset: statSync(ws.customers('a-renamed.jsonl')).size, has_identity: true },
      { key: ws.customers('b.jsonl'), next_offset: statSync(ws.customers('b.jsonl')).size, has_identity: true }
    ])
    expect(await events(ws)).toContainEqual(
      expect.objectContaining({ kind: 'renamed', path: ws.customers('a-renamed.jsonl'), from: ws.customers('a.jsonl') })
    )
  })

  it('is not read again when renamed while the pipeline watches, nor after a restart', async () => {
    const ws = makeWorkspace()
    writeLines(ws.customers('a.jsonl'), [customer({ customer_id: 'c1', name: 'First' })])
    writeLines(ws.orders('o.jsonl'), [order({ order_id: 'o1', customer_id: 'c1' }), order({ order_id: 'o2', customer_id: 'c1' })])
    await watching(ws, settingsFromFlags({ trigger: 50 }), async (lake) => {
      await until('the first files to be committed', async () => (await count(lake, 'SELECT count(*) FROM bronze_orders')) === 2)
      writeLines(ws.customers('b.jsonl'), [customer({ customer_id: 'c1', name: 'Second' })])
      await until('the newer profile', async () => (await count(lake, `SELECT count(*) FROM customers WHERE name = 'Second'`)) === 1)
      renameSync(ws.customers('a.jsonl'), ws.customers('a-1.jsonl'))
      renameSync(ws.orders('o.jsonl'), ws.orders('o-moved.jsonl'))
      // a later file committed proves the renamed ones were planned meanwhile (no pause to hope for)
      writeLines(ws.orders('later.jsonl'), [order({ order_id: 'o3', customer_id: 'c1' })])
      await until('the later order', async () => (await count(lake, `SELECT count(*) FROM bronze_orders`)) >= 3)
      appendFileSync(ws.orders('o-moved.jsonl'), line(order({ order_id: 'o4', customer_id: 'c1' })))
      await until('the line appended to the moved file', async () => (await count(lake, `SELECT count(*) FROM silver_orders WHERE order_id = 'o4'`)) === 1)
    })
    expect((await runPipeline(ws)).batches).toBe(0)
    const r = await queries(ws.lake, {
      bronze: `SELECT raw->>'order_id' AS id, count(*) AS n FROM bronze_orders GROUP BY 1 ORDER BY 1`,
      customers: `SELECT count(*) AS n FROM bronze_customers`,
      c1: `SELECT name FROM customers WHERE customer_id = 'c1'`,
      offsets: `SELECT key FROM source_offsets ORDER BY key`
    })
    expect(r.bronze).toEqual(['o1', 'o2', 'o3', 'o4'].map((id) => ({ id, n: 1 })))
    expect(r.customers).toEqual([{ n: 2 }])
    expect(r.c1).toEqual([{ name: 'Second' }])
    expect(r.offsets.map((o) => o.key)).not.toContain(ws.orders('o.jsonl'))
  })
})

describe('a file rotated (renamed, and a new file under its name)', () => {
  it('goes on under the new name, and the new file is read from byte 0', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('app.jsonl')
    writeLines(f, [order({ order_id: 'r-1' }), order({ order_id: 'r-2' })])
    await runPipeline(ws)
    appendFileSync(f, line(order({ order_id: 'r-3' })))
    renameSync(f, ws.orders('app-1.jsonl'))
    writeLines(f, [order({ order_id: 'r-4' })])
    await runPipeline(ws)
    await watching(ws, settingsFromFlags({ trigger: 50 }), async (lake) => {
      renameSync(ws.orders('app-1.jsonl'), ws.orders('app-2.jsonl'))
      renameSync(f, ws.orders('app-1.jsonl'))
      writeLines(f, [order({ order_id: 'r-5' })])
      await until('the newest file', async () => (await count(lake, `SELECT count(*) FROM silver_orders WHERE order_id = 'r-5'`)) === 1)
    })
    expect((await runPipeline(ws)).batches).toBe(0)
    const r = await queries(ws.lake, {
      bronze: `SELECT raw->>'order_id' AS id, count(*) AS n FROM bronze_orders GROUP BY 1 ORDER BY 1`,
      offsets: `SELECT key FROM source_offsets ORDER BY key`
    })
    expect(r.bronze).toEqual(['r-1', 'r-2', 'r-3', 'r-4', 'r-5'].map((id) => ({ id, n: 1 })))
    expect(r.offsets.map((o) => o.key)).toEqual([ws.orders('app-1.jsonl'), ws.orders('app-2.jsonl'), f])
  })
})

describe('a file deleted and created again with the same name', () => {
  it('is read from byte 0, after a restart and while watching', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('a.jsonl')
    writeLines(f, [order({ order_id: 'old-1' }), order({ order_id: 'old-2' })])
    await runPipeline(ws)
    rmSync(f)
    writeLines(f, [1, 2, 3, 4].map((i) => order({ order_id: `new-${i}` })))
    await runPipeline(ws)
    const first = await queries(ws.lake, { silver: `SELECT order_id FROM silver_orders ORDER BY order_id` })
    expect(first.silver.map((s) => s.order_id)).toEqual(['new-1', 'new-2', 'new-3', 'new-4', 'old-1', 'old-2'])

    await watching(ws, settingsFromFlags({ trigger: 50 }), async (lake) => {
      rmSync(f)
      writeLines(f, [5, 6, 7, 8, 9].map((i) => order({ order_id: `new-${i}` })))
      await until('the recreated file', async () => (await count(lake, `SELECT count(*) FROM silver_orders`)) >= 11, {
        detail: () => count(lake, `SELECT count(*) FROM silver_orders`)
      })
    })
    const r = await queries(ws.lake, {
      silver: `SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM silver_orders`,
      quarantine: `SELECT count(*) AS n FROM quarantine`
    })
    expect(r.silver).toEqual([{ n: 11, d: 11 }])
    expect(r.quarantine).toEqual([{ n: 0 }])
  })
})

describe('a file truncated and written again (copytruncate)', () => {
  it('is read again from its new start, and the batch records it', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('app.jsonl')
    writeLines(f, [1, 2, 3, 4].map((i) => order({ order_id: `first-${i}` })))
    await runPipeline(ws)
    // rotated by copying away and truncating; the writer goes on, past the old offset
    truncateSync(f, 0)
    appendFileSync(f, [1, 2, 3, 4, 5, 6].map((i) => line(order({ order_id: `second-${i}` }))).join(''))
    await runPipeline(ws)
    const r = await queries(ws.lake, {
      silver: `SELECT order_id FROM silver_orders WHERE order_id LIKE 'second-%' ORDER BY order_id`,
      quarantine: `SELECT reason FROM quarantine`,
      offsets: `SELECT next_offset FROM source_offsets`
    })
    expect(r.silver.map((s) => s.order_id)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `second-${i}`))
    expect(r.quarantine).toEqual([])
    expect(r.offsets).toEqual([{ next_offset: statSync(f).size }])
    const e = await events(ws)
    expect(e).toEqual([expect.objectContaining({ kind: 'truncated', path: f })])
    expect(e[0].message).toMatch(/truncated/)
  })

  it('is read again when it is shorter than what was read, also while watching', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('app.jsonl')
    writeLines(f, [1, 2, 3, 4].map((i) => order({ order_id: `first-${i}` })))
    await runPipeline(ws)
    truncateSync(f, 0)
    appendFileSync(f, line(order({ order_id: 'second-1' })))
    await runPipeline(ws)
    await watching(ws, settingsFromFlags({ trigger: 50 }), async (lake) => {
      truncateSync(f, 0)
      appendFileSync(f, line(order({ order_id: 'third-1' })))
      await until('the line written after the truncation', async () => (await count(lake, `SELECT count(*) FROM silver_orders WHERE order_id = 'third-1'`)) === 1)
    })
    const r = await queries(ws.lake, { silver: `SELECT count(*) AS n FROM silver_orders` })
    expect(r.silver).toEqual([{ n: 6 }])
    expect((await events(ws)).map((e) => e.kind)).toEqual(['truncated', 'truncated'])
  })
})

describe('streamdesk pipeline', () => {
  it('prints one line per file event, also with --quiet', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('app.jsonl')
    writeLines(f, [order({ order_id: 'cli-1' }), order({ order_id: 'cli-2' })])
    const args = ['pipeline', '--input-path', ws.input, '--lake', ws.lake, '--until-idle', '--quiet']
    expect((await spawnCli(args).exited).code).toBe(0)
    truncateSync(f, 0)
    appendFileSync(f, line(order({ order_id: 'cli-3' })))
    const child = spawnCli(args)
    expect((await child.exited).code, child.stderr()).toBe(0)
    const lines = child.stderr().split('\n').filter((l) => l.includes(' event ('))
    expect(lines).toHaveLength(1)
    expect(lines[0].startsWith(`batch 2 event (truncated): ${f} was truncated`), lines[0]).toBe(true)
  })
})

/** The folder source, with `change` run on the files right after its first plan (before the lake reads it). */
const afterFirstPlan =
  (change: () => void) =>
  (inner: FolderSource): Source => {
    let polls = 0
    return {
      description: inner.description,
      open: (c, ids) => inner.open(c, ids),
      poll: async (max) => {
        const plan: PlannedBatch | null = await inner.poll(max)
        if (plan && ++polls === 1) change()
        return plan
      },
      replan: (paths) => inner.replan(paths),
      afterCommit: (b) => inner.afterCommit(b),
      onInput: (fn) => inner.onInput(fn),
      close: () => inner.close()
    }
  }

describe('a file that shrinks between planning and reading', () => {
  it('keeps the watching pipeline running and reads the file from its new start', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('shrinking.jsonl')
    // over SMALL_FILE_BYTES, so planning does not read it whole: the lake reads it later
    writeLines(f, Array.from({ length: 400 }, (_, i) => order({ order_id: `gone-${i}` })))
    expect(statSync(f).size).toBeGreaterThan(SMALL_FILE_BYTES)
    const shrinkAfterFirstPlan = afterFirstPlan(() => {
      truncateSync(f, 0)
      appendFileSync(f, line(order({ order_id: 'kept-1' })))
    })
    await watching(
      ws,
      settingsFromFlags({ trigger: 50 }),
      async (lake) => {
        await until('the line written after the shrink', async () => (await count(lake, `SELECT count(*) FROM silver_orders WHERE order_id = 'kept-1'`)) === 1)
      },
      shrinkAfterFirstPlan
    )
    const r = await queries(ws.lake, {
      bronze: `SELECT raw->>'order_id' AS id FROM bronze_orders`,
      offsets: `SELECT next_offset FROM source_offsets`
    })
    // the lines vanished before any was read: never accepted, so nothing was lost
    expect(r.bronze).toEqual([{ id: 'kept-1' }])
    expect(r.offsets).toEqual([{ next_offset: statSync(f).size }])
    expect(await events(ws)).toEqual([expect.objectContaining({ kind: 'changed', path: f })])
  })
})

describe('a small file truncated right after planning', () => {
  it('keeps the lines planning read (they were in the file), then reads the file again from its new start and says so', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('small.jsonl')
    writeLines(f, [1, 2, 3].map((i) => order({ order_id: `first-${i}` })))
    expect(statSync(f).size).toBeLessThanOrEqual(SMALL_FILE_BYTES)
    const truncateAfterFirstPlan = afterFirstPlan(() => {
      truncateSync(f, 0)
      appendFileSync(f, line(order({ order_id: 'second-1' })))
    })
    await watching(
      ws,
      settingsFromFlags({ trigger: 50 }),
      async (lake) => {
        await until('the line written after the truncation', async () => (await count(lake, `SELECT count(*) FROM silver_orders WHERE order_id = 'second-1'`)) === 1)
      },
      truncateAfterFirstPlan
    )
    const r = await queries(ws.lake, { bronze: `SELECT raw->>'order_id' AS id FROM bronze_orders ORDER BY batch_id, byte_offset` })
    // a small file is read whole while its batch is planned: what it held then is the batch
    expect(r.bronze).toEqual([{ id: 'first-1' }, { id: 'first-2' }, { id: 'first-3' }, { id: 'second-1' }])
    expect(await events(ws)).toEqual([expect.objectContaining({ kind: 'truncated', path: f })])
  })
})

describe('a large file replaced by another of the same size between planning and reading', () => {
  it('is not read as the planned file: DuckDB reads only the planned file, the new one is read from byte 0', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('big.jsonl')
    // over 1 MiB, so DuckDB reads the whole file itself; ids of equal length keep the size
    const old = Array.from({ length: 4000 }, (_, i) => line(order({ order_id: `old-${String(i).padStart(5, '0')}`, customer_id: `c-${i % 97}` }))).join('')
    writeFileSync(f, old)
    const replacement = ws.orders('.replacement.tmp')
    writeFileSync(replacement, old.replaceAll('"old-', '"new-'))
    expect(statSync(replacement).size).toBe(statSync(f).size)
    expect(statSync(f).size).toBeGreaterThan(1024 * 1024)
    const replaceAfterFirstPlan = afterFirstPlan(() => renameSync(replacement, f))
    await watching(
      ws,
      settingsFromFlags({ trigger: 50 }),
      async (lake) => {
        await until('the replacement read', async () => (await count(lake, `SELECT count(*) FROM silver_orders`)) === 4000)
      },
      replaceAfterFirstPlan
    )
    const r = await queries(ws.lake, {
      ids: `SELECT count(*) FILTER (WHERE order_id LIKE 'new-%') AS new, count(*) FILTER (WHERE order_id LIKE 'old-%') AS old FROM silver_orders`,
      bronze: `SELECT count(*) AS n FROM bronze_orders`
    })
    expect(r.ids).toEqual([{ new: 4000, old: 0 }])
    expect(r.bronze).toEqual([{ n: 4000 }])
    expect(await events(ws)).toEqual([expect.objectContaining({ kind: 'changed', path: f })])
  })
})

describe('a line longer than a batch may be', () => {
  const small = parseSettings({ pipeline: { maxBatchBytes: 64 * 1024 } }, settingsFromFlags({ trigger: 50 }))

  it('is quarantined with its length, offset and first bytes when over 1 MiB, and the file goes on; a long valid line is read', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('long.jsonl')
    const head = line(order({ order_id: 'before' }))
    const huge = JSON.stringify({ order_id: 'huge', pad: 'x'.repeat(2 * 1024 * 1024) }) + '\n'
    const mid = line(order({ order_id: 'between' }))
    // 300 kB: over the 64 kB batch size, under the 1 MiB line limit: a valid order
    const long = line({ ...order({ order_id: 'long-valid' }), note: 'y'.repeat(300 * 1024) })
    const tail = line(order({ order_id: 'after' }))
    writeFileSync(f, head + huge + mid + long + tail)
    await watching(ws, small, async (lake) => {
      await until('the line after the long ones', async () => (await count(lake, `SELECT count(*) FROM silver_orders WHERE order_id = 'after'`)) === 1)
    })
    const r = await queries(ws.lake, {
      silver: `SELECT order_id FROM silver_orders ORDER BY order_id`,
      quarantine: `SELECT source, byte_offset, reason, strlen(raw) AS len, raw FROM quarantine`,
      offsets: `SELECT next_offset FROM source_offsets`
    })
    expect(r.silver.map((s) => s.order_id)).toEqual(['after', 'before', 'between', 'long-valid'])
    expect(r.quarantine).toHaveLength(1)
    const q = r.quarantine[0]
    expect(q).toMatchObject({ source: f, byte_offset: head.length })
    expect(q.reason).toMatch(new RegExp(`^line over 1 MiB \\(${huge.length - 1} bytes\\)`))
    expect(q.len as number).toBeLessThanOrEqual(4096)
    expect(huge.startsWith(q.raw as string)).toBe(true)
    expect(r.offsets).toEqual([{ next_offset: statSync(f).size }])
  })

  it('waits for the end of a long line still being written, then quarantines it', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('slow.jsonl')
    writeFileSync(f, line(order({ order_id: 'first' })) + '{"order_id":"big","pad":"')
    await watching(ws, small, async (lake) => {
      await until('the first line', async () => (await count(lake, `SELECT count(*) FROM silver_orders`)) === 1)
      for (let i = 0; i < 20; i++) appendFileSync(f, 'z'.repeat(100 * 1024))
      appendFileSync(f, '"}\n' + line(order({ order_id: 'last' })))
      await until('the line after the long one', async () => (await count(lake, `SELECT count(*) FROM silver_orders WHERE order_id = 'last'`)) === 1)
    })
    const r = await queries(ws.lake, { q: `SELECT reason FROM quarantine` })
    expect(r.q).toEqual([{ reason: expect.stringMatching(/^line over 1 MiB \(2048027 bytes\)/) }])
  })
})

describe('offsets of files that are gone', () => {
  it('are pruned from the lake in the next batch', async () => {
    const ws = makeWorkspace()
    for (const n of [1, 2, 3]) writeLines(ws.orders(`${n}.jsonl`), [order({ order_id: `p-${n}` })])
    await runPipeline(ws)
    rmSync(ws.orders('1.jsonl'))
    rmSync(ws.orders('2.jsonl'))
    expect((await runPipeline(ws)).batches).toBe(0)
    writeLines(ws.orders('4.jsonl'), [order({ order_id: 'p-4' })])
    await runPipeline(ws)
    const r = await queries(ws.lake, { offsets: `SELECT key FROM source_offsets ORDER BY key` })
    expect(r.offsets.map((o) => o.key)).toEqual([ws.orders('3.jsonl'), ws.orders('4.jsonl')])
  })
})

describe('an offset from an older StreamDesk (no identity stored)', () => {
  it('is trusted for the file at that path, which is not read again', async () => {
    const ws = makeWorkspace()
    const f = ws.orders('legacy.jsonl')
    writeLines(f, [order({ order_id: 'l-1' }), order({ order_id: 'l-2' })])
    await runPipeline(ws)
    const db = await DuckDBInstance.create(lakeFile(ws.lake))
    const c = await db.connect()
    await c.run(`UPDATE source_offsets SET identity = NULL`)
    c.closeSync()
    db.closeSync()
    appendFileSync(f, line(order({ order_id: 'l-3' })))
    expect((await runPipeline(ws)).batches).toBe(1)
    const r = await queries(ws.lake, {
      bronze: `SELECT count(*) AS n FROM bronze_orders`,
      offsets: `SELECT identity IS NOT NULL AS has FROM source_offsets`
    })
    expect(r.bronze).toEqual([{ n: 3 }])
    expect(r.offsets).toEqual([{ has: true }])
  })
})
