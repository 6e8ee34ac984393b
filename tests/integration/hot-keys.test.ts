import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { DuckDBConnection, DuckDBResultReader, DuckDBType, DuckDBValue } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batchRowsSql, commitStaged, dropStaged, stageCustomers, stageOrders, stageWindows, transformSettings, watermarkSql, type TransformSettings } from '../../src/main/lake/batch-transform'
import { createStagedLines, stagedLines } from '../../src/main/lake/bronze-ingest'
import { openScratchLake, type Lake } from '../../src/main/lake/lake'
import { ActiveScoring } from '../../src/main/lake/active-scoring'
import { seedRuleset } from '../../src/main/lake/rules-store'
import { defaultSettings } from '../../src/shared/settings'
import { cleanupTempDirs, makeTempDir } from '../support/lake-fixtures'

// Input concentrated on one key must cost a batch O(rows), not O(rows²): a guest checkout (one
// customer_id with 60,000 orders and as many profile updates in a batch, then 60,000 more in
// reach of them) and one order_id sent 10,000 times per batch. Asserted on DuckDB's own
// operator cardinalities, never on time: every statement of the transform runs under the
// profiler, and no operator may produce more rows than a small multiple of what the batch reads
// plus the rows silver held before it. The former velocity join produced ~n²/2 rows here.

afterAll(cleanupTempDirs)

const ROWS_PER_INPUT_ROW = 4
const BASE_US = Date.parse('2024-03-01T12:00:00Z') * 1000

interface Peak {
  statement: string
  /** Joins that compare every row with every row (their cost, unlike their output, is quadratic). */
  loopJoins: string[]
  operator: string
  rows: number
}

interface ProfileNode {
  operator_name?: string
  operator_cardinality?: number
  children?: ProfileNode[]
}

const LOOP_JOINS = /NESTED_LOOP|BLOCKWISE_NL|CROSS_PRODUCT/
const LOOP_SIDE_ROWS = 100

/**
 * Loop joins over two inputs of many rows. One side of a few rows (a scalar subquery, a
 * two-row VALUES list) costs a constant factor, so a loop join is flagged only above that.
 */
function loopJoins(node: ProfileNode): string[] {
  const sides = (node.children ?? []).map((c) => Number(c.operator_cardinality ?? 0))
  const own = LOOP_JOINS.test(node.operator_name ?? '') && sides.length >= 2 && Math.min(...sides) > LOOP_SIDE_ROWS ? [node.operator_name!] : []
  return [...own, ...(node.children ?? []).flatMap(loopJoins)]
}

function largestOperator(node: ProfileNode): { operator: string; rows: number } {
  let best = { operator: node.operator_name ?? '', rows: Number(node.operator_cardinality ?? 0) }
  for (const child of node.children ?? []) {
    const c = largestOperator(child)
    if (c.rows > best.rows) best = c
  }
  return best
}

/**
 * Stands in for the batch's connection: runs every statement of each call on its own under
 * DuckDB's JSON profiler and keeps the largest operator output of each.
 */
class ProfiledConnection {
  readonly peaks: Peak[] = []
  constructor(
    private readonly conn: DuckDBConnection,
    private readonly profileFile: string
  ) {}

  static async on(conn: DuckDBConnection, dir: string): Promise<ProfiledConnection> {
    const file = join(dir, 'profile.json')
    await conn.run(`PRAGMA enable_profiling = 'json'; PRAGMA profiling_output = '${file}'`)
    return new ProfiledConnection(conn, file)
  }

  run(sql: string, values?: DuckDBValue[], types?: DuckDBType[]): Promise<DuckDBResultReader> {
    return this.runAndReadAll(sql, values, types)
  }

  /** `values` are bound to a statement with parameters (the scoring's, one statement each). */
  async runAndReadAll(sql: string, values?: DuckDBValue[], types?: DuckDBType[]): Promise<DuckDBResultReader> {
    const statements = await this.conn.extractStatements(sql)
    let last: DuckDBResultReader | undefined
    for (let i = 0; i < statements.count; i++) {
      // statements without a plan (DROP, BEGIN) write no profile: start from no file
      rmSync(this.profileFile, { force: true })
      const prepared = await statements.prepare(i)
      if (values?.length) prepared.bind(values, types)
      last = await prepared.runAndReadAll()
      if (!existsSync(this.profileFile)) continue
      const profile = JSON.parse(readFileSync(this.profileFile, 'utf8')) as ProfileNode
      this.peaks.push({ statement: `${sql.replace(/\s+/g, ' ').trim().slice(0, 90)} [#${i + 1}]`, loopJoins: loopJoins(profile), ...largestOperator(profile) })
    }
    return last!
  }

  asConnection(): DuckDBConnection {
    return this as unknown as DuckDBConnection
  }
}

/** Staged order lines from `rowsSql` (columns i, order_id, customer_id, ts_us), at byte i·1000. */
function stagedOrdersSql(source: string, rowsSql: string, segNo: number): string {
  return `INSERT INTO ${stagedLines('orders')} (source, seg_no, byte_offset, raw)
    SELECT '${source}', ${segNo}, i * 1000, json_object('order_id', order_id, 'customer_id', customer_id,
      'order_ts', strftime(make_timestamp(ts_us), '%Y-%m-%dT%H:%M:%S.%fZ'), 'status', 'paid', 'currency', 'EUR',
      'total_amount', 25, 'items', json_array(json_object('product_id', 'p-1', 'product_name', 'Widget',
        'category', 'home', 'quantity', 1, 'unit_price', 25)),
      'payment_method', 'card', 'shipping_country', 'DE', 'billing_country', 'DE', 'channel', 'web')::VARCHAR
    FROM (${rowsSql})`
}

function stagedCustomersSql(source: string, rowsSql: string, segNo: number): string {
  return `INSERT INTO ${stagedLines('customers')} (source, seg_no, byte_offset, raw)
    SELECT '${source}', ${segNo}, i * 1000, json_object('customer_id', customer_id, 'name', 'Guest ' || i,
      'email', 'guest@example.com', 'signup_ts', '2023-01-01T00:00:00Z', 'country', 'DE', 'segment', 'regular')::VARCHAR
    FROM (${rowsSql})`
}

interface BatchInput {
  orders: { source: string; rowsSql: string }
  customers?: { source: string; rowsSql: string }
}

/** A lake in memory that runs the transform of each batch on a profiled connection. */
class HotLake {
  private previousMax: string | null = null
  private batchId = 0
  readonly settings: TransformSettings
  private constructor(
    readonly lake: Lake,
    readonly conn: ProfiledConnection,
    settings: TransformSettings
  ) {
    this.settings = settings
  }

  static async open(): Promise<HotLake> {
    const lake = await openScratchLake()
    await seedRuleset(lake.writer, defaultSettings().fraud)
    const settings = transformSettings(defaultSettings(), await new ActiveScoring().current(lake.writer))
    return new HotLake(lake, await ProfiledConnection.on(lake.writer, makeTempDir('streamdesk-profile-')), settings)
  }

  async count(sql: string): Promise<number> {
    return Number((await this.lake.writer.runAndReadAll(sql)).getRows()[0][0])
  }

  /** Runs one batch; returns its counts and the input rows its operators are measured against. */
  async batch(input: BatchInput): Promise<{ duplicates: number; valid: number; inputRows: number; peaks: Peak[] }> {
    const id = ++this.batchId
    const w = this.lake.writer
    const silverBefore = await this.count(`SELECT count(*) FROM silver_orders`)
    await createStagedLines(w, 'orders')
    await createStagedLines(w, 'customers')
    // processing order: the customers' file, then the orders'
    await w.run(stagedOrdersSql(input.orders.source, input.orders.rowsSql, input.customers ? 1 : 0))
    if (input.customers) await w.run(stagedCustomersSql(input.customers.source, input.customers.rowsSql, 0))
    const lines = await this.count(`SELECT (SELECT count(*) FROM ${stagedLines('orders')}) + (SELECT count(*) FROM ${stagedLines('customers')})`)
    const first = this.conn.peaks.length
    const conn = this.conn.asConnection()
    if (input.customers) await stageCustomers(conn, this.settings)
    const r = await stageOrders(conn, { rows: batchRowsSql('orders', id), historyBefore: null, previousMaxEventTs: this.previousMax }, this.settings, !!input.customers)
    await stageWindows(conn, id, this.settings.windowMinutes, watermarkSql(r.maxEventTs, this.settings.watermarkMinutes), `SELECT order_ts FROM _silver WHERE NOT is_late`, true)
    await w.run('BEGIN TRANSACTION')
    await commitStaged(conn, id, {
      customers: !!input.customers,
      orders: true,
      fraudThreshold: this.settings.scoring.ruleset.threshold,
      shadowId: null,
      watermarkSql: watermarkSql(r.maxEventTs, this.settings.watermarkMinutes)
    })
    await w.run('COMMIT')
    await dropStaged(w)
    this.previousMax = r.maxEventTs
    return { duplicates: r.duplicates, valid: r.valid, inputRows: lines + silverBefore, peaks: this.conn.peaks.slice(first) }
  }

  close(): Promise<void> {
    return this.lake.close()
  }
}

function expectLinear(peaks: Peak[], inputRows: number): void {
  const limit = ROWS_PER_INPUT_ROW * inputRows
  const over = peaks.filter((p) => p.rows > limit)
  expect(over, `operators producing more than ${ROWS_PER_INPUT_ROW} × ${inputRows} rows`).toEqual([])
  expect(peaks.filter((p) => p.loopJoins.length > 0).map((p) => `${p.statement}: ${p.loopJoins.join(', ')}`), 'nested-loop joins').toEqual([])
  // the profiler saw the work: the largest operator of a batch handles at least its orders
  expect(Math.max(...peaks.map((p) => p.rows))).toBeGreaterThanOrEqual(inputRows / 4)
}

/** The count an order's velocity inputs line shows ('orders_last_10m 60,001 >= 3: +2'), NULL when the rule did not fire. */
const velocityN = `replace(list_filter(fraud_reasons, r -> r LIKE 'orders_last_10m %')[1].split(' ')[2], ',', '')::BIGINT`

describe('profile updates for customers the lake already holds', () => {
  const N = 20_000
  let lake: HotLake
  let second: Awaited<ReturnType<HotLake['batch']>>

  beforeAll(async () => {
    lake = await HotLake.open()
    const orders = (batch: number) => ({
      source: `orders-${batch}.jsonl`,
      rowsSql: `SELECT i, 'o${batch}-' || i AS order_id, 'c-' || i AS customer_id, ${BASE_US} + ${batch} * 60000000 + i * 1000 AS ts_us FROM range(${N}) t(i)`
    })
    await lake.batch({ orders: orders(1), customers: { source: 'profiles-1.jsonl', rowsSql: `SELECT i, 'c-' || i AS customer_id FROM range(${N}) t(i)` } })
    // every order of batch 2 joins the stored profiles; a few of them are replaced in the same batch
    second = await lake.batch({ orders: orders(2), customers: { source: 'profiles-2.jsonl', rowsSql: `SELECT i, 'c-' || i AS customer_id FROM range(50) t(i)` } })
  })
  afterAll(() => lake?.close())

  it('joins them by key, never row by row', () => {
    expect(second.valid).toBe(N)
    expectLinear(second.peaks, second.inputRows)
  })
})

describe('one customer_id with 60,000 orders in a batch', () => {
  const N = 60_000
  let lake: HotLake
  let first: Awaited<ReturnType<HotLake['batch']>>
  let second: Awaited<ReturnType<HotLake['batch']>>

  beforeAll(async () => {
    lake = await HotLake.open()
    // Batch 1: a burst, 5 ms apart (all 60,000 within 5 minutes), and 60,000 profile updates.
    first = await lake.batch({
      orders: {
        source: 'guest-1.jsonl',
        rowsSql: `SELECT i, 'g1-' || i AS order_id, 'guest' AS customer_id, ${BASE_US} + i * 5000 AS ts_us FROM range(${N}) t(i)`
      },
      customers: { source: 'guest-profiles.jsonl', rowsSql: `SELECT i, 'guest' AS customer_id FROM range(${N}) t(i)` }
    })
    // Batch 2: 60,000 more in reversed time order, each within 10 minutes of all of batch 1,
    // and the profile again, now that customers holds it.
    second = await lake.batch({
      orders: {
        source: 'guest-2.jsonl',
        rowsSql: `SELECT i, 'g2-' || i AS order_id, 'guest' AS customer_id, ${BASE_US} + ${N} * 5000 + (${N} - i) * 5000 AS ts_us
          FROM range(${N}) t(i)`
      },
      customers: { source: 'guest-profiles-2.jsonl', rowsSql: `SELECT i, 'guest' AS customer_id FROM range(${N}) t(i)` }
    })
  })
  afterAll(() => lake?.close())

  it('counts velocity exactly: the k-th order of the burst has k, each reversed one all of batch 1 plus itself', async () => {
    expect(first.valid).toBe(N)
    expect(second.valid).toBe(N)
    expect(
      await lake.count(`SELECT count(*) FROM silver_orders WHERE batch_id = 1
        AND ${velocityN} IS DISTINCT FROM CASE WHEN split_part(order_id, '-', 2)::BIGINT + 1 >= 3 THEN split_part(order_id, '-', 2)::BIGINT + 1 END`)
    ).toBe(0)
    expect(await lake.count(`SELECT count(*) FROM silver_orders WHERE batch_id = 2 AND ${velocityN} IS DISTINCT FROM ${N + 1}`)).toBe(0)
    expect(await lake.count(`SELECT count(*) FROM customers WHERE customer_id = 'guest' AND name = 'Guest ${N - 1}'`)).toBe(1)
    expect(await lake.count(`SELECT count(*) FROM customers`)).toBe(1)
  })

  it('no operator of either batch produces more than a few rows per row read', () => {
    expectLinear(first.peaks, first.inputRows)
    expectLinear(second.peaks, second.inputRows)
  })
})

describe('one order_id sent 10,000 times per batch', () => {
  const N = 10_000
  let lake: HotLake
  let first: Awaited<ReturnType<HotLake['batch']>>
  let second: Awaited<ReturnType<HotLake['batch']>>
  const rows = (prefix: string) =>
    `SELECT i, CASE WHEN i % 2 = 0 THEN 'same' ELSE '${prefix}-' || i END AS order_id, 'c-' || (i % 7) AS customer_id,
      ${BASE_US} + i * 1000 AS ts_us FROM range(${2 * N}) t(i)`

  beforeAll(async () => {
    lake = await HotLake.open()
    first = await lake.batch({ orders: { source: 'dup-1.jsonl', rowsSql: rows('a') } })
    second = await lake.batch({ orders: { source: 'dup-2.jsonl', rowsSql: rows('b') } })
  })
  afterAll(() => lake?.close())

  it('keeps the first one and counts the others as duplicates', async () => {
    expect(first).toMatchObject({ valid: N + 1, duplicates: N - 1 })
    expect(second).toMatchObject({ valid: N, duplicates: N })
    expect(await lake.count(`SELECT count(*) FROM silver_orders WHERE order_id = 'same' AND batch_id = 1 AND source_position = 'byte 0'`)).toBe(1)
  })

  it('no operator of either batch produces more than a few rows per row read', () => {
    expectLinear(first.peaks, first.inputRows)
    expectLinear(second.peaks, second.inputRows)
  })
})
