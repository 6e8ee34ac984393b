import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngineHost } from '../../src/main/api/engine-host'
import type { EngineHost } from '../../src/main/api/host'
import { openLakeCount } from '../../src/main/lake/lake-registry'
import type { PipelineStatus } from '../../src/shared/dto'
import { writeBulkInput, type BulkExpectation } from '../support/bulk-input'
import { cleanupTempDirs, makeTempDir, queries, type Row } from '../support/lake-fixtures'

// One owner per lake: start, stop, a lake path change and queries, fired at the same time and
// hundreds of times, never open a lake file twice; every lake written that way opens again and
// holds each accepted order exactly once. Saving settings opens and creates nothing, and
// dispose waits for the queries in flight.

afterAll(() => cleanupTempDirs())

interface Setup {
  base: string
  input: string
  exp: BulkExpectation
  host: EngineHost
}

async function setup(files = 6, ordersPerFile = 400): Promise<Setup> {
  const base = makeTempDir()
  const input = join(base, 'input')
  mkdirSync(join(input, 'orders'), { recursive: true })
  mkdirSync(join(input, 'customers'), { recursive: true })
  const exp = writeBulkInput(input, { files, ordersPerFile, customers: 40, seed: 11 })
  const host = await createEngineHost({ settingsFile: join(base, 'settings.json'), baseDir: base })
  await host.handlers['settings.update']({
    patch: { source: { kind: 'folder', inputPath: 'input' }, lakePath: 'lake-a', pipeline: { triggerMs: 50 } }
  })
  return { base, input, exp, host }
}

/** Polls the status (a condition, not a clock) until `ok`; the timeout only guards a hang. */
async function waitForStatus(host: EngineHost, what: string, ok: (s: PipelineStatus) => boolean): Promise<PipelineStatus> {
  const t0 = Date.now()
  for (;;) {
    const s = await host.handlers['pipeline.status']({})
    if (ok(s)) return s
    if (Date.now() - t0 > 120_000) throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(s)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** What a lake must hold once it has read all the input: each valid order once, counts that agree. */
async function checkLake(dir: string, exp: BulkExpectation): Promise<void> {
  const r = await queries(dir, {
    silver: 'SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM silver_orders',
    bronze: 'SELECT count(*) AS n, count(DISTINCT (source, byte_offset)) AS d FROM bronze_orders',
    batches: 'SELECT coalesce(sum(valid), 0) AS valid, count(*) AS n, count(DISTINCT batch_id) AS d FROM batches',
    quarantine: `SELECT count(*) AS n FROM quarantine WHERE kind = 'order'`
  })
  const ids = await queries(dir, { ids: 'SELECT order_id FROM silver_orders' })
  expect(new Set(ids.ids.map((x: Row) => x.order_id))).toEqual(exp.validOrderIds)
  expect(r.silver[0]).toEqual({ n: exp.validOrderIds.size, d: exp.validOrderIds.size })
  expect(r.bronze[0].n).toBe(r.bronze[0].d)
  expect(r.quarantine[0].n).toBe(exp.badOrderLines)
  expect(r.batches[0].n).toBe(r.batches[0].d)
}

describe('one owner per lake', () => {
  it('saving a new lake path opens and creates nothing; Start and a status call at the same moment open it once', async () => {
    const { base, exp, host } = await setup()
    try {
      expect(readdirSync(base).sort()).toEqual(['input', 'settings.json'])
      await host.handlers['settings.update']({ patch: { lakePath: 'lake-b' } })
      expect(existsSync(join(base, 'lake-b'))).toBe(false)
      // the dashboard reads an empty lake until Start
      expect((await host.handlers['query.dashboard']({})).kpis.orders).toBe(0)
      expect(existsSync(join(base, 'lake-b'))).toBe(false)

      const [started] = await Promise.all([host.handlers['pipeline.start']({}), host.handlers['pipeline.status']({}), host.handlers['query.dashboard']({})])
      expect(started.state).toBe('running')
      expect(openLakeCount()).toBe(1)
      await waitForStatus(host, 'every order committed', (s) => s.totals.orders === exp.validOrderIds.size)
      await host.handlers['pipeline.stop']({})
    } finally {
      await host.dispose()
    }
    expect(openLakeCount()).toBe(0)
    expect(existsSync(join(base, 'lake-a'))).toBe(false)
    await checkLake(join(base, 'lake-b'), exp)
  })

  it('a lake path that can never hold a lake is refused when saved, and nothing is created', async () => {
    const { base, host } = await setup(1, 10)
    try {
      await expect(host.handlers['settings.update']({ patch: { lakePath: '/' } })).rejects.toMatchObject({
        type: 'validation',
        fields: [{ field: 'lakePath', message: expect.stringMatching(/cannot be the root folder/) }]
      })
      await expect(host.handlers['settings.update']({ patch: { lakePath: 'input' } })).rejects.toMatchObject({
        fields: [{ field: 'lakePath', message: expect.stringMatching(/is not empty and holds no StreamDesk lake/) }]
      })
      expect((await host.handlers['settings.get']({})).lakePath).toBe('lake-a')
      expect(existsSync('/lake.duckdb')).toBe(false)
      expect(readdirSync(join(base, 'input')).sort()).toEqual(['customers', 'orders'])
    } finally {
      await host.dispose()
    }
  })

  it('start, stop, path changes and queries fired together hundreds of times: every lake opens and holds each order once', { timeout: 600_000 }, async () => {
    const { base, exp, host } = await setup()
    const calls: Promise<unknown>[] = []
    let seed = 7
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    try {
      for (let round = 0; round < 40; round++) {
        const burst: Promise<unknown>[] = []
        for (let i = 0; i < 8; i++) {
          const r = rand()
          if (r < 0.2) burst.push(host.handlers['pipeline.start']({}))
          else if (r < 0.35) burst.push(host.handlers['pipeline.stop']({}))
          else if (r < 0.5) burst.push(host.handlers['settings.update']({ patch: { lakePath: rand() < 0.5 ? 'lake-a' : 'lake-b' } }))
          else if (r < 0.75) burst.push(host.handlers['pipeline.status']({}))
          else burst.push(host.handlers['query.dashboard']({}))
        }
        calls.push(...burst)
        // every few rounds, let a burst finish so runs get far enough to commit batches
        if (round % 4 === 3) await Promise.allSettled(burst)
      }
      const results = await Promise.allSettled(calls)
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      expect(failures.map((f) => String(f.reason?.message ?? f.reason))).toEqual([])
      expect(openLakeCount()).toBeLessThanOrEqual(1)

      // each lake the storm wrote reads the rest of the input and then holds every order once
      for (const name of ['lake-a', 'lake-b']) {
        await host.handlers['pipeline.stop']({})
        await host.handlers['settings.update']({ patch: { lakePath: name } })
        expect((await host.handlers['pipeline.start']({})).state).toBe('running')
        await waitForStatus(host, `${name} to hold every order`, (s) => s.totals.orders === exp.validOrderIds.size && s.totals.quarantined >= exp.badOrderLines)
        await host.handlers['pipeline.stop']({})
      }
    } finally {
      await host.dispose()
    }
    expect(openLakeCount()).toBe(0)
    await checkLake(join(base, 'lake-a'), exp)
    await checkLake(join(base, 'lake-b'), exp)
  })

  it('dispose waits for the queries in flight and then closes the lake (no hang, no crash)', async () => {
    const { host } = await setup(2, 200)
    expect((await host.handlers['pipeline.start']({})).state).toBe('running')
    const inFlight = Array.from({ length: 40 }, (_, i) =>
      i % 2 ? host.handlers['query.dashboard']({}) : host.handlers['query.recentOrders']({ limit: 100 })
    )
    const settled = Promise.allSettled(inFlight)
    await host.dispose()
    const results = await settled
    for (const r of results) {
      if (r.status === 'rejected') expect(String((r.reason as Error).message)).toMatch(/shutting down|closing/)
    }
    expect(openLakeCount()).toBe(0)
  })
})
