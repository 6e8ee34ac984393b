import { afterAll, describe, expect, it } from 'vitest'
import { PipelineController } from '../../src/main/engine/pipeline-controller'
import { repairFutureEventTimes } from '../../src/main/lake/event-time-repair'
import { openLake } from '../../src/main/lake/lake'
import { kpis } from '../../src/main/lake/queries'
import { defaultSettings, parseSettings } from '../../src/shared/settings'
import { spawnCli } from '../support/kafka-processes'
import {
  cleanupTempDirs,
  customer,
  lakeFromFixture,
  makeWorkspace,
  MIN,
  order,
  queries,
  query,
  runPipeline,
  scalar,
  writeLines,
  type Workspace
} from '../support/lake-fixtures'

// Issue 10, defect 1: one order dated years ahead made every later order late, forever. Event
// times now have to be plausible (a year in 1900–9999, an offset within ±14:00, at most
// pipeline.maxFutureSkewMinutes ahead of this machine's clock), a quarantined line never moves
// the watermark or the dashboard's "now", and a lake poisoned before this is repaired on open.

afterAll(cleanupTempDirs)

const iso = (ms: number) => new Date(ms).toISOString()
const utc = (col: string) => `strftime(${col} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`

/** The reason quarantine gave the line of `orderId` (by its raw text). */
async function reasonOf(lake: string, id: string): Promise<string | undefined> {
  const rows = await query(lake, `SELECT reason FROM quarantine WHERE contains(raw, '"${id}"')`)
  return rows[0]?.reason as string | undefined
}

describe('an order from the future', () => {
  it('a future order, then a normal one: the future one is quarantined, the normal one is not late, and both watermark and "now" are the normal one\'s', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('1.jsonl'), [order({ order_id: 'from-2031', order_ts: '2031-12-01T00:00:00Z' })])
    await runPipeline(ws)
    const normalTs = iso(Date.now() - 2 * MIN)
    writeLines(ws.orders('2.jsonl'), [order({ order_id: 'normal', order_ts: normalTs })])
    await runPipeline(ws)

    const r = await queries(ws.lake, {
      silver: `SELECT order_id, is_late FROM silver_orders`,
      meta: `SELECT ${utc("value::TIMESTAMPTZ")} AS max_event_ts FROM lake_meta WHERE key = 'max_event_ts'`,
      batches: `SELECT batch_id, valid, quarantined, ${utc('max_event_ts')} AS max_event_ts, ${utc('watermark')} AS watermark FROM batches ORDER BY batch_id`,
      windows: `SELECT ${utc('window_start')} AS ws, orders FROM order_windows`
    })
    expect(r.silver).toEqual([{ order_id: 'normal', is_late: false }])
    expect(r.meta).toEqual([{ max_event_ts: normalTs }])
    expect(r.batches).toEqual([
      { batch_id: 1, valid: 0, quarantined: 1, max_event_ts: null, watermark: null },
      { batch_id: 2, valid: 1, quarantined: 0, max_event_ts: normalTs, watermark: iso(Date.parse(normalTs) - 10 * MIN) }
    ])
    expect(r.windows).toEqual([{ ws: iso(Math.floor(Date.parse(normalTs) / MIN) * MIN), orders: 1 }])

    // both times and the limit, in the words of the settings
    const reason = await reasonOf(ws.lake, 'from-2031')
    expect(reason).toMatch(
      /^order_ts 2031-12-01T00:00:00Z is more than 15 min ahead of this machine's clock at ingest \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\); the limit is pipeline\.maxFutureSkewMinutes = 15$/
    )
    const clock = Date.parse(/\((.*)\)/.exec(reason!)![1])
    expect(clock).toBeGreaterThanOrEqual(Date.parse(normalTs))

    // the dashboard's "now" is the normal order's time
    const lake = await openLake(ws.lake, { create: false })
    try {
      expect((await kpis(lake.reader, 1)).asOf).toBe(normalTs)
    } finally {
      await lake.close()
    }
  })

  it('accepts an order a few minutes ahead, within the limit; pipeline.maxFutureSkewMinutes moves the limit', async () => {
    const ws = makeWorkspace()
    writeLines(ws.orders('a.jsonl'), [
      order({ order_id: 'ahead-5min', order_ts: iso(Date.now() + 5 * MIN) }),
      order({ order_id: 'ahead-1day', order_ts: iso(Date.now() + 24 * 60 * MIN) })
    ])
    await runPipeline(ws)
    expect(await query(ws.lake, `SELECT order_id FROM silver_orders`)).toEqual([{ order_id: 'ahead-5min' }])
    expect(await reasonOf(ws.lake, 'ahead-1day')).toMatch(/more than 15 min ahead/)

    // no clock skew at all, from a settings object as --settings gives it
    const strict = makeWorkspace()
    writeLines(strict.orders('a.jsonl'), [
      order({ order_id: 'past', order_ts: iso(Date.now() - MIN) }),
      order({ order_id: 'ahead-1h', order_ts: iso(Date.now() + 60 * MIN) })
    ])
    await runPipeline(strict, { baseSettings: parseSettings({ pipeline: { maxFutureSkewMinutes: 0 } }) })
    expect(await query(strict.lake, `SELECT order_id FROM silver_orders`)).toEqual([{ order_id: 'past' }])
    expect(await reasonOf(strict.lake, 'ahead-1h')).toMatch(/is more than 0 min ahead .*pipeline\.maxFutureSkewMinutes = 0$/)
  })

  it('a customer signed up in the future is quarantined too (it would make every order of theirs "new account")', async () => {
    const ws = makeWorkspace()
    writeLines(ws.customers('c.jsonl'), [
      customer({ customer_id: 'c-future', signup_ts: '2030-01-01T00:00:00Z' }),
      customer({ customer_id: 'c-ok', signup_ts: '2024-01-01T00:00:00Z' })
    ])
    await runPipeline(ws)
    const r = await queries(ws.lake, {
      customers: `SELECT customer_id FROM customers`,
      quarantine: `SELECT kind, reason FROM quarantine`
    })
    expect(r.customers).toEqual([{ customer_id: 'c-ok' }])
    expect(r.quarantine).toEqual([
      { kind: 'customer', reason: expect.stringMatching(/^signup_ts 2030-01-01T00:00:00Z is more than 15 min ahead of this machine's clock at ingest/) }
    ])
  })
})

describe('offsets and years a timestamp may have', () => {
  let ws: Workspace
  const cases: [string, string, RegExp | 'valid'][] = [
    ['off-99', '2024-03-01T12:00:00+99:99', /^order_ts has offset \+99:99, outside -14:00 to \+14:00: 2024-03-01T12:00:00\+99:99$/],
    ['off-1401', '2024-03-01T12:00:00+14:01', /offset \+14:01, outside/],
    ['off-1430w', '2024-03-01T12:00:00-14:30', /offset -14:30, outside/],
    ['off-15', '2024-03-01T12:00:00+15', /offset \+15, outside/],
    ['off-0060', '2024-03-01T12:00:00+00:60', /offset \+00:60, outside/],
    ['off-2400c', '2024-03-01T12:00:00+2400', /offset \+2400, outside/],
    ['off-14', '2024-03-01T12:00:00+14:00', 'valid'],
    ['off-14w', '2024-03-01T12:00:00-14:00', 'valid'],
    ['off-0545', '2024-03-01T12:00:00+05:45', 'valid'],
    ['off-1330c', '2024-03-01T12:00:00+1330', 'valid'],
    ['off-05', '2024-03-01T12:00:00-05', 'valid'],
    ['year-0000', '0000-03-01T12:00:00Z', /^order_ts has year 0000, outside 1900–9999: 0000-03-01T12:00:00Z$/],
    ['year-1899', '1899-12-31T23:59:59Z', /year 1899, outside/],
    ['year-1900', '1900-01-01T00:00:00Z', 'valid'],
    ['year-9999', '9999-12-31T23:59:59Z', /more than 15 min ahead/]
  ]

  it('quarantines offsets outside ±14:00 and years outside 1900–9999, and stores the rest as the instant written', async () => {
    ws = makeWorkspace()
    writeLines(
      ws.orders('ts.jsonl'),
      cases.map(([id, t]) => order({ order_id: id, order_ts: t }))
    )
    await runPipeline(ws)
    const silver = new Map(
      (await query(ws.lake, `SELECT order_id, ${utc('order_ts')} AS t FROM silver_orders`)).map((r) => [r.order_id as string, r.t as string])
    )
    for (const [id, t, expected] of cases) {
      if (expected === 'valid') {
        expect(silver.get(id), id).toBe(new Date(t.replace(/([+-]\d\d)(\d\d)$/, '$1:$2').replace(/([+-]\d\d)$/, '$1:00')).toISOString())
      } else {
        expect(silver.has(id), id).toBe(false)
        expect(await reasonOf(ws.lake, id), id).toMatch(expected)
      }
    }
    // quarantined lines never moved the watermark: the newest accepted time is the newest there is
    expect(await scalar(ws.lake, `SELECT ${utc("value::TIMESTAMPTZ")} FROM lake_meta WHERE key = 'max_event_ts'`)).toBe(
      [...silver.values()].sort().at(-1)
    )
  })

  it('checks signup_ts the same way', async () => {
    const c = makeWorkspace()
    writeLines(c.customers('c.jsonl'), [
      customer({ customer_id: 'c-off', signup_ts: '2024-01-01T00:00:00+99:99' }),
      customer({ customer_id: 'c-year', signup_ts: '0000-01-01T00:00:00Z' }),
      customer({ customer_id: 'c-ok', signup_ts: '2024-01-01T00:00:00-14:00' })
    ])
    await runPipeline(c)
    expect(await query(c.lake, `SELECT customer_id FROM customers`)).toEqual([{ customer_id: 'c-ok' }])
    expect((await query(c.lake, `SELECT reason FROM quarantine ORDER BY reason`)).map((r) => r.reason)).toEqual([
      'signup_ts has offset +99:99, outside -14:00 to +14:00: 2024-01-01T00:00:00+99:99',
      'signup_ts has year 0000, outside 1900–9999: 0000-01-01T00:00:00Z'
    ])
  })
})

/** A copy of the fixture lake written by schema 3 with a 2031 order (tests/fixtures/README.md). */
function poisonedLake(): Workspace {
  const ws = lakeFromFixture('lake-v3-future-order.duckdb.gz')
  return ws
}

const repairedState = {
  silver: `SELECT count(*) AS n, count(*) FILTER (WHERE is_late) AS late, ${utc('max(order_ts)')} AS newest,
    bool_or(order_id = 'ord_future_2031') AS has_future FROM silver_orders`,
  after: `SELECT order_id, is_late FROM silver_orders WHERE order_id LIKE 'ord_after_%' ORDER BY order_id`,
  meta: `SELECT ${utc("value::TIMESTAMPTZ")} AS v FROM lake_meta WHERE key = 'max_event_ts'`,
  quarantine: `SELECT batch_id, kind, byte_offset, reason, contains(raw, '"ord_future_2031"') AS is_it FROM quarantine`,
  windows: `SELECT sum(orders) AS orders, bool_or(window_start >= TIMESTAMPTZ '2031-01-01') AS future, bool_or(is_final) AS any_final FROM order_windows`,
  batches: `SELECT batch_id, valid, late, quarantined, ${utc('max_event_ts')} AS max_event_ts FROM batches ORDER BY batch_id`
}

describe('a lake poisoned by a future order before this check existed', () => {
  it('is repaired when `streamdesk pipeline` opens it: the order moves to quarantine, the watermark comes from the plausible orders, with a warning', async () => {
    const ws = poisonedLake()
    const before = await queries(ws.lake, repairedState)
    expect(before.meta[0].v).toBe('2031-12-01T00:00:00.000Z')
    expect(before.after).toEqual([
      { order_id: 'ord_after_1', is_late: true },
      { order_id: 'ord_after_2', is_late: true }
    ])
    expect(before.silver[0].n).toBe(43)

    const nextTs = iso(Date.now() - MIN)
    writeLines(ws.orders('next.jsonl'), [order({ order_id: 'after-repair', order_ts: nextTs })])
    const child = spawnCli(['pipeline', '--input-path', ws.input, '--lake', ws.lake, '--until-idle', '--trigger', '50ms', '--quiet'])
    const { code } = await child.exited
    expect(code, child.stderr()).toBe(0)
    expect(child.stderr()).toMatch(
      /warning: lake .*lake\.duckdb repaired: 1 order had an order_ts more than 15 min ahead of the clock when it was ingested \(the newest 2031-12-01T00:00:00\.000Z, batch 2\); moved to quarantine\. The newest event time, which drives the watermark, is now 2026-12-01T08:15:24\.119Z \(it was 2031-12-01T00:00:00\.000Z\); 2 orders late only because of it are on time again, and the windows involved were recomputed\./
    )

    const after = await queries(ws.lake, {
      ...repairedState,
      next: `SELECT is_late FROM silver_orders WHERE order_id = 'after-repair'`,
      windowsMatchSilver: `SELECT (SELECT sum(orders) FROM order_windows) = (SELECT count(*) FROM silver_orders WHERE NOT is_late) AS ok`
    })
    expect(after.silver[0]).toEqual({ n: 43, late: 0, newest: nextTs, has_future: false })
    expect(after.after).toEqual([
      { order_id: 'ord_after_1', is_late: false },
      { order_id: 'ord_after_2', is_late: false }
    ])
    expect(after.next).toEqual([{ is_late: false }])
    expect(after.meta[0].v).toBe(nextTs)
    expect(after.quarantine).toEqual([
      {
        batch_id: 2,
        kind: 'order',
        byte_offset: 0,
        is_it: true,
        reason: expect.stringMatching(
          /^order_ts 2031-12-01T00:00:00\.000Z was more than 15 min ahead of this machine's clock at ingest \(2026-12-01T08:15:23\.434Z\); the limit is pipeline\.maxFutureSkewMinutes = 15 \(moved out of silver_orders when the lake was repaired at .*\)$/
        )
      }
    ])
    expect(after.windows[0]).toMatchObject({ future: false })
    expect(after.windowsMatchSilver).toEqual([{ ok: true }])
    // batch 2 committed the poison: it now counts it as quarantined; batch 3's orders are on time
    expect(after.batches.slice(0, 3)).toEqual([
      { batch_id: 1, valid: 40, late: 0, quarantined: 0, max_event_ts: '2026-12-01T08:15:19.035Z' },
      { batch_id: 2, valid: 0, late: 0, quarantined: 1, max_event_ts: '2026-12-01T08:15:19.035Z' },
      { batch_id: 3, valid: 2, late: 0, quarantined: 0, max_event_ts: '2026-12-01T08:15:24.119Z' }
    ])
  })

  it('is repaired before the dashboard reads it, and the app shows the warning; a second open finds nothing to repair', async () => {
    const ws = poisonedLake()
    const settings = parseSettings({ lakePath: ws.lake })
    const controller = new PipelineController(ws.root, () => settings, { onState: () => undefined, onBatch: () => undefined })
    try {
      const status = await controller.getStatus()
      expect(status.warnings).toEqual([expect.stringMatching(/repaired: 1 order had an order_ts more than 15 min ahead/)])
      const k = await controller.withLake((lake) => kpis(lake.reader, 1))
      expect(k.asOf).toBe('2026-12-01T08:15:24.119Z')
      expect(await controller.withLake((lake) => repairFutureEventTimes(lake, defaultSettings().pipeline))).toBeNull()
    } finally {
      await controller.dispose()
    }
    const after = await queries(ws.lake, repairedState)
    expect(after.silver[0]).toMatchObject({ n: 42, late: 0, has_future: false })
    // the newest window holds the newest order: not final under the recomputed watermark
    expect(after.windows[0]).toEqual({ orders: 42, future: false, any_final: false })
  })
})
