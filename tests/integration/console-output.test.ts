import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALERTS_PER_BATCH } from '../../src/main/cli/batch-report'
import { spawnCli } from '../support/kafka-processes'
import {
  cleanupTempDirs,
  customer,
  makeWorkspace,
  order,
  queries,
  ts,
  writeLines,
  type Row,
  type Workspace
} from '../support/lake-fixtures'

// What `streamdesk pipeline` prints after each batch, read from the real CLI's stderr and checked
// against the lake: a batch line whose numbers add up, and the batch's fraud alerts.

afterAll(cleanupTempDirs)

const BIG = 25 // alerts in the first run: more than one batch prints
const money = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

async function pipeline(ws: Workspace): Promise<string[]> {
  const child = spawnCli(['pipeline', '--input-path', ws.input, '--lake', ws.lake, '--until-idle', '--trigger', '50ms'])
  const { code } = await child.exited
  expect(code, child.stderr()).toBe(0)
  return child.stderr().split('\n')
}

const perBatchSql = `SELECT b.batch_id, b.rows_read, b.valid, b.late, b.duplicates, b.quarantined, b.alerts,
    (SELECT count(*) FROM bronze_orders o WHERE o.batch_id = b.batch_id)::BIGINT AS order_lines,
    (SELECT count(*) FROM bronze_customers c WHERE c.batch_id = b.batch_id)::BIGINT AS customer_lines,
    (SELECT count(*) FROM quarantine q WHERE q.batch_id = b.batch_id AND q.kind = 'order')::BIGINT AS q_orders,
    (SELECT count(*) FROM quarantine q WHERE q.batch_id = b.batch_id AND q.kind = 'customer')::BIGINT AS q_customers
  FROM batches b ORDER BY b.batch_id`

describe('streamdesk pipeline on the console', () => {
  let ws: Workspace
  let first: string[]
  let second: string[]
  let lake: Record<'batches' | 'alerts', Row[]>

  beforeAll(async () => {
    ws = makeWorkspace()
    writeLines(ws.orders('orders.jsonl'), [
      ...Array.from({ length: BIG }, (_, i) =>
        order({
          order_id: `BIG-${String(i).padStart(2, '0')}`,
          customer_id: `WHALE-${i % 3}`,
          order_ts: ts(i * 1000),
          total_amount: 5000 + i * 100,
          // cross-border on some: a second reason, and scores that differ
          billing_country: i % 4 === 0 ? 'FR' : 'DE'
        })
      ),
      order({ order_id: 'small-1', order_ts: ts(30_000), total_amount: 12 }),
      order({ order_id: 'small-1', order_ts: ts(30_000), total_amount: 12 }), // duplicate
      '{"order_id": "broken', // quarantined
      order({ order_id: 'small-2', order_ts: ts(31_000), total_amount: 13, status: 'cancelled' })
    ])
    writeLines(ws.customers('customers.jsonl'), [customer({ customer_id: 'WHALE-0' }), customer({ customer_id: 'WHALE-1' }), { name: 'no id' }])
    first = await pipeline(ws)
    // then one customer only
    writeLines(ws.customers('later.jsonl'), [customer({ customer_id: 'LATE-JOINER' })])
    second = await pipeline(ws)
    lake = await queries(ws.lake, {
      batches: perBatchSql,
      alerts: `SELECT batch_id, order_id, customer_id, total_amount::DOUBLE AS amount, currency, fraud_score, fraud_reasons
        FROM fraud_alerts ORDER BY batch_id, fraud_score DESC, order_ts, order_id`
    })
  })

  const batchLine = (lines: string[], id: number) => lines.find((l) => l.startsWith(`batch ${id}: `)) ?? ''

  it('each batch line adds up: rows in = orders + customers, orders = valid + duplicates + quarantined', () => {
    const printed = [...first, ...second].filter((l) => /^batch \d+: /.test(l))
    expect(printed.length).toBe(lake.batches.length)
    for (const b of lake.batches) {
      const line = batchLine([...first, ...second], b.batch_id as number)
      const nums = line.match(/^batch \d+: (\d+) rows? in: (\d+) orders?(?: = (\d+) valid(?: \((\d+) late\))?(?: \+ (\d+) duplicates?)?(?: \+ (\d+) quarantined)?)?; (\d+) customers?(?: = (\d+) stored(?: \+ (\d+) quarantined)?)?; (\d+) alerts?; \d+ ms \([\d,]+ rows\/s\)$/)
      expect(nums, line).not.toBeNull()
      const [rowsIn, orders, valid, late, dups, qOrders, customers, stored, qCustomers, alerts] = nums!.slice(1).map((x) => Number(x ?? 0))
      expect(rowsIn).toBe(b.rows_read)
      expect(rowsIn).toBe(orders + customers)
      expect(orders).toBe(b.order_lines)
      expect(customers).toBe(b.customer_lines)
      if (orders) expect(orders).toBe(valid + dups + qOrders)
      if (customers) expect(customers).toBe(stored + qCustomers)
      expect([valid, late, dups, qOrders, qCustomers, alerts]).toEqual([b.valid, b.late, b.duplicates, b.q_orders, b.q_customers, b.alerts])
    }
  })

  it('the first run: every kind of line shows up in its term', () => {
    const sums = lake.batches.filter((b) => first.some((l) => l.startsWith(`batch ${b.batch_id}: `)))
    const total = (k: string) => sums.reduce((s, b) => s + (b[k] as number), 0)
    expect([total('valid'), total('duplicates'), total('q_orders'), total('customer_lines'), total('q_customers')]).toEqual([BIG + 2, 1, 1, 3, 1])
  })

  it('a customers-only batch says so: 1 customer, 0 orders', () => {
    const lines = second.filter((l) => /^batch \d+: /.test(l))
    expect(lines.length).toBe(1)
    expect(lines[0]).toMatch(/^batch \d+: 1 row in: 0 orders; 1 customer = 1 stored; 0 alerts; \d+ ms/)
  })

  it(`prints each alert of a batch (order, customer, amount, score, reasons), at most ${ALERTS_PER_BATCH}, then +N more`, () => {
    const byBatch = new Map<number, Row[]>()
    for (const a of lake.alerts) byBatch.set(a.batch_id as number, [...(byBatch.get(a.batch_id as number) ?? []), a])
    expect([...byBatch.values()].reduce((s, a) => s + a.length, 0)).toBe(BIG)
    for (const [batchId, alerts] of byBatch) {
      const at = first.indexOf(batchLine(first, batchId))
      const shown = alerts.slice(0, ALERTS_PER_BATCH)
      const expected = shown.map(
        (a) =>
          `  alert ${a.order_id}  customer ${a.customer_id}  ${money(a.amount as number)} ${a.currency}  score ${a.fraud_score}: ` +
          (a.fraud_reasons as string[]).join(', ')
      )
      const more = alerts.length - shown.length
      if (more > 0) expected.push(`  +${more} more alerts in batch ${batchId} (fraud_alerts WHERE batch_id = ${batchId})`)
      expect(first.slice(at + 1, at + 1 + expected.length)).toEqual(expected)
    }
    // the reasons are the readable ones the lake stores
    expect(first.some((l) => /score \d+: amount [\d,.]+ > 5,000: \+4, /.test(l))).toBe(true)
  })
})
