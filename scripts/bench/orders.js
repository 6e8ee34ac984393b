// Fast, deterministic writer of generator-like input for `npm run bench` (a seeded PRNG, no
// faker): valid, unique orders per docs/EVENTS.md, about 500 bytes a line like the generator's.
//
//   import { OrderFactory, writeLines, writeLinesToSize } from './bench/orders.js'
//   const f = new OrderFactory({ seed: 1, idPrefix: 'a' })
//   writeLines(file, 10_000, () => f.next())      // → { lines, bytes }
import { closeSync, openSync, renameSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** mulberry32: a small, fast, seeded PRNG returning [0, 1). */
export function makeRandom(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pick = (rand, xs) => xs[Math.floor(rand() * xs.length)]

/** Weighted choice: entries [[value, weight], …] → () => value. */
function weighted(rand, entries) {
  const total = entries.reduce((s, [, w]) => s + w, 0)
  return () => {
    let x = rand() * total
    for (const [v, w] of entries) if ((x -= w) < 0) return v
    return entries[entries.length - 1][0]
  }
}

const BRANDS = ['Rau', 'Kassulke-Medhurst', 'Cole Labs', 'Rolfson', 'Boyle', 'Schulist & Sons', "O'Conner", 'Hettinger', 'Bergstrom', 'Nordic Line', 'Keebler', 'Walsh Home', 'Lind', 'Pacocha', 'Zieme']
const ADJECTIVES = ['Rugged', 'Nordic', 'Everyday', 'Merino', 'Slim Fit', 'Illustrated', 'Pro', 'Classic', 'Compact', 'Deluxe', 'Organic', 'Wireless']
const NOUNS = {
  Electronics: ['Headphones', 'Speaker', 'Smartwatch', 'Keyboard', 'Monitor'],
  'Phones & Accessories': ['USB-C Charger', 'Phone Case', 'Power Bank', 'Screen Protector'],
  'Home & Kitchen': ['Blender', 'Kettle', 'Cookware Set', 'Desk Lamp', 'Toaster'],
  Fashion: ['T-Shirt', 'Dress', 'Handbag', 'Sneakers', 'Jacket'],
  'Books & Media': ['Board Game', 'Cookbook', 'Novel', 'Vinyl Record'],
  'Toys & Baby': ['Building Blocks', 'Plush Bear', 'Stroller', 'Puzzle'],
  'Sports & Outdoors': ['Yoga Mat', 'Tent', 'Water Bottle', 'Running Shoes'],
  Beauty: ['Face Serum', 'Hair Dryer', 'Perfume', 'Lipstick']
}
const COLORS = ['Mint green', 'Teal', 'Indigo', 'Silver', 'Plum', 'Black', 'White', 'Sand', null, null, null]
const STATUSES = [['placed', 30], ['paid', 30], ['shipped', 18], ['completed', 15], ['cancelled', 4], ['refunded', 3]]
const PAYMENTS = [['credit_card', 45], ['debit_card', 15], ['paypal', 15], ['apple_pay', 8], ['google_pay', 6], ['bank_transfer', 4], ['gift_card', 3], ['klarna', 4]]
const CHANNELS = [['web', 55], ['mobile', 35], ['marketplace', 10]]
const COUNTRIES = [['US', 35], ['GB', 10], ['DE', 10], ['FR', 7], ['NL', 5], ['CA', 6], ['AU', 5], ['JP', 5], ['ES', 4], ['IT', 4], ['SE', 3], ['BR', 3], ['IN', 3]]
const CURRENCIES = [['USD', 70], ['EUR', 15], ['GBP', 8], ['CAD', 4], ['AUD', 3]]
const ITEM_COUNTS = [[1, 44], [2, 26], [3, 15], [4, 10], [5, 5]]
const QUANTITIES = [[1, 78], [2, 14], [3, 5], [4, 2], [5, 1]]

/** A fixed catalog of 3,000 products (same for every seed). */
function catalog() {
  const rand = makeRandom(20261124)
  const cats = Object.keys(NOUNS)
  const out = []
  for (let i = 0; i < 3000; i++) {
    const category = pick(rand, cats)
    const color = pick(rand, COLORS)
    const name = `${pick(rand, BRANDS)} ${pick(rand, ADJECTIVES)} ${pick(rand, NOUNS[category])}${color ? ` - ${color}` : ''}`
    const cents = 199 + Math.floor(rand() * rand() * 60000) // mostly cheap, a few up to ~600
    out.push({ product_id: `P${String(i).padStart(6, '0')}`, product_name: name, category, cents })
  }
  return out
}
const CATALOG = catalog()

/** 2026-11-24T00:00:00Z: event time of the first order unless told otherwise. */
export const BASE_MS = Date.UTC(2026, 10, 24)

export class OrderFactory {
  /**
   * @param {{ seed: number, idPrefix: string, startMs?: number, stepMs?: number,
   *           customers?: number, customerId?: (seq: number, rand: () => number) => string }} o
   * Order ids are `ord_<idPrefix><seq>`, so factories with different prefixes never collide.
   * order_ts starts at startMs and advances stepMs per order (ascending: nothing is late).
   * Customers: by default uniform over `customers` ids (200,000).
   */
  constructor(o) {
    this.rand = makeRandom(o.seed)
    this.prefix = o.idPrefix
    this.ts = o.startMs ?? BASE_MS
    this.step = o.stepMs ?? 1
    this.seq = 0
    const pool = o.customers ?? 200_000
    this.customerId = o.customerId ?? ((_seq, rand) => `cus_${Math.floor(rand() * pool).toString(16).padStart(12, '0')}`)
    const r = this.rand
    this.status = weighted(r, STATUSES)
    this.payment = weighted(r, PAYMENTS)
    this.channel = weighted(r, CHANNELS)
    this.country = weighted(r, COUNTRIES)
    this.currency = weighted(r, CURRENCIES)
    this.itemCount = weighted(r, ITEM_COUNTS)
    this.quantity = weighted(r, QUANTITIES)
  }

  /** The next order as one JSON line (without the newline). */
  next() {
    const r = this.rand
    const seq = this.seq++
    const n = this.itemCount()
    const items = []
    let cents = 0
    for (let i = 0; i < n; i++) {
      const p = CATALOG[Math.floor(r() * CATALOG.length)]
      const quantity = this.quantity()
      cents += p.cents * quantity
      items.push({ product_id: p.product_id, product_name: p.product_name, category: p.category, quantity, unit_price: p.cents / 100 })
    }
    const ship = this.country()
    const line = JSON.stringify({
      order_id: `ord_${this.prefix}${seq.toString(16).padStart(10, '0')}`,
      customer_id: this.customerId(seq, r),
      order_ts: new Date(this.ts).toISOString().replace('Z', '+00:00'),
      status: this.status(),
      currency: this.currency(),
      total_amount: cents / 100,
      items,
      payment_method: this.payment(),
      shipping_country: ship,
      billing_country: r() < 0.97 ? ship : this.country(),
      channel: this.channel()
    })
    this.ts += this.step
    return line
  }
}

/** A customer record line (per docs/EVENTS.md) for `customerId`. */
export function customerLine(customerId, rand) {
  const first = pick(rand, ['Ryleigh', 'Grady', 'Darian', 'Mina', 'Jonas', 'Aiko', 'Lena', 'Omar'])
  const last = pick(rand, ['Dooley', 'Runte', 'Schulist', 'Hettinger', 'Lind', 'Walsh'])
  return JSON.stringify({
    customer_id: customerId,
    name: `${first} ${last}`,
    email: `${first}.${last}${Math.floor(rand() * 1000)}@example.com`.toLowerCase(),
    signup_ts: new Date(BASE_MS - Math.floor(rand() * 3 * 365 * 864e5)).toISOString().replace('Z', '+00:00'),
    country: pick(rand, ['US', 'GB', 'DE', 'FR', 'NL']),
    segment: pick(rand, ['new', 'regular', 'regular', 'vip'])
  })
}

class ChunkedFile {
  constructor(file) {
    this.file = file
    this.tmp = join(dirname(file), `.${basename(file)}.tmp`)
    this.fd = openSync(this.tmp, 'w')
    this.buf = ''
    this.bytes = 0
    this.lines = 0
  }
  add(line) {
    this.buf += line + '\n'
    this.lines++
    if (this.buf.length >= 4 * 1024 * 1024) this.flush()
  }
  flush() {
    if (this.buf) this.bytes += writeSync(this.fd, this.buf)
    this.buf = ''
  }
  /** Written under a hidden temp name, renamed into place when complete. */
  close() {
    this.flush()
    closeSync(this.fd)
    renameSync(this.tmp, this.file)
    return { lines: this.lines, bytes: this.bytes }
  }
}

/** Writes `count` lines from `next()` into `file`. → { lines, bytes } */
export function writeLines(file, count, next) {
  const f = new ChunkedFile(file)
  for (let i = 0; i < count; i++) f.add(next())
  return f.close()
}

/** Writes lines from `next()` into `file` until it holds at least `bytes` bytes. → { lines, bytes } */
export function writeLinesToSize(file, bytes, next) {
  const f = new ChunkedFile(file)
  let approx = 0
  while (approx < bytes) {
    const line = next()
    f.add(line)
    approx += Buffer.byteLength(line) + 1
  }
  return f.close()
}
