// The crash tests' common part (crash-exactly-once, kafka-crash): a pipeline process SIGKILLed at
// a random moment after a chosen point, the final run to the end, and what any lake must hold
// after crashes whatever its source: silver once per valid order, windows agreeing with silver,
// alerts once per alerting order, contiguous batches and no rows of a rolled-back batch.

import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'
import type { Child } from './bulk-input'
import type { Row } from './lake-fixtures'

/** Right after spawn (maybe while the lake is created), after "started", after a batch of this run committed. */
export type KillPoint = 'spawn' | 'started' | 'committed'

const batchCount = (stderr: string) => (stderr.match(/^batch \d+/gm) ?? []).length

/**
 * Starts a pipeline and SIGKILLs it 200–2500 ms after spawn, 300–1500 ms after it started, or
 * 0–1200 ms after a batch committed (so that the next one is in flight). The moment is drawn from
 * `r` so that a seed repeats a run; it is a point to crash at, not a race to win. Returns a line
 * for the test's log; throws when the pipeline failed before the kill.
 */
export async function killAtRandom(start: () => Child, point: KillPoint, r: () => number): Promise<string> {
  const t0 = Date.now()
  const child = start()
  let delay: number
  if (point === 'spawn') {
    delay = 200 + Math.floor(r() * 2300)
  } else {
    await child.waitFor(point === 'started' ? 'started' : 'batch ')
    delay = point === 'started' ? 300 + Math.floor(r() * 1200) : Math.floor(r() * 1200)
  }
  await sleep(delay)
  child.proc.kill('SIGKILL')
  const exit = await child.exited
  const line = `killed ${delay} ms after ${point} (${exit.signal ?? exit.code}), ${batchCount(child.stderr())} batches committed, ${Date.now() - t0} ms in all`
  if (exit.code !== null && exit.code !== 0) throw new Error(`${line}: pipeline failed before the kill:\n${child.stderr()}`)
  return line
}

/** Starts the last run (until idle) and waits for its exit; the line is for the test's log. */
export async function runToEnd(start: () => Child): Promise<{ code: number | null; stderr: string; line: string }> {
  const t1 = Date.now()
  const final = start()
  const exit = await final.exited
  return { code: exit.code, stderr: final.stderr(), line: `final run: exit ${exit.code}, ${batchCount(final.stderr())} batches in ${Date.now() - t1} ms` }
}

/** The lake figures `expectConsistentLake` checks; spread them into the test's own `queries`. */
export const CONSISTENCY_SQL = {
  silverIds: `SELECT order_id FROM silver_orders`,
  silverDup: `SELECT count(*) AS n FROM (SELECT order_id FROM silver_orders GROUP BY order_id HAVING count(*) > 1)`,
  windows: `SELECT coalesce(sum(orders), 0)::BIGINT AS orders, coalesce(sum(revenue), 0)::VARCHAR AS revenue,
    coalesce(sum(revenue_orders), 0)::BIGINT AS revenue_orders,
    (SELECT count(*) FROM (SELECT window_start FROM order_windows GROUP BY 1 HAVING count(*) > 1)) AS dup_windows FROM order_windows`,
  silverTotals: `SELECT count(*) AS orders,
    coalesce(sum(reporting_amount) FILTER (WHERE status NOT IN ('cancelled', 'refunded')), 0)::DECIMAL(38,2)::VARCHAR AS revenue,
    count(*) FILTER (WHERE status NOT IN ('cancelled', 'refunded')) AS revenue_orders
    FROM silver_orders WHERE NOT is_late`,
  batches: `SELECT min(batch_id) AS lo, max(batch_id) AS hi, count(*) AS n, sum(rows_read)::BIGINT AS rows_read,
    sum(duplicates)::BIGINT AS duplicates, sum(quarantined)::BIGINT AS quarantined, sum(valid)::BIGINT AS valid FROM batches`,
  orphans: `SELECT count(*) AS n FROM (
      SELECT batch_id FROM bronze_orders UNION ALL SELECT batch_id FROM bronze_customers UNION ALL SELECT batch_id FROM silver_orders
      UNION ALL SELECT batch_id FROM quarantine UNION ALL SELECT batch_id FROM fraud_alerts) x
    WHERE batch_id NOT IN (SELECT batch_id FROM batches)`,
  alerts: `SELECT count(*) AS n, count(DISTINCT order_id) AS d,
    (SELECT count(*) FROM silver_orders WHERE fraud_score >= 3) AS expected FROM fraud_alerts`
} as const

/** What a lake must hold after crashes, `validOrderIds` being every valid order the input had. */
export function expectConsistentLake(res: Record<keyof typeof CONSISTENCY_SQL, Row[]>, validOrderIds: ReadonlySet<string>): void {
  // silver: each valid order id once, nothing else
  expect(res.silverDup[0].n).toBe(0)
  const ids = new Set(res.silverIds.map((s) => s.order_id as string))
  expect(res.silverIds.length).toBe(validOrderIds.size)
  expect([...validOrderIds].filter((id) => !ids.has(id))).toEqual([])

  // windows agree with the on-time silver orders
  expect(res.windows[0].dup_windows).toBe(0)
  expect(res.windows[0].orders).toBe(res.silverTotals[0].orders)
  expect(res.windows[0].revenue_orders).toBe(res.silverTotals[0].revenue_orders)
  expect(Number(res.windows[0].revenue)).toBeCloseTo(Number(res.silverTotals[0].revenue), 2)

  // alerts once per alerting order
  expect(res.alerts[0].n).toBe(res.alerts[0].d)
  expect(res.alerts[0].n).toBe(res.alerts[0].expected)

  // batch bookkeeping: contiguous ids, no rows of rolled-back batches, every valid order counted once
  const b = res.batches[0]
  expect(b.lo).toBe(1)
  expect(b.n).toBe(b.hi)
  expect(res.orphans[0].n).toBe(0)
  expect(b.valid).toBe(validOrderIds.size)
}
