import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DuckDBInstance } from '@duckdb/node-api'
import { createEngineHost } from '../../src/main/api/engine-host'
import { exportLake, ExportError } from '../../src/main/lake/export'
import { openLake, type Lake } from '../../src/main/lake/lake'
import { LAKE_TABLES } from '../../src/main/lake/schema'
import type { ExportResult } from '../../src/shared/dto'
import { spawnCli } from '../support/kafka-processes'
import { cleanupTempDirs, customer, makeTempDir, makeWorkspace, order, runPipeline, scalar, sq, writeLines, type Workspace } from '../support/lake-fixtures'

// Export writes into folders people keep other things in. These tests run the real pipeline into
// a real lake, export it with real DuckDB files on disk, and check what is in the target folder
// afterwards, byte for byte: nothing of anyone else's is ever replaced, and a failed export leaves
// the folder exactly as it was.

let ws: Workspace
let counts: Record<string, number>

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

/** Every entry under `dir` with its content hash and mtime, to prove a folder was not touched. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const st = statSync(p)
    if (st.isDirectory()) for (const [k, v] of Object.entries(fingerprint(p))) out[`${name}/${k}`] = v
    else out[name] = `${sha256(p)} ${st.mtimeMs}`
  }
  return out
}

/** Hidden export folders left next to `dir` (there must never be any after an export ends). */
const leftovers = (dir: string) => (existsSync(dirname(dir)) ? readdirSync(dirname(dir)).filter((n) => n.startsWith(`.${basename(dir)}.streamdesk-export-`)) : [])

async function rowsIn(file: string, format: 'csv' | 'parquet'): Promise<number> {
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  try {
    const reader = format === 'csv' ? `read_csv(${sq(file)}, header = true)` : `read_parquet(${sq(file)})`
    return Number((await conn.runAndReadAll(`SELECT count(*) FROM ${reader}`)).getRows()[0][0])
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}

async function rejection(p: Promise<unknown>): Promise<ExportError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(ExportError)
  return err as ExportError
}

beforeAll(async () => {
  ws = makeWorkspace()
  writeLines(ws.customers('c.jsonl'), [customer({ customer_id: 'c-1' }), customer({ customer_id: 'c-2' })])
  writeLines(ws.orders('o.jsonl'), [
    ...Array.from({ length: 40 }, (_, i) => order({ order_id: `e-${i}`, customer_id: `c-${(i % 2) + 1}` })),
    '{"not json',
    order({ order_id: 'e-big', total_amount: 6000 })
  ])
  await runPipeline(ws)
  counts = {}
  for (const t of LAKE_TABLES) counts[t] = Number(await scalar(ws.lake, `SELECT count(*) FROM ${t}`))
  expect(counts.silver_orders).toBe(41)
  expect(counts.quarantine).toBe(1)
})

afterAll(() => cleanupTempDirs())

describe('exportLake', () => {
  let lake: Lake
  beforeAll(async () => {
    lake = await openLake(ws.lake, { create: false })
  })
  afterAll(async () => {
    await lake?.close()
  })

  it('writes a new folder whose manifest lists exactly the files written, with row counts and sha256', async () => {
    const out = join(makeTempDir(), 'snap')
    const result = await exportLake(lake, out, 'csv')
    expect(result).toMatchObject({ status: 'exported', outDir: out, format: 'csv', replaced: [], manifestPath: join(out, 'manifest.json') })
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    expect(manifest).toMatchObject({ app: 'StreamDesk', format: 'csv' })
    expect(readdirSync(out).sort()).toEqual([...manifest.files.map((f: { file: string }) => f.file), 'manifest.json'].sort())
    expect(manifest.files.map((f: { file: string }) => f.file).sort()).toEqual(LAKE_TABLES.map((t) => `${t}.csv`).sort())
    for (const f of manifest.files) {
      const path = join(out, f.file)
      expect(f.sha256).toBe(sha256(path))
      expect(f.bytes).toBe(statSync(path).size)
      expect(f.tables).toEqual([f.file.replace(/\.csv$/, '')])
      expect(f.rows).toBe(counts[f.tables[0]])
      expect(await rowsIn(path, 'csv')).toBe(f.rows)
    }
    expect(result.files).toEqual(manifest.files)
    expect(leftovers(out)).toEqual([])
  })

  it('a duckdb export lists its one file with every table and its checksum', async () => {
    const out = join(makeTempDir(), 'snap')
    await exportLake(lake, out, 'duckdb')
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    expect(readdirSync(out).sort()).toEqual(['lake-snapshot.duckdb', 'manifest.json'])
    expect(manifest.files).toEqual([
      {
        file: 'lake-snapshot.duckdb',
        tables: [...LAKE_TABLES],
        rows: Object.values(counts).reduce((a, b) => a + b, 0),
        bytes: statSync(join(out, 'lake-snapshot.duckdb')).size,
        sha256: sha256(join(out, 'lake-snapshot.duckdb'))
      }
    ])
    const db = await DuckDBInstance.create(join(out, 'lake-snapshot.duckdb'), { access_mode: 'READ_ONLY' })
    const conn = await db.connect()
    try {
      for (const t of LAKE_TABLES) expect(Number((await conn.runAndReadAll(`SELECT count(*) FROM ${t}`)).getRows()[0][0])).toBe(counts[t])
    } finally {
      conn.closeSync()
      db.closeSync()
    }
  })

  it('writes into an existing empty folder without asking', async () => {
    const out = makeTempDir()
    const result = await exportLake(lake, out, 'parquet')
    expect(result.status).toBe('exported')
    expect(readdirSync(out)).toHaveLength(LAKE_TABLES.length + 1)
    expect(leftovers(out)).toEqual([])
  })

  it('asks before writing into a folder that is not empty, and changes nothing until confirmed', async () => {
    const out = join(makeTempDir(), 'snap')
    await exportLake(lake, out, 'csv')
    writeFileSync(join(out, 'notes.txt'), 'mine')
    const before = fingerprint(out)
    const err = await rejection(exportLake(lake, out, 'csv'))
    expect(err.code).toBe('needs-overwrite')
    expect(err.conflict).toEqual({ outDir: out, replaces: [...LAKE_TABLES.map((t) => `${t}.csv`), 'manifest.json'].sort(), others: ['notes.txt'] })
    expect(err.message).toContain(`the export folder ${out} is not empty`)
    expect(err.message).toContain('notes.txt')
    expect(fingerprint(out)).toEqual(before)
    expect(leftovers(out)).toEqual([])

    // a folder holding only someone else's files asks too
    const other = makeTempDir()
    writeFileSync(join(other, 'notes.txt'), 'mine')
    const err2 = await rejection(exportLake(lake, other, 'csv'))
    expect(err2.code).toBe('needs-overwrite')
    expect(err2.conflict).toEqual({ outDir: other, replaces: [], others: ['notes.txt'] })
    expect(readdirSync(other)).toEqual(['notes.txt'])
  })

  it('with overwrite replaces only the earlier export: files of another format go, the user’s files stay', async () => {
    const out = join(makeTempDir(), 'snap')
    await exportLake(lake, out, 'csv')
    writeFileSync(join(out, 'notes.txt'), 'mine')
    mkdirSync(join(out, 'charts'))
    writeFileSync(join(out, 'charts', 'q1.png'), 'png')
    const result = await exportLake(lake, out, 'parquet', { overwrite: true })
    expect(result.replaced).toEqual(LAKE_TABLES.map((t) => `${t}.csv`).sort())
    expect(readdirSync(out).sort()).toEqual([...LAKE_TABLES.map((t) => `${t}.parquet`), 'charts', 'manifest.json', 'notes.txt'].sort())
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine')
    expect(readFileSync(join(out, 'charts', 'q1.png'), 'utf8')).toBe('png')
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    expect(manifest.format).toBe('parquet')
    expect(manifest.files.map((f: { file: string }) => f.file).sort()).toEqual(LAKE_TABLES.map((t) => `${t}.parquet`).sort())
    for (const f of manifest.files) expect(await rowsIn(join(out, f.file), 'parquet')).toBe(counts[f.tables[0]])
    expect(leftovers(out)).toEqual([])

    // the same format again replaces the files in place
    const again = await exportLake(lake, out, 'parquet', { overwrite: true })
    expect(again.replaced).toEqual(LAKE_TABLES.map((t) => `${t}.parquet`).sort())
    expect(readdirSync(out)).toHaveLength(LAKE_TABLES.length + 3)
  })

  it('refuses a user’s file named like a snapshot file, even with overwrite, and names it', async () => {
    const out = makeTempDir()
    writeFileSync(join(out, 'customers.csv'), 'id,name\n1,my best customer\n')
    writeFileSync(join(out, 'budget.xlsx'), 'x')
    const before = fingerprint(out)
    for (const overwrite of [false, true]) {
      const err = await rejection(exportLake(lake, out, 'csv', { overwrite }))
      expect(err.code).toBe('refused')
      expect(err.message).toBe(
        `${out} already holds customers.csv, which is not from a StreamDesk export; StreamDesk never overwrites files it did not write — move it away or choose another folder`
      )
      expect(fingerprint(out)).toEqual(before)
      expect(leftovers(out)).toEqual([])
    }
    // another format has no clash: the user's file stays and the export goes next to it
    const result = await exportLake(lake, out, 'parquet', { overwrite: true })
    expect(result.replaced).toEqual([])
    expect(readFileSync(join(out, 'customers.csv'), 'utf8')).toBe('id,name\n1,my best customer\n')
  })

  it('refuses a manifest.json that StreamDesk did not write', async () => {
    const out = makeTempDir()
    writeFileSync(join(out, 'manifest.json'), '{"name": "my web app"}')
    const err = await rejection(exportLake(lake, out, 'parquet', { overwrite: true }))
    expect(err.code).toBe('refused')
    expect(err.message).toContain('already holds manifest.json, which is not from a StreamDesk export (its manifest.json is not a StreamDesk manifest)')
    expect(readdirSync(out)).toEqual(['manifest.json'])
  })

  it('refuses to replace a file of an earlier export that was edited since, even with overwrite', async () => {
    const out = join(makeTempDir(), 'snap')
    await exportLake(lake, out, 'csv')
    writeFileSync(join(out, 'customers.csv'), readFileSync(join(out, 'customers.csv'), 'utf8') + 'c-9,added by hand\n')
    const before = fingerprint(out)
    for (const format of ['csv', 'parquet'] as const) {
      const err = await rejection(exportLake(lake, out, format, { overwrite: true }))
      expect(err.code).toBe('refused')
      expect(err.message).toContain(`customers.csv in ${out} was changed after StreamDesk exported it`)
      expect(fingerprint(out)).toEqual(before)
    }
  })

  it('never trusts a manifest entry outside its own folder', async () => {
    const root = makeTempDir()
    const out = join(root, 'snap')
    await exportLake(lake, out, 'csv')
    writeFileSync(join(root, 'precious.txt'), 'keep')
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    manifest.files.push({ file: '../precious.txt' })
    manifest.tables.push({ name: 'x', rows: 0, file: '../precious.txt' })
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest))
    await exportLake(lake, out, 'parquet', { overwrite: true })
    expect(readFileSync(join(root, 'precious.txt'), 'utf8')).toBe('keep')
  })

  it('refuses targets inside the lake folder, an input folder, or a protected folder', async () => {
    const cases: [string, RegExp, { dir: string; what: string }[]?][] = [
      [ws.lake, /is inside the lake folder .*; the lake folder is StreamDesk's own/],
      [join(ws.lake, 'exports'), /is inside the lake folder/],
      [ws.input, /looks like a StreamDesk input folder \(it has orders\/ and customers\/\); exported files there could be read back as input/],
      [ws.ordersDir, /looks like a StreamDesk input folder|looks like the orders\/ folder/],
      [join(ws.root, 'watched', 'snap'), /is inside the input folder .*watched; exported files there would be read back as input/, [{ dir: join(ws.root, 'watched'), what: 'the input folder' }]]
    ]
    for (const [out, says, protectedDirs] of cases) {
      const before = fingerprint(dirname(out))
      const err = await rejection(exportLake(lake, out, 'csv', { overwrite: true, protectedDirs }))
      expect(err.code).toBe('refused')
      expect(err.message).toMatch(says)
      expect(fingerprint(dirname(out))).toEqual(before)
    }
    // the orders folder itself, once it is not under an input folder's other stream
    const lone = join(makeTempDir(), 'orders')
    mkdirSync(lone)
    const err = await rejection(exportLake(lake, lone, 'csv'))
    expect(err.message).toMatch(/looks like the orders\/ folder of a StreamDesk input folder/)
  })

  it('a failure in the middle leaves the target exactly as it was and removes the temporary folder', async () => {
    const out = join(makeTempDir(), 'snap')
    await exportLake(lake, out, 'csv')
    writeFileSync(join(out, 'notes.txt'), 'mine')
    const before = fingerprint(out)
    // After the first table, something takes the next file's place in the temporary folder, so
    // DuckDB's COPY fails for real halfway through the snapshot.
    const err = await rejection(
      exportLake(lake, out, 'csv', {
        overwrite: true,
        onProgress: (p) => {
          if (p.done !== 1) return
          const [tmp] = leftovers(out)
          mkdirSync(join(dirname(out), tmp, `${LAKE_TABLES[1]}.csv`))
        }
      })
    )
    expect(err.code).toBe('failed')
    expect(err.message).toMatch(new RegExp(`^export to ${out} failed: .*Is a directory.*; nothing was written there$`))
    expect(fingerprint(out)).toEqual(before)
    expect(leftovers(out)).toEqual([])
  })

  it('a failure in a new folder leaves neither it nor the parent folders it created', async () => {
    const root = makeTempDir()
    const out = join(root, 'a', 'b', 'snap')
    const err = await rejection(
      exportLake(lake, out, 'parquet', {
        onProgress: (p) => {
          if (p.done === 3) throw new Error('disk full (simulated)')
        }
      })
    )
    expect(err.message).toBe(`export to ${out} failed: disk full (simulated); nothing was written there`)
    expect(readdirSync(root)).toEqual([])
  })
})

describe('the lake.export handler', () => {
  it('refuses the configured input folder, asks before overwriting, and replaces on confirmation', async () => {
    const base = makeTempDir()
    const input = join(base, 'incoming') // no orders/ yet: only the settings say it is the input folder
    mkdirSync(input)
    writeFileSync(join(base, 'settings.json'), JSON.stringify({ lakePath: ws.lake, source: { kind: 'folder', inputPath: 'incoming' } }))
    const host = await createEngineHost({ settingsFile: join(base, 'settings.json'), baseDir: base })
    try {
      const refused = await host.handlers['lake.export']({ outDir: 'incoming/snap', format: 'csv', overwrite: true }).catch((e: unknown) => e)
      expect(refused).toMatchObject({
        type: 'validation',
        fields: [{ field: 'outDir', message: expect.stringContaining(`is inside the input folder ${input}`) }]
      })
      expect(readdirSync(input)).toEqual([])

      const first = (await host.handlers['lake.export']({ outDir: 'snap', format: 'csv', overwrite: false })) as ExportResult
      expect(first).toMatchObject({ status: 'exported', outDir: join(base, 'snap') })
      const before = fingerprint(join(base, 'snap'))
      const asked = await host.handlers['lake.export']({ outDir: 'snap', format: 'parquet', overwrite: false })
      expect(asked).toMatchObject({
        status: 'needs-overwrite',
        outDir: join(base, 'snap'),
        replaces: [...LAKE_TABLES.map((t) => `${t}.csv`), 'manifest.json'].sort(),
        others: []
      })
      expect(fingerprint(join(base, 'snap'))).toEqual(before)
      const done = await host.handlers['lake.export']({ outDir: 'snap', format: 'parquet', overwrite: true })
      expect(done).toMatchObject({ status: 'exported', replaced: LAKE_TABLES.map((t) => `${t}.csv`).sort() })
    } finally {
      await host.dispose()
    }
  })

  it('with no lake yet says so and writes nothing', async () => {
    const base = makeTempDir()
    writeFileSync(join(base, 'settings.json'), JSON.stringify({ lakePath: 'no-lake-here', source: { kind: 'folder', inputPath: 'in' } }))
    const host = await createEngineHost({ settingsFile: join(base, 'settings.json'), baseDir: base })
    try {
      const err = await host.handlers['lake.export']({ outDir: 'snap', format: 'csv', overwrite: false }).catch((e: unknown) => e)
      expect((err as Error).message).toMatch(/there is no lake at .*no-lake-here yet/)
      expect(readdirSync(base)).toEqual(['settings.json'])
    } finally {
      await host.dispose()
    }
  })
})

describe('streamdesk export (the CLI as a process)', () => {
  async function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
    const child = spawnCli(['export', ...args])
    const { code } = await child.exited
    return { code, stderr: child.stderr() }
  }

  it('a mistyped --lake exits 3 and creates neither the lake nor --out', async () => {
    const root = makeTempDir()
    const typo = join(root, 'lkae')
    const out = join(root, 'out')
    const { code, stderr } = await cli(['--lake', typo, '--out', out])
    expect(stderr).toContain(`streamdesk: there is no lake at ${typo} (the folder does not exist)`)
    expect(code).toBe(3)
    expect(readdirSync(root)).toEqual([])
  })

  it('a folder that is not empty needs --overwrite (exit 2), which then replaces only the earlier export', async () => {
    const out = join(makeTempDir(), 'snap')
    expect((await cli(['--lake', ws.lake, '--out', out, '--format', 'csv'])).code).toBe(0)
    writeFileSync(join(out, 'notes.txt'), 'mine')
    const before = fingerprint(out)
    const refused = await cli(['--lake', ws.lake, '--out', out, '--format', 'parquet'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(new RegExp(`the export folder ${out} is not empty: .*customers\\.csv.*; 1 other entry stays untouched \\(notes\\.txt\\); add --overwrite to go ahead`))
    expect(fingerprint(out)).toEqual(before)

    const done = await cli(['--lake', ws.lake, '--out', out, '--format', 'parquet', '--overwrite'])
    expect(done.stderr).toBe('')
    expect(done.code).toBe(0)
    expect(readdirSync(out).sort()).toEqual([...LAKE_TABLES.map((t) => `${t}.parquet`), 'manifest.json', 'notes.txt'].sort())
  })

  it('a user’s customers.csv in the target exits 2 even with --overwrite and stays as it was', async () => {
    const out = makeTempDir()
    writeFileSync(join(out, 'customers.csv'), 'mine\n')
    const { code, stderr } = await cli(['--lake', ws.lake, '--out', out, '--format', 'csv', '--overwrite'])
    expect(stderr).toContain(`${out} already holds customers.csv, which is not from a StreamDesk export`)
    expect(code).toBe(2)
    expect(readdirSync(out)).toEqual(['customers.csv'])
    expect(readFileSync(join(out, 'customers.csv'), 'utf8')).toBe('mine\n')
  })

  it('the input folder and the lake folder are refused with exit 2, and the next pipeline run finds no manifest to ingest', async () => {
    for (const out of [ws.input, ws.ordersDir, join(ws.lake, 'snap')]) {
      const { code, stderr } = await cli(['--lake', ws.lake, '--out', out, '--overwrite'])
      expect(stderr).toMatch(/looks like|inside the lake folder/)
      expect(code).toBe(2)
    }
    await runPipeline(ws)
    expect(Number(await scalar(ws.lake, 'SELECT count(*) FROM quarantine'))).toBe(counts.quarantine)
    expect(existsSync(join(ws.lake, 'snap'))).toBe(false)
  })
})
