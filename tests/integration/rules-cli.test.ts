import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lakeFile } from '../../src/main/lake/lake'
import { defaultRuleset, type Ruleset } from '../../src/main/rules'
import { cleanupTempDirs, REPO_ROOT, HOUR, makeTempDir, makeWorkspace, order, query, runPipeline, ts, writeLines, type Workspace } from '../support/lake-fixtures'

// `streamdesk rules …` as scripts use it: the real CLI in a child process, its stdout, stderr
// and exit code, against a lake written by the pipeline. Answers come from SQL over silver.

afterAll(cleanupTempDirs)

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/main/cli/main.ts'), ...args], { cwd: REPO_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } }, (_err, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr })
    )
  })
}

let ws: Workspace
let dir: string
function rulesFile(name: string, ruleset: Ruleset | string): string {
  const file = join(dir, name)
  writeFileSync(file, typeof ruleset === 'string' ? ruleset : JSON.stringify(ruleset))
  return file
}

beforeAll(async () => {
  ws = makeWorkspace()
  dir = makeTempDir()
  writeLines(
    ws.orders('1.jsonl'),
    Array.from({ length: 40 }, (_, i) =>
      order({ order_id: `o${i}`, customer_id: `c${i}`, total_amount: 500 + i * 150, billing_country: i % 3 === 0 ? 'FR' : 'DE', order_ts: ts(i * HOUR) })
    )
  )
  await runPipeline(ws)
})

describe('streamdesk rules', () => {
  it('export prints the active ruleset as JSON', async () => {
    const r = await cli(['rules', 'export', '--lake', ws.lake])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual(defaultRuleset())
  })

  it('backtest --json of a raised threshold: lost is what SQL over silver says', async () => {
    const r = await cli(['rules', 'backtest', '--lake', ws.lake, '--rules', rulesFile('t4.json', { ...defaultRuleset(), threshold: 4 }), '--json'])
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    const [sql] = await query(ws.lake, `SELECT count(*) AS orders, count(*) FILTER (WHERE fraud_score >= 3) AS current, count(*) FILTER (WHERE fraud_score = 3) AS lost FROM silver_orders`)
    expect(sql.lost).toBeGreaterThan(0)
    expect(report).toMatchObject({ orders: sql.orders, current_alerts: sql.current, candidate_alerts: (sql.current as number) - (sql.lost as number), gained: 0, lost: sql.lost })
    expect(report.per_rule.map((p: { id: string }) => p.id)).toEqual(defaultRuleset().rules.map((x) => x.id))
    const [mismatch] = await query(ws.lake, `SELECT count(*) AS n FROM silver_orders WHERE billing_country <> shipping_country`)
    expect(report.per_rule.find((p: { id: string }) => p.id === 'country_mismatch').matched).toBe(mismatch.n)
  })

  it('backtest --from --to covers [from, to)', async () => {
    const r = await cli(['rules', 'backtest', '--lake', ws.lake, '--rules', rulesFile('d.json', defaultRuleset()), '--from', ts(10 * HOUR), '--to', ts(20 * HOUR), '--json'])
    expect(JSON.parse(r.stdout).orders).toBe(10)
  })

  it.each([
    { what: 'a syntax error', when: 'amount >', says: /rules\[0\]\.when \(x\): line 1, column 9: / },
    { what: 'SQL spliced in', when: "'; DROP TABLE silver_orders; --", says: /rules\[0\]\.when \(x\): line 1, column 1: / },
    { what: 'a function call', when: 'lower(status) = 1', says: /no function calls/ },
    { what: 'an unknown attribute', when: 'amout > 1', says: /unknown attribute .amout. \(did you mean amount\?\)/ }
  ])('a rules file with $what exits 2 with the position, and nothing changes', async ({ when, says }) => {
    const file = rulesFile('bad.json', { threshold: 1, rules: [{ id: 'x', description: '', when, points: 1 }] })
    for (const sub of [['backtest', '--rules', file], ['promote', '--rules', file]]) {
      const r = await cli(['rules', ...sub, '--lake', ws.lake])
      expect(r.stderr).toMatch(says)
      expect(r.code).toBe(2)
    }
    expect((await query(ws.lake, `SELECT count(*) AS n FROM ruleset_versions`))[0].n).toBe(1)
    expect((await query(ws.lake, `SELECT count(*) AS n FROM silver_orders`))[0].n).toBe(40)
  })

  it('a file that is not JSON exits 2 with its line and column', async () => {
    const r = await cli(['rules', 'backtest', '--lake', ws.lake, '--rules', rulesFile('broken.json', '{\n  "threshold": 3,\n  "rules": [\n}')])
    expect(r.stderr).toMatch(/line 4, column 1: not valid JSON/)
    expect(r.code).toBe(2)
  })

  it('a missing lake exits 3', async () => {
    const r = await cli(['rules', 'export', '--lake', join(dir, 'no-lake')])
    expect(r.code).toBe(3)
  })

  it('promote refuses with exit 3 while another process holds the lake', async () => {
    const db = await DuckDBInstance.create(lakeFile(ws.lake))
    try {
      const r = await cli(['rules', 'promote', '--lake', ws.lake, '--rules', rulesFile('d.json', defaultRuleset())])
      expect(r.stderr).toMatch(/in use by another process/)
      expect(r.code).toBe(3)
    } finally {
      db.closeSync()
    }
  })

  it('promote, versions, export --version, rollback with promote --restore', async () => {
    const list = join(dir, 'blocked.txt')
    writeFileSync(list, '# chargebacks\nc1\n\nc2\n')
    expect((await cli(['rules', 'list-import', 'blocked', list, '--lake', ws.lake])).stdout).toMatch(/list blocked: 2 values/)
    const strict: Ruleset = { threshold: 1, rules: [{ id: 'blocked', description: 'blocked customers', when: "customer_id in list('blocked')", points: 1 }] }
    const p = await cli(['rules', 'promote', '--lake', ws.lake, '--rules', rulesFile('strict.json', strict), '--note', 'block list'])
    expect(p.code, p.stderr).toBe(0)
    expect(p.stdout).toMatch(/version 2 is active/)
    expect(JSON.parse((await cli(['rules', 'export', '--lake', ws.lake])).stdout)).toEqual(strict)
    expect(JSON.parse((await cli(['rules', 'export', '--lake', ws.lake, '--version', '1'])).stdout)).toEqual(defaultRuleset())
    const back = await cli(['rules', 'promote', '--lake', ws.lake, '--restore', '1', '--note', 'undo'])
    expect(back.stdout).toMatch(/version 3 is active \(the rules of version 1\)/)
    const versions = JSON.parse((await cli(['rules', 'versions', '--lake', ws.lake, '--json'])).stdout)
    expect(versions.map((v: { version: number; restored_from: number | null; note: string }) => [v.version, v.restored_from, v.note])).toEqual([
      [3, 1, 'undo'],
      [2, null, 'block list'],
      [1, null, 'seeded from the fraud settings (weights and threshold)']
    ])
  })
})

describe('streamdesk rules shadow', () => {
  it('start, the next pipeline run scores beside the live version, status compares, drop; refusals exit 2', async () => {
    // the live version is version 1's rules again (the rollback above); the shadow alerts from 1 point
    const shadowFile = rulesFile('shadow.json', { ...defaultRuleset(), threshold: 1 })
    expect(JSON.parse((await cli(['rules', 'shadow', 'status', '--lake', ws.lake, '--json'])).stdout)).toBeNull()
    const started = await cli(['rules', 'shadow', 'start', '--lake', ws.lake, '--rules', shadowFile, '--note', 'lower threshold'])
    expect(started.stdout).toMatch(/shadow 1 is running/)
    const again = await cli(['rules', 'shadow', 'start', '--lake', ws.lake, '--rules', shadowFile])
    expect(again.stderr).toMatch(/shadow 1 is running; promote or drop it/)
    expect(again.code).toBe(2)

    writeLines(ws.orders('2.jsonl'), [
      order({ order_id: 'x-fr', customer_id: 'x1', billing_country: 'FR', order_ts: ts(100 * HOUR) }),
      order({ order_id: 'x-big', customer_id: 'x2', total_amount: 9000, order_ts: ts(101 * HOUR) }),
      order({ order_id: 'x-none', customer_id: 'x3', order_ts: ts(102 * HOUR) })
    ])
    await runPipeline(ws)
    const status = JSON.parse((await cli(['rules', 'shadow', 'status', '--lake', ws.lake, '--json'])).stdout)
    expect(status).toMatchObject({ orders: 3, live_alerts: 1, shadow_alerts: 2, both: 1, live_only: 0, shadow_only: 1, samples: { shadow_only: ['x-fr'] } })
    const [sql] = await query(ws.lake, `SELECT count(*) AS n FROM shadow_scores WHERE shadow_id = 1 AND is_alert`)
    expect(sql.n).toBe(2)

    expect((await cli(['rules', 'shadow', 'drop', '--lake', ws.lake])).stdout).toMatch(/shadow 1 dropped/)
    const none = await cli(['rules', 'shadow', 'promote', '--lake', ws.lake])
    expect(none.stderr).toMatch(/no shadow is running/)
    expect(none.code).toBe(2)
  })
})
