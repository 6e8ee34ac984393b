import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createEngineHost } from '../../src/main/api/engine-host'
import { openLakeCount } from '../../src/main/lake/lake-registry'
import { SCHEMA_VERSION } from '../../src/main/lake/schema'
import { cleanupTempDirs, makeTempDir, makeWorkspace, order, REPO_ROOT, runPipeline, writeLines } from '../support/lake-fixtures'
import { freePort, startBroker, stopAllBrokers } from '../support/kafka-broker'

// `streamdesk doctor` as a process: its lines and its exit code. A lake folder that cannot be
// written is made for real. Tests run as root, for whom permission bits stop nothing, so the
// doctor then runs as the unprivileged user `nobody` (uid 65534; tests/support/doctor-as-user.ts),
// for whom a folder of mode 0555 is what it is for any user: no file can be created in it. (A
// read-only mount would need privileges the test machine does not give.) A lake path under a
// file is the other way a folder cannot be written, and it needs no user at all.

/** Read-only opens of a lake in this process: the engine's doctor must make none of the lake it holds. */
const readOnlyOpens = vi.hoisted(() => ({ count: 0 }))
vi.mock('../../src/main/lake/lake', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/main/lake/lake')>()
  return {
    ...real,
    openLake: (dir: string, opts: Parameters<typeof real.openLake>[1]) => {
      if (opts.readOnly) readOnlyOpens.count++
      return real.openLake(dir, opts)
    }
  }
})

afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

const NOBODY = 65534

/** The CLI as a process; `asNobody` runs the command as the user nobody when the tests run as root. */
function doctor(args: string[], opts: { asNobody?: boolean } = {}): Promise<{ code: number; out: string; err: string }> {
  const script = opts.asNobody && process.getuid?.() === 0 ? ['tests/support/doctor-as-user.ts', String(NOBODY)] : ['src/main/cli/main.ts', 'doctor']
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, script[0]), ...script.slice(1), ...args],
      { cwd: REPO_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr })
    )
  })
}

/** The line of check `name` and its fix line, if any. */
function check(out: string, name: string): { status: string; text: string } {
  const lines = out.split('\n')
  const i = lines.findIndex((l) => new RegExp(`^(ok|warn|FAIL)\\s+${name}\\s{2,}`).test(l))
  if (i < 0) throw new Error(`no "${name}" check in:\n${out}`)
  const fix = lines[i + 1]?.startsWith(' ') ? `\n${lines[i + 1]}` : ''
  return { status: lines[i].split(/\s+/)[0], text: lines[i] + fix }
}

async function lakeWithOrders(): Promise<ReturnType<typeof makeWorkspace>> {
  const ws = makeWorkspace()
  writeLines(ws.orders('a.jsonl'), [order({ order_id: 'd-1' }), order({ order_id: 'd-2' })])
  await runPipeline(ws)
  return ws
}

describe('streamdesk doctor', () => {
  it('passes on a sound setup and says what it found', async () => {
    const ws = await lakeWithOrders()
    const r = await doctor(['--lake', ws.lake, '--input-path', ws.input])
    expect(r.code, r.out + r.err).toBe(0)
    expect(check(r.out, 'runtime').text).toContain(`Node ${process.versions.node}`)
    expect(check(r.out, 'lake folder').status).toBe('ok')
    expect(check(r.out, 'lake')).toMatchObject({ status: 'ok' })
    expect(check(r.out, 'lake').text).toContain(`schema ${SCHEMA_VERSION}, 2 orders in 1 batches`)
    expect(check(r.out, 'input folder').status).toBe('ok')
    expect(check(r.out, 'clock').text).toContain('newest order in the lake 2024-03-01T12:00:00.000Z')
    expect(r.out).not.toMatch(/^FAIL/m)
  })

  it('fails with the fix on a lake folder this user cannot write, and leaves it as it was', async () => {
    const ws = await lakeWithOrders()
    chmodSync(ws.root, 0o755) // mkdtemp's 0700 would keep `nobody` out of everything
    const before = readdirSync(ws.lake).sort()
    chmodSync(ws.lake, 0o555)
    try {
      const r = await doctor(['--lake', ws.lake, '--input-path', ws.input], { asNobody: true })
      expect(r.code, r.out + r.err).toBe(1)
      const folder = check(r.out, 'lake folder')
      expect(folder.status).toBe('FAIL')
      expect(folder.text).toContain(`the lake folder ${ws.lake} is not writable: cannot create a file in ${ws.lake} (EACCES)`)
      expect(folder.text).toContain('fix: choose a lake folder this user can write (--lake DIR, or Settings → Lake)')
      // reading it needs no write access: its format and integrity are still checked
      expect(check(r.out, 'lake').status).toBe('ok')
      expect(r.out).toMatch(/1 check failed/)
    } finally {
      chmodSync(ws.lake, 0o755)
    }
    expect(readdirSync(ws.lake).sort()).toEqual(before)
  })

  it('fails with the fix on a lake path under a file', async () => {
    const ws = makeWorkspace()
    const file = join(ws.root, 'notes.txt')
    writeFileSync(file, 'not a folder\n')
    const r = await doctor(['--lake', join(file, 'lake'), '--input-path', ws.input])
    expect(r.code).toBe(1)
    const folder = check(r.out, 'lake folder')
    expect(folder.status).toBe('FAIL')
    expect(folder.text).toContain(`${file} is a file, so no lake folder can be made at ${join(file, 'lake')}`)
    expect(folder.text).toContain('fix: ')
  })

  it('fails with the fix on an unreachable broker', async () => {
    const port = await freePort()
    const ws = makeWorkspace()
    const r = await doctor(['--lake', ws.lake, '--mode', 'kafka', '--kafka-servers', `127.0.0.1:${port}`])
    expect(r.code, r.out + r.err).toBe(1)
    const kafka = check(r.out, 'kafka')
    expect(kafka.status).toBe('FAIL')
    expect(kafka.text).toContain(`cannot reach Kafka at 127.0.0.1:${port} (no TLS, no SASL): connect ECONNREFUSED`)
    expect(kafka.text).toContain('fix: start the broker, or correct --kafka-servers HOST:PORT')
    expect(check(r.out, 'input folder').text).toContain('not used: the source is Kafka')
  })

  // librdkafka's mock cluster creates any topic a metadata request names, so the warning for a
  // missing topic cannot be seen against it; a real broker answers UNKNOWN_TOPIC_OR_PARTITION.
  it('finds the topics and their partitions on a reachable broker', async () => {
    const broker = await startBroker({ doc_orders: 3, doc_customers: 1 })
    const ws = makeWorkspace()
    const r = await doctor(['--lake', ws.lake, '--mode', 'kafka', '--kafka-servers', broker.bootstrap, '--kafka-topic', 'doc_orders', '--customers-topic', 'doc_customers'])
    expect(r.code, r.out + r.err).toBe(0)
    const kafka = check(r.out, 'kafka')
    expect(kafka.status).toBe('ok')
    expect(kafka.text).toContain(`reached ${broker.bootstrap} (no TLS, no SASL); topics: doc_orders (3 partitions), doc_customers (1 partition)`)
  })

  it('reads the lake, input folder and source from a settings file', async () => {
    const ws = await lakeWithOrders()
    mkdirSync(join(ws.root, 'cfg'))
    const settings = join(ws.root, 'cfg', 'settings.json')
    writeFileSync(settings, JSON.stringify({ lakePath: ws.lake, source: { kind: 'folder', inputPath: join(ws.root, 'missing') } }))
    const r = await doctor(['--settings', settings])
    expect(r.code).toBe(1)
    expect(check(r.out, 'lake').text).toContain('2 orders in 1 batches')
    expect(check(r.out, 'input folder').text).toContain(`the input folder ${join(ws.root, 'missing')} does not exist`)
  })

  it('runs in the engine (Help → Check setup) on the lake the engine holds, through its own connection', async () => {
    const ws = await lakeWithOrders()
    const base = makeTempDir()
    writeFileSync(join(base, 'settings.json'), JSON.stringify({ lakePath: ws.lake, source: { kind: 'folder', inputPath: ws.input } }))
    const host = await createEngineHost({ settingsFile: join(base, 'settings.json'), baseDir: base })
    try {
      const held = openLakeCount()
      const checks = await host.handlers['ops.doctor']({})
      expect(checks.map((c) => [c.name, c.status])).toEqual([
        ['runtime', 'ok'],
        ['lake folder', 'ok'],
        ['lake', 'ok'],
        ['input folder', 'ok'],
        ['disk', 'ok'],
        ['clock', 'ok']
      ])
      expect(checks.find((c) => c.name === 'lake')?.message).toContain(`schema ${SCHEMA_VERSION}, 2 orders in 1 batches`)
      // DuckDB would let this process open a second instance of the file without a word
      expect(readOnlyOpens.count).toBe(0)
      expect(openLakeCount()).toBe(held)
    } finally {
      await host.dispose()
    }
  })
})
