import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  appendRaw,
  cleanupTempDirs,
  customer,
  makeWorkspace,
  order,
  queries,
  runPipeline,
  sq,
  ts,
  type Row,
  type Workspace
} from '../support/lake-fixtures'

// Every kind of bad input goes to quarantine with a readable reason, its raw text and its
// source/byte_offset; the engine never stops; bronze holds every non-blank line exactly once at
// its true byte offset. Each file is ingested two ways: as a whole file (DuckDB reads it) and as
// an appended tail (the folder source reads the bytes in JavaScript).

afterAll(cleanupTempDirs)

type Expect = 'valid' | 'blank' | RegExp

interface Entry {
  label: string
  line: string | Buffer
  expect: Expect
  /** order_id / customer_id of a valid line */
  id?: string
}

const MiB = 1024 * 1024
const j = (o: unknown) => JSON.stringify(o)

/** A valid order whose JSON line is exactly `bytes` long (ASCII padding in payment_method). */
function orderOfLength(id: string, bytes: number): string {
  const base = j(order({ order_id: id, payment_method: '' }))
  const line = j(order({ order_id: id, payment_method: 'x'.repeat(bytes - base.length) }))
  if (Buffer.byteLength(line) !== bytes) throw new Error('bad padding')
  return line
}

function valid(id: string, over: Record<string, unknown> = {}): Entry {
  return { label: `valid ${id}`, line: j(order({ order_id: id, ...over })), expect: 'valid', id }
}

function bad(label: string, o: unknown, reason: RegExp): Entry {
  return { label, line: typeof o === 'string' ? o : j(o), expect: reason }
}

const withoutField = (field: string) => {
  const o = order()
  delete o[field]
  return o
}

const item = (over: Record<string, unknown> = {}) => ({
  product_id: 'p-1',
  product_name: 'Widget',
  category: 'Home',
  quantity: 1,
  unit_price: 25,
  ...over
})

const ORDER_ENTRIES: Entry[] = [
  { label: 'blank at start', line: '', expect: 'blank' },
  valid('ok-1'),
  bad('malformed JSON', '{"order_id": "m1", "customer_id": ', /malformed JSON/i),
  bad('not JSON at all', 'hello world', /malformed JSON/i),
  bad('JSON array', '[1, 2, 3]', /not a JSON object.*array/i),
  bad('JSON string', '"an order"', /not a JSON object/i),
  bad('JSON null', 'null', /not a JSON object/i),
  bad('JSON number', '42', /not a JSON object/i),
  { label: 'blank', line: '', expect: 'blank' },
  { label: 'blank 2', line: '', expect: 'blank' },
  ...['order_id', 'customer_id', 'order_ts', 'status', 'currency', 'total_amount', 'items', 'payment_method', 'shipping_country', 'billing_country', 'channel'].map(
    (f) => bad(`missing ${f}`, withoutField(f), new RegExp(`missing field ${f}`))
  ),
  bad('explicit null customer_id', order({ customer_id: null }), /customer_id/),
  bad('explicit null total_amount', order({ total_amount: null, items: [item()] }), /total_amount/),
  bad('total_amount as string', order({ total_amount: '25.00', items: [item()] }), /wrong type for total_amount.*number/),
  bad('order_id as number', order({ order_id: 12345 }), /wrong type for order_id.*string/),
  bad('items as object', order({ items: { a: 1 }, total_amount: 25 }), /wrong type for items.*array/),
  bad('status as number', order({ status: 1 }), /wrong type for status.*string/),
  bad('empty order_id', order({ order_id: '' }), /order_id is empty/),
  bad('negative amount', order({ total_amount: -5, items: [item({ unit_price: 5 })] }), /negative amount/),
  bad('unknown status', order({ status: 'lost' }), /unknown status: lost/),
  bad('currency of 4 letters', order({ currency: 'EURO' }), /currency.*EURO/),
  bad('currency with digits', order({ currency: 'E1R' }), /currency/),
  bad('shipping country of 3 letters', order({ shipping_country: 'DEU' }), /shipping_country.*DEU/),
  bad('billing country name', order({ billing_country: 'Germany' }), /billing_country.*Germany/),
  bad('unknown channel', order({ channel: 'fax' }), /unknown channel: fax/),
  bad('items empty', order({ items: [], total_amount: 0 }), /items is empty/),
  bad('item quantity 0', order({ items: [item({ quantity: 0 })], total_amount: 0 }), /items\[0\]\.quantity must be at least 1/),
  bad('second item quantity -1', order({ items: [item(), item({ quantity: -1 })], total_amount: 0 }), /items\[1\]\.quantity/),
  bad('item quantity 1.5', order({ items: [item({ quantity: 1.5 })], total_amount: 37.5 }), /items\[0\]\.quantity.*integer/),
  bad('item not an object', order({ items: [1], total_amount: 25 }), /items.*object/),
  bad('item a string', order({ items: ['widget'], total_amount: 25 }), /items.*object/),
  bad('item null', order({ items: [null], total_amount: 25 }), /items.*object/),
  bad('item without unit_price', order({ items: [{ product_id: 'p', product_name: 'n', category: 'c', quantity: 1 }], total_amount: 25 }), /items\[0\] is missing unit_price/),
  bad('item with negative price', order({ items: [item({ unit_price: -1 })], total_amount: 0 }), /items\[0\]\.unit_price is negative/),
  bad('total above items by 0.02', order({ items: [item({ unit_price: 25 })], total_amount: 25.02 }), /total differs from the sum of items/),
  bad('total below items by 0.02', order({ items: [item({ unit_price: 10, quantity: 3 })], total_amount: 29.98 }), /total differs from the sum of items/),
  valid('total-plus-0.01', { items: [item({ unit_price: 25 })], total_amount: 25.01 }),
  valid('total-minus-0.01', { items: [item({ unit_price: 10.1, quantity: 3 })], total_amount: 30.29 }),
  valid('two-items', { items: [item({ unit_price: 19.99, quantity: 3 }), item({ unit_price: 0.03 })], total_amount: 60 }),
  bad('order_ts without offset', order({ order_ts: '2024-03-01T12:00:00' }), /order_ts.*offset/),
  bad('order_ts date only', order({ order_ts: '2024-03-01' }), /order_ts/),
  bad('order_ts not a date', order({ order_ts: 'yesterday' }), /order_ts/),
  bad('order_ts impossible date', order({ order_ts: '2024-02-30T12:00:00Z' }), /order_ts/),
  bad('order_ts as epoch number', order({ order_ts: 1709294400000 }), /wrong type for order_ts/),
  valid('ts-offset', { order_ts: '2024-03-01T14:00:00.123+02:00' }),
  valid('ts-space', { order_ts: '2024-03-01 12:00:00Z' }),
  valid('upper-case', { status: 'PAID', channel: 'MOBILE', currency: 'usd', shipping_country: 'de', billing_country: 'de' }),
  valid('unicode', { payment_method: 'carte bancaire — «crédit» 💳' }),
  { label: 'exactly 1 MiB', line: orderOfLength('exactly-1MiB', MiB), expect: 'valid', id: 'exactly-1MiB' },
  { label: '1 MiB + 1 byte', line: orderOfLength('over-1MiB', MiB + 1), expect: /over 1 MiB/ },
  { label: '1.5 MiB of garbage', line: 'z'.repeat(1.5 * MiB), expect: /over 1 MiB/ },
  valid('ok-last'),
  { label: 'blank at end', line: '', expect: 'blank' }
]

const CUSTOMER_ENTRIES: Entry[] = [
  { label: 'valid c-ok', line: j(customer({ customer_id: 'c-ok' })), expect: 'valid', id: 'c-ok' },
  { label: 'segment gold', line: j(customer({ customer_id: 'c-gold', segment: 'gold' })), expect: /unknown segment: gold/ },
  { label: 'signup without offset', line: j(customer({ customer_id: 'c-ts', signup_ts: '2024-01-01T00:00:00' })), expect: /signup_ts.*offset/ },
  { label: 'missing email', line: j({ ...customer({ customer_id: 'c-noemail' }), email: undefined }), expect: /missing field email/ },
  { label: 'null name', line: j(customer({ customer_id: 'c-nullname', name: null })), expect: /name/ },
  { label: 'country name', line: j(customer({ customer_id: 'c-country', country: 'Germany' })), expect: /country.*Germany/ },
  { label: 'customer_id as number', line: j(customer({ customer_id: 7 })), expect: /wrong type for customer_id/ },
  { label: 'malformed', line: '{"customer_id": "c-x"', expect: /malformed JSON/ },
  { label: 'blank', line: '', expect: 'blank' },
  { label: 'array', line: '[]', expect: /not a JSON object/ },
  { label: 'valid c-VIP', line: j(customer({ customer_id: 'c-vip', segment: 'VIP' })), expect: 'valid', id: 'c-vip' }
]

/** Special bytes, each in its own file so the other files keep DuckDB's whole-file read. */
const ODD_FILES: Record<string, { eol?: string; entries: Entry[] }> = {
  'invalid-utf8.jsonl': {
    entries: [
      valid('utf8-before'),
      {
        label: 'invalid UTF-8 bytes',
        line: Buffer.concat([Buffer.from('{"order_id":"bad-utf8","payment_method":"caf'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]),
        expect: /UTF-8/i
      },
      {
        label: 'overlong encoding',
        line: Buffer.concat([Buffer.from(j(order({ order_id: 'overlong' })).slice(0, -1) + ',"x":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
        expect: /UTF-8/i
      },
      valid('utf8-after')
    ]
  },
  'nul-byte.jsonl': {
    entries: [
      valid('nul-before'),
      { label: 'NUL inside a line', line: Buffer.from(j(order({ order_id: 'nul-inside' })).replace('"card"', '"ca\u0000rd"')), expect: /NUL|malformed|control/i },
      { label: 'NUL between fields', line: Buffer.from(j(order({ order_id: 'nul-between' })).replace(',"status"', ',\u0000"status"')), expect: /NUL|malformed|control/i },
      valid('nul-after')
    ]
  },
  'crlf.jsonl': {
    eol: '\r\n',
    entries: [
      valid('crlf-1'),
      valid('crlf-2', { status: 'shipped' }),
      { label: 'blank CRLF line', line: '', expect: 'blank' },
      bad('bad status with CRLF', order({ order_id: 'crlf-bad', status: 'teleported' }), /unknown status: teleported/),
      valid('crlf-3')
    ]
  },
  'blank-only.jsonl': {
    entries: [
      { label: 'blank 1', line: '', expect: 'blank' },
      { label: 'blank 2', line: '', expect: 'blank' },
      { label: 'blank 3', line: '', expect: 'blank' }
    ]
  }
}

interface Placed extends Entry {
  path: string
  offset: number
  bytes: Buffer
}

function layout(path: string, entries: Entry[], eol = '\n'): { buf: Buffer; placed: Placed[] } {
  const parts: Buffer[] = []
  const placed: Placed[] = []
  let offset = 0
  for (const e of entries) {
    const bytes = Buffer.isBuffer(e.line) ? e.line : Buffer.from(e.line, 'utf8')
    placed.push({ ...e, path, offset, bytes })
    parts.push(bytes, Buffer.from(eol))
    offset += bytes.length + Buffer.byteLength(eol)
  }
  return { buf: Buffer.concat(parts), placed }
}

const stripCr = (s: string) => (s.endsWith('\r') ? s.slice(0, -1) : s)

type Mode = 'whole file' | 'appended tail'

async function ingest(ws: Workspace, mode: Mode): Promise<{ orders: Placed[]; customers: Placed[] }> {
  const files: { path: string; stream: 'orders' | 'customers'; entries: Entry[]; eol?: string }[] = [
    { path: ws.orders('main.jsonl'), stream: 'orders', entries: ORDER_ENTRIES },
    { path: ws.customers('customers.jsonl'), stream: 'customers', entries: CUSTOMER_ENTRIES },
    ...Object.entries(ODD_FILES).map(([name, f]) => ({ path: ws.orders(name), stream: 'orders' as const, ...f }))
  ]
  const out = { orders: [] as Placed[], customers: [] as Placed[] }
  const laid = files.map((f) => {
    const head: Entry[] =
      mode === 'appended tail'
        ? [
            f.stream === 'orders'
              ? valid(`head-${f.path.split('/').pop()}`)
              : { label: 'head', line: j(customer({ customer_id: 'c-head' })), expect: 'valid' as const, id: 'c-head' }
          ]
        : []
    const { buf, placed } = layout(f.path, [...head, ...f.entries], f.eol)
    out[f.stream].push(...placed)
    return { ...f, buf, headEnd: head.length ? placed[1].offset : 0 }
  })
  if (mode === 'whole file') {
    for (const f of laid) writeFileSync(f.path, f.buf)
  } else {
    for (const f of laid) writeFileSync(f.path, f.buf.subarray(0, f.headEnd))
    await runPipeline(ws)
    for (const f of laid) appendRaw(f.path, f.buf.subarray(f.headEnd))
  }
  await runPipeline(ws)
  return out
}

for (const mode of ['whole file', 'appended tail'] as const) {
  describe(`bad input, read as ${mode}`, () => {
    let ws: Workspace
    let placed: { orders: Placed[]; customers: Placed[] }
    let r: Record<'quarantine' | 'bronzeOrders' | 'bronzeCustomers' | 'silver' | 'customers' | 'batches', Row[]>

    beforeAll(async () => {
      ws = makeWorkspace()
      placed = await ingest(ws, mode)
      r = await queries(ws.lake, {
        quarantine: `SELECT kind, source, byte_offset, reason, raw FROM quarantine`,
        bronzeOrders: `SELECT source, byte_offset, raw FROM bronze_orders`,
        bronzeCustomers: `SELECT source, byte_offset, raw FROM bronze_customers`,
        silver: `SELECT order_id, source, source_position FROM silver_orders`,
        customers: `SELECT customer_id, segment FROM customers`,
        batches: `SELECT sum(rows_read)::BIGINT AS rows_read, sum(quarantined)::BIGINT AS quarantined, sum(valid)::BIGINT AS valid FROM batches`
      })
    })

    const key = (source: unknown, offset: unknown) => `${source}@${offset}`

    function check(stream: 'orders' | 'customers', p: Placed): void {
      const bronze = stream === 'orders' ? r.bronzeOrders : r.bronzeCustomers
      const atOffset = bronze.filter((b) => b.source === p.path && b.byte_offset === p.offset)
      const q = r.quarantine.filter((x) => x.source === p.path && x.byte_offset === p.offset)
      const text = p.bytes.toString('utf8')
      if (p.expect === 'blank') {
        expect(atOffset, `${p.label}: blank line must not be in bronze`).toEqual([])
        expect(q, `${p.label}: blank line must not be quarantined`).toEqual([])
        return
      }
      expect(atOffset, `${p.label}: exactly one bronze row at byte ${p.offset}`).toHaveLength(1)
      expect(stripCr(atOffset[0].raw as string), `${p.label}: bronze raw`).toBe(text)
      if (p.expect === 'valid') {
        expect(q, `${p.label}: must not be quarantined (reason: ${q[0]?.reason})`).toEqual([])
        if (stream === 'orders') expect(r.silver.some((s) => s.order_id === p.id), `${p.label}: in silver`).toBe(true)
        else expect(r.customers.some((c) => c.customer_id === p.id), `${p.label}: in customers`).toBe(true)
      } else {
        expect(q, `${p.label}: one quarantine row at byte ${p.offset}`).toHaveLength(1)
        expect(q[0].kind).toBe(stream === 'orders' ? 'order' : 'customer')
        expect(q[0].reason as string, `${p.label}: reason`).toMatch(p.expect)
        expect(stripCr(q[0].raw as string), `${p.label}: quarantine raw`).toBe(text)
      }
    }

    for (const e of ORDER_ENTRIES) it(`orders/main.jsonl: ${e.label}`, () => placed.orders.filter((p) => p.label === e.label).forEach((p) => check('orders', p)))
    for (const e of CUSTOMER_ENTRIES) it(`customers: ${e.label}`, () => placed.customers.filter((p) => p.label === e.label).forEach((p) => check('customers', p)))
    for (const [name, f] of Object.entries(ODD_FILES)) {
      for (const e of f.entries) {
        it(`orders/${name}: ${e.label}`, () =>
          placed.orders.filter((p) => p.label === e.label && p.path.endsWith(name)).forEach((p) => check('orders', p)))
      }
    }

    it('holds every non-blank line exactly once in bronze, at its true byte offset', () => {
      for (const [stream, rows] of [['orders', r.bronzeOrders], ['customers', r.bronzeCustomers]] as const) {
        const expected = placed[stream].filter((p) => p.expect !== 'blank')
        expect(rows.length, `bronze ${stream} rows`).toBe(expected.length)
        const keys = rows.map((b) => key(b.source, b.byte_offset))
        expect(new Set(keys).size, `no (source, byte_offset) twice in bronze ${stream}`).toBe(keys.length)
        // read the file at each recorded offset: the line there is the raw text
        const files = new Map<string, Buffer>()
        for (const b of rows) {
          const path = b.source as string
          if (!files.has(path)) files.set(path, readFileSync(path))
          const buf = files.get(path)!
          const offset = b.byte_offset as number
          expect(offset === 0 || buf[offset - 1] === 10, `${path}@${offset} starts a line`).toBe(true)
          let end = buf.indexOf(10, offset)
          if (end < 0) end = buf.length
          expect(stripCr(buf.subarray(offset, end).toString('utf8'))).toBe(stripCr(b.raw as string))
        }
      }
    })

    it('quarantines nothing else and counts it in batches', () => {
      const bad = [...placed.orders, ...placed.customers].filter((p) => p.expect instanceof RegExp)
      expect(r.quarantine.map((q) => key(q.source, q.byte_offset)).sort()).toEqual(bad.map((p) => key(p.path, p.offset)).sort())
      const validOrders = placed.orders.filter((p) => p.expect === 'valid')
      expect(r.silver.map((s) => s.order_id).sort()).toEqual(validOrders.map((p) => p.id).sort())
      expect(r.batches[0]).toEqual({
        rows_read: r.bronzeOrders.length + r.bronzeCustomers.length,
        quarantined: bad.length,
        valid: validOrders.length
      })
    })

    it('records the byte position of every silver order', () => {
      for (const s of r.silver) {
        const p = placed.orders.find((x) => x.id === s.order_id)!
        expect(s.source).toBe(p.path)
        expect(s.source_position).toBe(`byte ${p.offset}`)
      }
    })

    it('keeps running after bad input: later files are still ingested', async () => {
      writeFileSync(ws.orders('zz-after.jsonl'), j(order({ order_id: 'after-bad-input' })) + '\n')
      await runPipeline(ws)
      const rows = await queries(ws.lake, { s: `SELECT count(*) AS n FROM silver_orders WHERE order_id = ${sq('after-bad-input')}` })
      expect(rows.s[0].n).toBe(1)
    })
  })
}

describe('a line longer than the whole-file reader allows', () => {
  it('quarantines a 9 MiB line and ingests its neighbours', async () => {
    const ws = makeWorkspace()
    const path = ws.orders('huge.jsonl')
    const before = j(order({ order_id: 'huge-before' }))
    const huge = orderOfLength('huge', 9 * MiB)
    const after = j(order({ order_id: 'huge-after' }))
    writeFileSync(path, `${before}\n${huge}\n${after}\n`)
    await runPipeline(ws)
    const r = await queries(ws.lake, {
      q: `SELECT byte_offset, reason, strlen(raw) AS len FROM quarantine`,
      s: `SELECT order_id FROM silver_orders ORDER BY order_id`,
      b: `SELECT byte_offset, strlen(raw) AS len FROM bronze_orders ORDER BY byte_offset`
    })
    expect(r.s.map((x) => x.order_id)).toEqual(['huge-after', 'huge-before'])
    expect(r.q).toHaveLength(1)
    expect(r.q[0]).toMatchObject({ byte_offset: before.length + 1, len: 9 * MiB })
    expect(r.q[0].reason).toMatch(/over 1 MiB/)
    expect(r.b).toEqual([
      { byte_offset: 0, len: before.length },
      { byte_offset: before.length + 1, len: 9 * MiB },
      { byte_offset: before.length + 1 + 9 * MiB + 1, len: after.length }
    ])
  })
})

describe('timestamps in silver', () => {
  it('stores order_ts as the instant written, whatever the offset', async () => {
    const ws = makeWorkspace()
    writeFileSync(
      ws.orders('ts.jsonl'),
      [
        order({ order_id: 'z', order_ts: ts(0) }),
        order({ order_id: 'plus2', order_ts: '2024-03-01T14:00:00+02:00' }),
        order({ order_id: 'minus0530', order_ts: '2024-03-01T06:30:00-05:30' })
      ]
        .map(j)
        .join('\n') + '\n'
    )
    await runPipeline(ws)
    const r = await queries(ws.lake, { s: `SELECT order_id, epoch_ms(order_ts) AS ms, order_hour FROM silver_orders` })
    for (const row of r.s) expect(row, String(row.order_id)).toMatchObject({ ms: Date.parse(ts(0)), order_hour: 12 })
  })
})
