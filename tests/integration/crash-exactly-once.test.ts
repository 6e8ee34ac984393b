import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CliError } from '../../src/main/cli/errors'
import { LakeError, openLake } from '../../src/main/lake/lake'
import {
  cleanupTempDirs,
  linesWithOffsets,
  makeWorkspace,
  order,
  queries,
  runPipeline,
  writeLines
} from '../support/lake-fixtures'
import { killLeftovers, orderLine, rng, spawnPipeline, writeBulkInput, type Child } from '../support/bulk-input'
import { CONSISTENCY_SQL, expectConsistentLake, killAtRandom, runToEnd } from '../support/crash-runs'

// A real pipeline process is SIGKILLed several times while it ingests a large input, restarted
// each time, and finally run until idle. Whatever the kill points, the lake must hold every input
// line exactly once, and silver/windows/offsets must agree with the input.

afterAll(cleanupTempDirs)

const children: Child[] = []
afterEach(() => killLeftovers(children))

function spawn(input: string, lake: string, extra: string[] = []): Child {
  const c = spawnPipeline(input, lake, extra)
  children.push(c)
  return c
}

describe('exactly-once under SIGKILL', () => {
  it('holds every line once after repeated crashes and restarts', { timeout: 240_000 }, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000)
    const r = rng(seed)
    const ws = makeWorkspace()
    const expected = writeBulkInput(ws.input, { files: 40, ordersPerFile: 5000, customers: 1000, seed })
    let nextOrder = expected.nextOrder
    const baseMs = Date.parse('2024-03-01T00:00:00Z')
    const batchArgs = ['--max-batch-bytes', String(8 * 1024 * 1024)] // ~9 batches of 4-5 files
    const log: string[] = [`seed ${seed}`]

    const appendOrders = (path: string, count: number): string => {
      let s = ''
      for (let i = 0; i < count; i++) {
        s += orderLine(nextOrder, r, baseMs, 1000) + '\n'
        expected.validOrderIds.add(`ord-${nextOrder}`)
        nextOrder++
      }
      return s
    }

    let partial = ''
    // kill points: right after spawn (maybe while the lake is created), 300–1500 ms after the lake
    // is open, and 0–1200 ms after a batch of this run committed (so the next one is in flight)
    const schedule = ['spawn', 'started', 'committed', 'started', 'committed', 'started'] as const
    for (let k = 0; k < schedule.length; k++) {
      log.push(`run ${k}: ${await killAtRandom(() => spawn(ws.input, ws.lake, batchArgs), schedule[k], r)}`)

      // input keeps arriving between crashes: appends (some cut mid-line) and new files
      const grow = expected.files.find((f) => f.includes('/orders/') && f.endsWith(`-${String(k * 6).padStart(3, '0')}.jsonl`))!
      if (k === 1) {
        const text = appendOrders(grow, 50)
        partial = text.slice(text.length - 80)
        appendFileSync(grow, text.slice(0, text.length - 80)) // last line cut
      } else if (k === 2) {
        const prev = expected.files.find((f) => f.endsWith('-006.jsonl'))!
        appendFileSync(prev, partial + appendOrders(prev, 10))
      } else {
        appendFileSync(grow, appendOrders(grow, 100))
      }
      const extra = ws.orders(`extra-${k}.jsonl`)
      writeFileSync(extra, appendOrders(extra, 300) + 'garbage line\n')
      expected.badOrderLines++
      expected.files.push(extra)
    }

    const final = await runToEnd(() => spawn(ws.input, ws.lake, [...batchArgs, '--until-idle']))
    log.push(final.line)
    console.info(log.join('\n'))
    expect(final.code, final.stderr).toBe(0)

    const res = await queries(ws.lake, {
      ...CONSISTENCY_SQL,
      bronze: `SELECT source, count(*) AS n, count(DISTINCT byte_offset) AS d, sum(strlen(raw))::BIGINT AS bytes
        FROM (SELECT source, byte_offset, raw FROM bronze_orders UNION ALL SELECT source, byte_offset, raw FROM bronze_customers)
        GROUP BY source`,
      quarantine: `SELECT kind, count(*) AS n, count(DISTINCT (source, byte_offset)) AS d FROM quarantine GROUP BY kind ORDER BY kind`,
      offsets: `SELECT key, next_offset FROM source_offsets`,
      customers: `SELECT count(*) AS n FROM customers`
    })

    // bronze: per file, exactly its non-blank lines, each at a distinct offset, same bytes
    const bronze = new Map(res.bronze.map((b) => [b.source as string, b]))
    let nonBlank = 0
    for (const f of expected.files) {
      const buf = readFileSync(f)
      const lines = linesWithOffsets(buf)
      nonBlank += lines.length
      const b = bronze.get(f)
      expect(b, `bronze rows for ${f}`).toBeDefined()
      expect(b!.n, `bronze row count for ${f}`).toBe(lines.length)
      expect(b!.d, `distinct byte offsets for ${f}`).toBe(lines.length)
      expect(b!.bytes, `bronze bytes for ${f}`).toBe(lines.reduce((s, l) => s + l.bytes.length, 0))
    }
    expect(res.bronze.length).toBe(expected.files.length)

    expectConsistentLake(res, expected.validOrderIds)

    // quarantine: each bad line once
    expect(res.quarantine).toEqual([
      { kind: 'customer', n: expected.badCustomerLines, d: expected.badCustomerLines },
      { kind: 'order', n: expected.badOrderLines, d: expected.badOrderLines }
    ])
    expect(res.customers[0].n).toBe(expected.customerIds.size)

    // offsets: every file consumed to its end
    const offsets = new Map(res.offsets.map((o) => [o.key as string, o.next_offset as number]))
    for (const f of expected.files) expect(offsets.get(f), `source_offsets of ${f}`).toBe(statSync(f).size)

    // batch totals add up
    const b = res.batches[0]
    expect(b.rows_read).toBe(nonBlank)
    expect(b.duplicates).toBe(expected.duplicateLines)
    expect(b.quarantined).toBe(expected.badOrderLines + expected.badCustomerLines)
  })
})

describe('one lake, one process', () => {
  it('refuses a second pipeline on a lake in use, with a clear error and exit code 3', { timeout: 60_000 }, async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('1.jsonl'), [order({ order_id: 'lock-1' }), order({ order_id: 'lock-2' })])
    const owner = spawn(ws.input, ws.lake) // watches: keeps the lake open
    await owner.waitFor('batch 1:')

    // in this process, directly
    const lakeErr = await openLake(ws.lake, { create: true }).then(
      async (lake) => {
        await lake.close()
        return null
      },
      (e: unknown) => e
    )
    expect(lakeErr).toBeInstanceOf(LakeError)
    expect((lakeErr as LakeError).message).toMatch(/in use by another process \(PID \d+\)/)

    // in this process, through runFilePipeline
    const err = await runPipeline(ws).then(
      () => null,
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(CliError)
    expect((err as CliError).exitCode).toBe(3)
    expect((err as CliError).message).toMatch(/in use by another process/)
    expect((err as CliError).message).toContain(ws.lake)

    // as another process, which exits with code 3
    const second = spawn(ws.input, ws.lake, ['--until-idle'])
    const secondExit = await second.exited
    expect(secondExit.code).toBe(3)
    expect(second.stderr()).toMatch(/in use by another process/)

    // the owner is unaffected: it still ingests new input, and stops cleanly
    writeLines(ws.orders('2.jsonl'), [order({ order_id: 'lock-3' })])
    await owner.waitFor('batch 2:')
    owner.proc.kill('SIGTERM')
    expect((await owner.exited).code).toBe(0)
    const r = await queries(ws.lake, {
      s: `SELECT order_id FROM silver_orders ORDER BY order_id`,
      b: `SELECT count(*) AS n FROM bronze_orders`
    })
    expect(r.s.map((x) => x.order_id)).toEqual(['lock-1', 'lock-2', 'lock-3'])
    expect(r.b[0].n).toBe(3)
  })
})
