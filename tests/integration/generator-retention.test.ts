import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PipelineController } from '../../src/main/engine/pipeline-controller'
import { FileSink, runGenerator } from '../../src/main/generator'
import { GENERATED_DIR, GeneratedFiles, isGeneratedName, recordPath } from '../../src/main/sources/generated-files'
import { parseSettings, type DeepPartial, type Settings } from '../../src/shared/settings'
import type { PipelineStatus } from '../../src/shared/dto'
import { killLeftovers, spawnPipeline, type Child } from '../support/bulk-input'
import { spawnCli } from '../support/kafka-processes'
import { REPO_ROOT, cleanupTempDirs, makeTempDir, order, queries, writeLines, type Row } from '../support/lake-fixtures'

// The generator owns what it writes, and only that: retention removes a file only when the
// generator recorded it and the lake holds all of it. A user's file in the generator's folder
// (even one named like the generator's) is read like any other and kept; a watched folder is
// never modified; a `run` that cannot open its lake leaves no trace.

// PipelineController starts the generator in a worker thread; from source it needs this entry.
const workerEntry = join(REPO_ROOT, 'tests/support/generator-worker.mjs')
let previousWorker: string | undefined
beforeAll(() => {
  previousWorker = process.env.STREAMDESK_GENERATOR_WORKER
  process.env.STREAMDESK_GENERATOR_WORKER = workerEntry
})
afterAll(() => {
  if (previousWorker === undefined) delete process.env.STREAMDESK_GENERATOR_WORKER
  else process.env.STREAMDESK_GENERATOR_WORKER = previousWorker
  cleanupTempDirs()
})

const children: Child[] = []
const controllers: PipelineController[] = []
afterEach(async () => {
  killLeftovers(children)
  for (const c of controllers.splice(0)) await c.dispose()
})

function cli(args: string[]): Child {
  const c = spawnCli(args)
  children.push(c)
  return c
}

/** A user's files: one plainly named, one named exactly like a generator file but never recorded. */
const USER_FILE = 'mydata.jsonl'
const LOOKALIKE = 'orders-20240301T120000000Z-000001-abc123.jsonl'
/** Named like a generator file and with a record, but the record's size does not match. */
const FORGED = 'orders-20240301T120000000Z-000002-abc123.jsonl'
const USER_IDS = ['user-1', 'user-2', 'user-3', 'look-1', 'look-2', 'forged-1']

function writeUserFiles(input: string): Map<string, Buffer> {
  mkdirSync(join(input, 'orders'), { recursive: true })
  mkdirSync(join(input, 'customers'), { recursive: true })
  writeLines(join(input, 'orders', USER_FILE), [order({ order_id: 'user-1' }), order({ order_id: 'user-2' }), order({ order_id: 'user-3' })])
  writeLines(join(input, 'orders', LOOKALIKE), [order({ order_id: 'look-1' }), order({ order_id: 'look-2' })])
  writeLines(join(input, 'orders', FORGED), [order({ order_id: 'forged-1' })])
  const forged = readFileSync(join(input, 'orders', FORGED))
  mkdirSync(join(input, GENERATED_DIR, 'orders'), { recursive: true })
  writeFileSync(recordPath(input, 'orders', FORGED), JSON.stringify({ name: FORGED, size: forged.length + 1, mtimeMs: 0 }) + '\n')
  return snapshotUserFiles(input)
}

function snapshotUserFiles(input: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>()
  for (const name of [USER_FILE, LOOKALIKE, FORGED]) {
    const p = join(input, 'orders', name)
    if (existsSync(p)) m.set(name, readFileSync(p))
  }
  return m
}

const isUserFile = (name: string) => [USER_FILE, LOOKALIKE, FORGED].includes(name)

/** The generator's files present under input/<stream> (user look-alikes excluded). */
function generatedFiles(input: string, stream: 'orders' | 'customers' = 'orders'): string[] {
  return readdirSync(join(input, stream)).filter((n) => isGeneratedName(stream, n) && !isUserFile(n))
}

function records(input: string, stream: 'orders' | 'customers'): string[] {
  const dir = join(input, GENERATED_DIR, stream)
  return existsSync(dir) ? readdirSync(dir) : []
}

/** Waits for `cond` (polled), failing with `what` after a generous bound; never a race to win. */
async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function appSettings(kind: 'generator' | 'folder', over: DeepPartial<Settings> = {}): Settings {
  return parseSettings({
    source: { kind, inputPath: 'input' },
    generator: { enabled: true, pace: 'rate', ratePerSecond: 2000, seed: 11, ...over.generator },
    pipeline: { triggerMs: 100 },
    lakePath: 'lake'
  })
}

function controller(base: string, settings: Settings): PipelineController {
  const c = new PipelineController(base, () => settings, { onState: () => undefined, onBatch: () => undefined })
  controllers.push(c)
  return c
}

/** Every generated file the lake read is gone (with its record); every one still present is not fully read. */
function expectRetentionInvariant(input: string, offsets: Row[], bronzeSources: string[]): { removed: number } {
  const committed = new Map(offsets.map((r) => [r.key as string, Number(r.next_offset)]))
  let removed = 0
  for (const source of bronzeSources) {
    const name = source.split(/[\\/]/).pop()!
    if (isUserFile(name) || !isGeneratedName('orders', name)) continue
    expect(existsSync(source), `${name} was ingested and should be gone`).toBe(false)
    expect(existsSync(recordPath(input, 'orders', name)), `record of ${name}`).toBe(false)
    removed++
  }
  const present = generatedFiles(input)
  for (const name of present) {
    const path = join(input, 'orders', name)
    expect(committed.get(path) ?? 0, `${name} is still present`).toBeLessThan(readFileSync(path).length)
    expect(existsSync(recordPath(input, 'orders', name)), `record of ${name}`).toBe(true)
  }
  return { removed }
}

function expectUserFilesUntouched(input: string, before: Map<string, Buffer>): void {
  expect([...snapshotUserFiles(input).keys()]).toEqual([...before.keys()])
  for (const [name, bytes] of before) expect(readFileSync(join(input, 'orders', name)).equals(bytes), name).toBe(true)
}

async function lakeState(lake: string) {
  return queries(lake, {
    users: `SELECT order_id FROM silver_orders WHERE order_id IN (${USER_IDS.map((i) => `'${i}'`).join(',')}) ORDER BY order_id`,
    sources: `SELECT DISTINCT source FROM bronze_orders`,
    offsets: `SELECT key, next_offset FROM source_offsets WHERE source_kind = 'file'`,
    bronze: `SELECT count(*) AS n FROM bronze_orders`
  })
}

describe('the app with the built-in generator source', () => {
  it("removes the generator's ingested files and keeps (and ingests) a user's files in its folder", { timeout: 180_000 }, async () => {
    const base = makeTempDir()
    const input = join(base, 'input')
    const userFiles = writeUserFiles(input)
    const app = controller(base, appSettings('generator'))
    expect((await app.start()).state).toBe('running')

    // Until the lake holds thousands of generated orders: with at most 2,500 orders a file, that
    // is several generated files ingested (and so removed) while the generator kept running.
    let status: PipelineStatus = await app.getStatus()
    await waitUntil('the lake holds 4,000 generated orders', async () => {
      status = await app.getStatus()
      return status.totals.orders >= USER_IDS.length + 4000
    })
    expect(status.state).toBe('running')
    expect((await app.stop()).state).toBe('stopped')
    await app.dispose()

    // the user's files are still there, unchanged, and their orders are in the lake
    expectUserFilesUntouched(input, userFiles)
    const lake = await lakeState(join(base, 'lake'))
    expect(lake.users.map((r) => r.order_id)).toEqual([...USER_IDS].sort())
    const { removed } = expectRetentionInvariant(input, lake.offsets, lake.sources.map((r) => r.source as string))
    expect(removed).toBeGreaterThanOrEqual(2)
    // the forged record is the only one a generated file did not leave
    expect(records(input, 'orders')).toContain(`${FORGED}.written`)
  })
})

describe('a watched folder is never modified', () => {
  it('`streamdesk pipeline` and the app with a folder source keep every file, the generator\'s included; the generator source removes those later', { timeout: 180_000 }, async () => {
    const base = makeTempDir()
    const input = join(base, 'input')
    const lakeDir = join(base, 'lake')
    const userFiles = writeUserFiles(input)
    // generator files written earlier (e.g. `streamdesk generate`), with their records
    const summary = await runGenerator({ sink: new FileSink({ dir: input }), seed: 5, pace: { kind: 'max' }, count: 3000, batchSize: 500 })
    const generated = generatedFiles(input)
    expect(generated).toHaveLength(6)
    const listing = () => ({ orders: readdirSync(join(input, 'orders')).sort(), customers: readdirSync(join(input, 'customers')).sort() })
    const before = listing()
    const recordsBefore = records(input, 'orders').sort()

    const pipeline = cli(['pipeline', '--input-path', input, '--lake', lakeDir, '--until-idle', '--trigger', '100ms', '-q'])
    expect((await pipeline.exited).code).toBe(0)
    expect(listing()).toEqual(before)
    expect(records(input, 'orders').sort()).toEqual(recordsBefore)
    expectUserFilesUntouched(input, userFiles)

    // the app watching the folder (source.kind folder) ingests new input and removes nothing
    writeLines(join(input, 'orders', 'later.jsonl'), [order({ order_id: 'later-1' })])
    const folderApp = controller(base, appSettings('folder'))
    expect((await folderApp.start()).state).toBe('running')
    await waitUntil('the folder app ingested later.jsonl', async () => (await folderApp.getStatus()).totals.orders === summary.orders + USER_IDS.length + 1)
    await folderApp.dispose()
    expect(listing()).toEqual({ ...before, orders: [...before.orders, 'later.jsonl'].sort() })
    expect(records(input, 'orders').sort()).toEqual(recordsBefore)

    // A restart with the generator source (generator off): the generator's files the lake fully
    // holds go, whoever ingested them; everything else stays.
    const genApp = controller(base, appSettings('generator', { generator: { enabled: false } }))
    expect((await genApp.start()).state).toBe('running')
    await waitUntil('the earlier generated files were removed', () => generatedFiles(input).length === 0 && generatedFiles(input, 'customers').length === 0)
    await genApp.dispose()
    expect(readdirSync(join(input, 'orders')).sort()).toEqual([FORGED, LOOKALIKE, 'later.jsonl', USER_FILE].sort())
    expect(records(input, 'orders')).toEqual([`${FORGED}.written`])
    expect(records(input, 'customers')).toEqual([])
    expectUserFilesUntouched(input, userFiles)
    const lake = await lakeState(lakeDir)
    expect(lake.bronze[0].n).toBe(summary.orders + USER_IDS.length + 1)
  })
})

describe('streamdesk run (file mode)', () => {
  it('keeps its folder bounded: generated files go once the lake holds them, user files stay', { timeout: 180_000 }, async () => {
    const base = makeTempDir()
    const input = join(base, 'input')
    const lakeDir = join(base, 'lake')
    const userFiles = writeUserFiles(input)
    const run = cli(['run', '--input-path', input, '--lake', lakeDir, '--generator-rate', '2000', '--trigger', '100ms', '--seed', '9'])

    // until the lake holds 6,000 generated orders: at least 3 files of at most 2,500 orders
    const valid = () => [...run.stderr().matchAll(/^batch \d+: \d+ rows? in: \d+ orders? = (\d+) valid/gm)].reduce((s, m) => s + Number(m[1]), 0)
    await waitUntil('the lake holds 6,000 generated orders', () => {
      if (run.proc.exitCode !== null) throw new Error(`run exited early:\n${run.stderr()}`)
      return valid() >= USER_IDS.length + 6000
    })
    run.proc.kill('SIGINT')
    expect((await run.exited).code).toBe(0)

    expectUserFilesUntouched(input, userFiles)
    const lake = await lakeState(lakeDir)
    expect(lake.users.map((r) => r.order_id)).toEqual([...USER_IDS].sort())
    // bounded: only files the lake does not fully hold yet are left (Ctrl+C stops after the batch in flight)
    const { removed } = expectRetentionInvariant(input, lake.offsets, lake.sources.map((r) => r.source as string))
    expect(removed).toBeGreaterThanOrEqual(3)
  })

  it('with --generator-duration drains and leaves none of its files behind', { timeout: 180_000 }, async () => {
    const base = makeTempDir()
    const input = join(base, 'input')
    const lakeDir = join(base, 'lake')
    const userFiles = writeUserFiles(input)
    const run = cli(['run', '--input-path', input, '--lake', lakeDir, '--generator-rate', '1000', '--generator-duration', '2', '--trigger', '100ms', '--seed', '4'])
    expect((await run.exited).code, run.stderr()).toBe(0)
    const generatedOrders = Number(/generate: done \([^)]*\): ([\d,]+) orders/.exec(run.stderr())?.[1].replace(/,/g, ''))
    expect(generatedOrders).toBeGreaterThan(0)

    expect(generatedFiles(input)).toEqual([])
    expect(generatedFiles(input, 'customers')).toEqual([])
    expect(records(input, 'orders')).toEqual([`${FORGED}.written`])
    expect(records(input, 'customers')).toEqual([])
    expectUserFilesUntouched(input, userFiles)
    const lake = await lakeState(lakeDir)
    expect(lake.bronze[0].n).toBe(generatedOrders + USER_IDS.length)
    expect(lake.users.map((r) => r.order_id)).toEqual([...USER_IDS].sort())
    expect(lake.sources.length).toBeGreaterThan(3)
  })

  it('creates a missing input folder once the lake is open, and drains all of it', { timeout: 120_000 }, async () => {
    const base = makeTempDir()
    const input = join(base, 'streaming')
    const lakeDir = join(base, 'lake')
    const run = cli(['run', '--input-path', input, '--lake', lakeDir, '--generator-rate', '1000', '--generator-duration', '1', '--trigger', '100ms'])
    expect((await run.exited).code, run.stderr()).toBe(0)
    const generatedOrders = Number(/generate: done \([^)]*\): ([\d,]+) orders/.exec(run.stderr())?.[1].replace(/,/g, ''))
    expect(generatedOrders).toBeGreaterThan(0)
    expect(readdirSync(join(input, 'orders'))).toEqual([])
    expect(readdirSync(join(input, 'customers'))).toEqual([])
    expect((await lakeState(lakeDir)).bronze[0].n).toBe(generatedOrders)
  })

  it('against a lake in use exits with code 3 and writes nothing into the input folder', { timeout: 120_000 }, async () => {
    const holderInput = makeTempDir()
    mkdirSync(join(holderInput, 'orders'))
    mkdirSync(join(holderInput, 'customers'))
    const lakeDir = join(makeTempDir(), 'lake')
    const holder = spawnPipeline(holderInput, lakeDir) // watches: keeps the lake open
    children.push(holder)
    await holder.waitFor('started')

    // default pacing: the first order is due at once, so an early generator would write it
    const empty = makeTempDir()
    const absent = join(makeTempDir(), 'streaming')
    for (const input of [empty, absent]) {
      const run = cli(['run', '--input-path', input, '--lake', lakeDir])
      const exit = await run.exited
      expect(exit.code, run.stderr()).toBe(3)
      expect(run.stderr()).toMatch(/in use by another process/)
    }
    expect(readdirSync(empty)).toEqual([])
    expect(existsSync(absent)).toBe(false)
  })
})

describe('the rule, file by file (crash leftovers and near misses)', () => {
  it('removes only a recorded, unchanged, fully ingested generator file; prunes records whose file is gone', async () => {
    const input = makeTempDir()
    await runGenerator({ sink: new FileSink({ dir: input }), seed: 2, pace: { kind: 'max' }, count: 6, batchSize: 1 })
    const [a, b, c, d, e, f] = generatedFiles(input).sort()
    const path = (n: string, stream = 'orders') => join(input, stream, n)
    const size = (n: string) => statSync(path(n)).size
    const retention = new GeneratedFiles(input)

    // not fully ingested, then fully: removed with its record
    expect(await retention.removeIfIngested(path(a), size(a) - 1)).toBe(false)
    expect(await retention.removeIfIngested(path(a), size(a))).toBe(true)
    expect(existsSync(path(a)) || existsSync(recordPath(input, 'orders', a))).toBe(false)
    // rewritten after it was written (same size, another mtime): kept
    const written = statSync(path(b)).mtime
    writeFileSync(path(b), readFileSync(path(b)).reverse())
    utimesSync(path(b), written, new Date(written.getTime() + 1000))
    expect(await retention.removeIfIngested(path(b), size(b))).toBe(false)
    // torn record (a crash while writing it): kept
    writeFileSync(recordPath(input, 'orders', c), readFileSync(recordPath(input, 'orders', c)).subarray(0, 20))
    expect(await retention.removeIfIngested(path(c), size(c))).toBe(false)
    // moved to the other stream's folder: kept
    mkdirSync(join(input, 'customers'), { recursive: true })
    writeFileSync(path(d, 'customers'), readFileSync(path(d)))
    expect(await retention.removeIfIngested(path(d, 'customers'), size(d))).toBe(false)
    // a crash between the generator's record and its rename: temp file and record stay
    const tmp = join(input, 'orders', `.${e}.tmp`)
    writeFileSync(tmp, readFileSync(path(e)))
    unlinkSync(path(e))
    // a crash between retention's two removals (or a file removed by hand): the record goes
    unlinkSync(path(f))

    const removed = await retention.sweep(new Map([path(b), path(c), path(d, 'customers')].map((p) => [p, statSync(p).size])))
    expect(removed).toEqual([])
    expect(existsSync(recordPath(input, 'orders', e))).toBe(true)
    expect(existsSync(tmp)).toBe(true)
    expect(existsSync(recordPath(input, 'orders', f))).toBe(false)
    expect(existsSync(path(b)) && existsSync(path(c)) && existsSync(path(d)) && existsSync(path(d, 'customers'))).toBe(true)
    // the sweep removes a fully ingested one it is told about
    expect(await retention.sweep(new Map([[path(d), size(d)]]))).toEqual([path(d)])
  })
})

describe('the generator never replaces a file', () => {
  it("fails instead of writing over a file that has the name it picked", async () => {
    const input = makeTempDir()
    const now = () => Date.parse('2026-11-24T10:00:00.000Z')
    const name = 'orders-20261124T100000000Z-000001-abc123.jsonl'
    mkdirSync(join(input, 'orders'), { recursive: true })
    writeLines(join(input, 'orders', name), [order({ order_id: 'mine-1' })])
    const mine = readFileSync(join(input, 'orders', name))
    const sink = new FileSink({ dir: input, now, tag: 'abc123' })
    await expect(runGenerator({ sink, seed: 1, now, pace: { kind: 'max' }, count: 5, batchSize: 5 })).rejects.toThrow(/exists already/)
    expect(readFileSync(join(input, 'orders', name)).equals(mine)).toBe(true)
    expect(readdirSync(join(input, 'orders'))).toEqual([name])
    expect(records(input, 'orders')).toEqual([])
  })
})
