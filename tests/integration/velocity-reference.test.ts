import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rng } from '../support/bulk-input'
import { MIN, cleanupTempDirs, makeWorkspace, order, query, runPipeline, writeLines, type OrderLine } from '../support/lake-fixtures'

// The velocity count of every order, checked against a brute-force reference computed here from
// the lines written: for each order in processing order (batch, then line), the orders already
// accepted (silver and earlier lines, after de-duplication and quarantine) of the same customer
// with order_ts in [ts − 10 min, ts], itself included. The input is made to break shortcuts:
// hot customers, equal timestamps and exact 10-minute gaps (a 15 s grid), runs in reversed time
// order, late rows, 1 ms off the boundary, duplicate order_ids carrying other timestamps and
// customers, and quarantined lines — over several batches, so silver's part counts too. The
// last two batches straddle 1970-01-01T00:00Z, where epoch microseconds change sign.

afterAll(cleanupTempDirs)

const BASE = Date.parse('2024-03-01T12:00:00Z')
const WINDOW = 10 * MIN
const MIN_ORDERS = 3
const MINUTES_BETWEEN_BATCHES = 7
const BATCH_BASES = [0, 1, 2, 3, 4].map((b) => BASE + b * MINUTES_BETWEEN_BATCHES * MIN).concat([-3 * MIN, 4 * MIN])
const LINES_PER_BATCH = 2500

interface Written {
  id: string
  customer: string
  ts: number
  valid: boolean
}

function batchLines(r: () => number, base: number, earlierIds: string[], seq: { n: number }): Written[] {
  const grid = (lo: number, hi: number) => base + (lo + Math.floor(r() * (hi - lo + 1))) * 15_000
  const customer = () => {
    const x = r()
    return x < 0.4 ? 'guest' : x < 0.5 ? 'hot-2' : x < 0.55 ? 'hot-3' : `c-${Math.floor(r() * 300)}`
  }
  const out: Written[] = []
  while (out.length < LINES_PER_BATCH) {
    const x = r()
    if (x < 0.08) {
      // a run in reversed time order for one customer, some of it landing on the grid
      const c = customer()
      const start = grid(-20, 24)
      const len = 5 + Math.floor(r() * 60)
      for (let j = 0; j < len; j++) out.push({ id: `o-${seq.n++}`, customer: c, ts: start - j * 5_000 * (1 + Math.floor(r() * 3)), valid: true })
      continue
    }
    let ts: number
    const y = r()
    if (y < 0.65) ts = grid(-20, 24) // equal timestamps and exact 10-minute gaps
    else if (y < 0.75) ts = grid(-20, 24) + (r() < 0.5 ? 1 : -1) // 1 ms off a grid point
    else if (y < 0.82) ts = base - 20 * MIN - Math.floor(r() * 20) * 15_000 // late
    else ts = base + Math.floor((r() * 12 - 6) * MIN) // anywhere in ±6 min
    if (x < 0.11 && (earlierIds.length || out.length)) {
      // a duplicate order_id: not an order, whatever its customer and time
      const pool = r() < 0.5 && earlierIds.length ? earlierIds : out.map((o) => o.id)
      out.push({ id: pool[Math.floor(r() * pool.length)], customer: customer(), ts, valid: true })
    } else if (x < 0.12) {
      out.push({ id: `o-${seq.n++}`, customer: customer(), ts, valid: false })
    } else {
      out.push({ id: `o-${seq.n++}`, customer: customer(), ts, valid: true })
    }
  }
  return out.slice(0, LINES_PER_BATCH)
}

function toLine(w: Written): OrderLine {
  return order({ order_id: w.id, customer_id: w.customer, order_ts: new Date(w.ts).toISOString(), ...(w.valid ? {} : { status: 'lost' }) })
}

/** order_id → velocity count when it reaches MIN_ORDERS, else null; by brute force. */
function reference(batches: Written[][]): Map<string, number | null> {
  const out = new Map<string, number | null>()
  const seen = new Set<string>()
  const byCustomer = new Map<string, number[]>()
  for (const lines of batches) {
    for (const w of lines) {
      if (!w.valid || seen.has(w.id)) continue
      seen.add(w.id)
      const earlier = byCustomer.get(w.customer) ?? []
      let n = 1
      for (const t of earlier) if (t >= w.ts - WINDOW && t <= w.ts) n++
      earlier.push(w.ts)
      byCustomer.set(w.customer, earlier)
      out.set(w.id, n >= MIN_ORDERS ? n : null)
    }
  }
  return out
}

describe('velocity counts against a brute-force reference', () => {
  let expected: Map<string, number | null>
  let actual: Map<string, number | null>

  beforeAll(async () => {
    const ws = makeWorkspace()
    const r = rng(20240301)
    const seq = { n: 0 }
    const batches: Written[][] = []
    for (const [b, base] of BATCH_BASES.entries()) {
      const lines = batchLines(r, base, batches.flat().map((w) => w.id), seq)
      batches.push(lines)
      writeLines(ws.orders(`batch-${b}.jsonl`), lines.map(toLine))
      await runPipeline(ws)
    }
    expected = reference(batches)
    const rows = await query(
      ws.lake,
      `SELECT order_id, list_filter(fraud_reasons, x -> x LIKE 'orders_last_10m %')[1] AS reason FROM silver_orders`
    )
    // the velocity rule's inputs line: 'orders_last_10m 1,234 >= 3: +2'
    actual = new Map(rows.map((row) => [row.order_id as string, row.reason === null ? null : Number(String(row.reason).split(' ')[1].replace(/,/g, ''))]))
    const batchCount = (await query(ws.lake, `SELECT count(*) AS n FROM batches`))[0].n
    expect(batchCount, 'one batch per file written').toBe(BATCH_BASES.length)
  })

  it('exercises the rule: many orders fire, some with counts in the hundreds', () => {
    const fired = [...expected.values()].filter((n) => n !== null) as number[]
    expect(fired.length).toBeGreaterThan(2000)
    expect(Math.max(...fired)).toBeGreaterThan(300)
    expect(fired.filter((n) => n < 10).length).toBeGreaterThan(50)
  })

  it('gives every order the count of the reference', () => {
    expect(actual.size).toBe(expected.size)
    const wrong = [...expected].filter(([id, n]) => actual.get(id) !== n).map(([id, n]) => ({ id, expected: n, actual: actual.get(id) }))
    expect(wrong.slice(0, 10), `${wrong.length} orders differ`).toEqual([])
  })
})
