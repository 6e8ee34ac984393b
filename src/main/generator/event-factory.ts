import type { CustomerEvent, OrderEvent, OrderItem, OrderStatus } from '../../shared/events'
import { DEFAULT_FX_RATES } from '../../shared/settings'
import { BasketBuilder, type Basket } from './basket'
import { DEFAULT_CATALOG_SEED, buildCatalog, type Catalog } from './catalog'
import { CustomerPool, type CustomerKind, type CustomerState } from './customers'
import { Rng, WeightedPicker, randomSeed } from './random'
import {
  LOCAL_CURRENCY,
  LOCAL_CURRENCY_SHARE,
  billingCountries,
  channelPicker,
  cleanStatusPicker,
  fraudChannelPicker,
  fraudPaymentPicker,
  paymentPicker,
  statusPicker
} from './reference-data'
import type { EventBatch } from './sink'
import { HOUR_MS, MINUTE_MS, isoTimestamp } from './time'
import { DEFAULT_FRAUD_RATE, DEFAULT_LATE_RATE } from './defaults'

// Produces OrderEvent / CustomerEvent objects. Everything random comes from one seeded Rng and
// every timestamp from the injected clock, so (seed, options, clock readings) fix the output.
//
// Fraud scenarios are designed against the engine's default rules (amount > 5000/3000/2000 →
// 4/3/2, cancelled/refunded +1, >= 3rd order within 10 min +2, signup < 24 h and amount > 1000
// +2, billing != shipping +1; alert at >= 3): every scenario order scores >= 3, and ordinary
// orders are kept at <= 2 (total <= 2000, <= 1000 for accounts younger than a day, never a 3rd
// order within 10 minutes), so the alert share tracks `fraudRate`. The engine compares amounts
// in the reporting currency (USD by default), so these bounds are in USD and an order in another
// currency gets its basket within them at the default rates.

export const FRAUD_SCENARIOS = ['high_amount', 'burst', 'new_account', 'country_mismatch'] as const
export type FraudScenario = (typeof FRAUD_SCENARIOS)[number]

export interface FactoryOptions {
  /** Same seed + same options + same clock readings → identical events. null/undefined: random. */
  seed?: number | null
  /** Share of orders that belong to a fraud scenario (0..1), default 0.03. */
  fraudRate?: number
  /** Share of orders whose order_ts is 11-30 minutes in the past (0..1), default 0.005. */
  lateRate?: number
  /** Clock in epoch ms; read once per order. Default Date.now. */
  now?: () => number
  /** Catalog seed; default: the seed, or a fixed catalog seed for unseeded runs. */
  catalogSeed?: number
}

export interface FactoryStats {
  orders: number
  customers: number
  late: number
  /** Orders produced by each fraud scenario. */
  fraud: Record<FraudScenario, number>
}

export { DEFAULT_FRAUD_RATE, DEFAULT_LATE_RATE }

/** Relative frequency of scenario starts (a burst start yields 3-6 orders). */
const SCENARIO_WEIGHTS: Record<FraudScenario, number> = {
  high_amount: 0.4,
  burst: 0.12,
  new_account: 0.28,
  country_mismatch: 0.2
}
const BURST_MIN = 3
const BURST_MAX = 6
const ORDERS_PER_START: Record<FraudScenario, number> = {
  high_amount: 1,
  burst: (BURST_MIN + BURST_MAX) / 2,
  new_account: 1,
  country_mismatch: 1
}
/** Expected fraud orders per scenario start. */
const FRAUD_ORDERS_PER_START = FRAUD_SCENARIOS.reduce((s, k) => s + SCENARIO_WEIGHTS[k] * ORDERS_PER_START[k], 0)

/** Share of ordinary orders placed by a customer the stream has not seen yet. */
const NEW_CUSTOMER_SHARE = 0.18
const newCustomerKind = new WeightedPicker<CustomerKind>(['fresh', 'recent', 'established'], [25, 25, 50])
/** Ordinary orders shipped abroad (billing != shipping, +1 only). */
const GIFT_ABROAD_SHARE = 0.015

const CENTS = 100

/** USD per unit of an order's currency, as the engine converts by default. */
const usdPer = (currency: string): number => (currency === 'USD' ? 1 : (DEFAULT_FX_RATES[currency] ?? 1))
/** The most cents of `currency` worth at most `usdCents` once converted and rounded to cents. */
const atMost = (usdCents: number, currency: string): number => Math.floor(usdCents / usdPer(currency))
/** Cents of `currency` above which every total is worth more than `usdCents` once converted. */
const above = (usdCents: number, currency: string): number => Math.ceil((usdCents + 1) / usdPer(currency))

const NORMAL_CAP = 2000 * CENTS
const FRESH_CAP = 1000 * CENTS
/** Margins around the engine's 10-minute and 24-hour rule windows. */
const VELOCITY_GUARD_MS = 11 * MINUTE_MS
const FRESH_GUARD_MS = 26 * HOUR_MS

interface Burst {
  due: number
  seq: number
  customer: CustomerState
  billing: string
  /** Orders emitted so far. */
  done: number
  size: number
}

/** Min-heap of active bursts by next due time. */
class BurstQueue {
  private readonly heap: Burst[] = []
  get size(): number {
    return this.heap.length
  }
  peek(): Burst | undefined {
    return this.heap[0]
  }
  private less(a: Burst, b: Burst): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq)
  }
  push(b: Burst): void {
    const h = this.heap
    h.push(b)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(h[i], h[parent])) break
      ;[h[i], h[parent]] = [h[parent], h[i]]
      i = parent
    }
  }
  pop(): Burst | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.less(h[l], h[m])) m = l
        if (r < h.length && this.less(h[r], h[m])) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m], h[i]]
        i = m
      }
    }
    return top
  }
}

function checkShare(name: string, v: number): number {
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${v}`)
  return v
}

export class EventFactory {
  readonly seed: number
  readonly catalog: Catalog
  readonly fraudRate: number
  readonly lateRate: number
  readonly stats: FactoryStats = {
    orders: 0,
    customers: 0,
    late: 0,
    fraud: { high_amount: 0, burst: 0, new_account: 0, country_mismatch: 0 }
  }

  private readonly rng: Rng
  private readonly now: () => number
  private readonly pool: CustomerPool
  private readonly baskets: BasketBuilder
  private readonly scenarioPicker = WeightedPicker.of(SCENARIO_WEIGHTS)
  private readonly bursts = new BurstQueue()
  /** Probability that a fresh order slot starts a fraud scenario. */
  private readonly startProbability: number
  private burstSeq = 0

  constructor(options: FactoryOptions = {}) {
    this.seed = options.seed ?? randomSeed()
    this.fraudRate = checkShare('fraudRate', options.fraudRate ?? DEFAULT_FRAUD_RATE)
    this.lateRate = checkShare('lateRate', options.lateRate ?? DEFAULT_LATE_RATE)
    this.now = options.now ?? Date.now
    this.catalog = buildCatalog(options.catalogSeed ?? (options.seed ?? DEFAULT_CATALOG_SEED))
    this.rng = new Rng(this.seed)
    this.pool = new CustomerPool(this.rng, this.catalog)
    this.baskets = new BasketBuilder(this.rng, this.catalog)
    // Scenario starts happen at probability q per fresh slot; bursts occupy extra slots. For the
    // fraud share of all orders to equal r: q = r / (F (1 - r) + r), F = fraud orders per start.
    const r = this.fraudRate
    this.startProbability = r === 0 ? 0 : r / (FRAUD_ORDERS_PER_START * (1 - r) + r)
  }

  /** Appends the next order to `batch` (after its customer's record when the customer is new). */
  next(batch: EventBatch): void {
    const ts = Math.floor(this.now())
    const due = this.bursts.peek()
    if (due && due.due <= ts) {
      this.burstOrder(batch, ts)
      return
    }
    const rng = this.rng
    if (this.startProbability > 0 && rng.chance(this.startProbability)) {
      const scenario = this.scenarioPicker.pick(rng)
      switch (scenario) {
        case 'high_amount':
          this.highAmount(batch, ts)
          return
        case 'burst':
          this.startBurst(batch, ts)
          return
        case 'new_account':
          this.newAccount(batch, ts)
          return
        case 'country_mismatch':
          this.countryMismatch(batch, ts)
          return
      }
    }
    if (this.lateRate > 0 && rng.chance(this.lateRate)) {
      const lateTs = ts - Math.floor(rng.between(11 * MINUTE_MS, 30 * MINUTE_MS))
      this.stats.late++
      const customer = this.newCustomer(batch, 'established', lateTs)
      this.ordinary(batch, customer, lateTs)
      return
    }
    this.ordinary(batch, this.customerForOrdinary(batch, ts), ts)
  }

  /** Convenience for tests and tools: `n` orders (and their new customers) as one batch. */
  take(n: number): EventBatch {
    const batch: EventBatch = { orders: [], customers: [] }
    for (let i = 0; i < n; i++) this.next(batch)
    return batch
  }

  // --- customers ---------------------------------------------------------------------------

  private newCustomer(batch: EventBatch, kind: CustomerKind, orderTs: number, country?: string): CustomerState {
    const { state, event } = this.pool.create(kind, orderTs, country)
    this.emitCustomer(batch, event)
    return state
  }

  private emitCustomer(batch: EventBatch, event: CustomerEvent): void {
    batch.customers.push(event)
    this.stats.customers++
  }

  private customerForOrdinary(batch: EventBatch, ts: number): CustomerState {
    const rng = this.rng
    if (this.pool.size >= 20 && !rng.chance(NEW_CUSTOMER_SHARE)) {
      for (let tries = 0; tries < 4; tries++) {
        const c = this.pool.pickReturning()!
        // Never make an ordinary order a customer's 3rd within the velocity window.
        if (c.last2 <= ts - VELOCITY_GUARD_MS) return c
      }
    }
    return this.newCustomer(batch, newCustomerKind.pick(rng), ts)
  }

  /** A customer for a fraud order: usually a known one, else a new established account. */
  private customerForFraud(batch: EventBatch, ts: number): CustomerState {
    if (this.pool.size >= 20 && this.rng.chance(0.6)) return this.pool.pickReturning()!
    return this.newCustomer(batch, 'established', ts)
  }

  // --- orders -----------------------------------------------------------------------------

  private currencyFor(shipping: string): string {
    const local = LOCAL_CURRENCY[shipping]
    return local !== undefined && this.rng.chance(LOCAL_CURRENCY_SHARE) ? local : 'USD'
  }

  private otherCountry(country: string): string {
    for (;;) {
      const c = this.rng.pick(billingCountries)
      if (c !== country) return c
    }
  }

  private emitOrder(
    batch: EventBatch,
    customer: CustomerState,
    ts: number,
    basket: Basket,
    status: OrderStatus,
    shipping: string,
    billing: string,
    fraud: boolean,
    currency: string
  ): void {
    const rng = this.rng
    const items: OrderItem[] = basket.items
    const order: OrderEvent = {
      order_id: `ord_${rng.hex(8)}`,
      customer_id: customer.id,
      order_ts: isoTimestamp(ts),
      status,
      currency,
      total_amount: basket.totalCents / CENTS,
      items,
      payment_method: (fraud ? fraudPaymentPicker : paymentPicker).pick(rng),
      shipping_country: shipping,
      billing_country: billing,
      channel: (fraud ? fraudChannelPicker : channelPicker).pick(rng)
    }
    batch.orders.push(order)
    this.pool.recordOrder(customer, ts)
    this.stats.orders++
  }

  private ordinary(batch: EventBatch, customer: CustomerState, ts: number): void {
    const rng = this.rng
    const cap = customer.signupMs > ts - FRESH_GUARD_MS ? FRESH_CAP : NORMAL_CAP
    let shipping = customer.country
    if (rng.chance(GIFT_ABROAD_SHARE)) shipping = this.otherCountry(customer.country)
    const currency = this.currencyFor(shipping)
    const basket = this.baskets.everyday(atMost(cap, currency))
    this.emitOrder(batch, customer, ts, basket, statusPicker.pick(rng), shipping, customer.country, false, currency)
  }

  /** > 5000 (score 4), > 3000 (3), or > 2000 plus cancelled/refunded or a foreign card (3). */
  private highAmount(batch: EventBatch, ts: number): void {
    const rng = this.rng
    const customer = this.customerForFraud(batch, ts)
    const tier = rng.float()
    const currency = this.currencyFor(customer.country)
    const within = (lo: number, hi: number) => this.baskets.inRange(above(lo * CENTS, currency), atMost(hi * CENTS, currency), 5)
    let basket: Basket
    let status = cleanStatusPicker.pick(rng)
    let billing = customer.country
    if (tier < 0.4) {
      basket = within(5000, Math.floor(rng.between(5600, 15_000)))
    } else if (tier < 0.75) {
      basket = within(3000, 5000)
    } else {
      basket = within(2000, 3000)
      if (rng.chance(0.5)) status = rng.chance(0.6) ? 'cancelled' : 'refunded'
      else billing = this.otherCountry(customer.country)
    }
    this.stats.fraud.high_amount++
    this.emitOrder(batch, customer, ts, basket, status, customer.country, billing, true, currency)
  }

  /** A brand-new account placing a large order: > 1000 (+2) plus a foreign card, a cancel, or > 2000. */
  private newAccount(batch: EventBatch, ts: number): void {
    const rng = this.rng
    const customer = this.newCustomer(batch, 'fresh', ts)
    const kind = rng.float()
    const currency = this.currencyFor(customer.country)
    const within = (lo: number, hi: number) => this.baskets.inRange(above(lo * CENTS, currency), atMost(hi * CENTS, currency))
    let basket: Basket
    let status = cleanStatusPicker.pick(rng)
    let billing = customer.country
    if (kind < 0.5) {
      basket = within(1000, 2000)
      billing = this.otherCountry(customer.country)
    } else if (kind < 0.75) {
      basket = within(1000, 2000)
      status = rng.chance(0.6) ? 'cancelled' : 'refunded'
    } else {
      basket = within(2000, 3000)
    }
    this.stats.fraud.new_account++
    this.emitOrder(batch, customer, ts, basket, status, customer.country, billing, true, currency)
  }

  /** Billing country differs from shipping (+1) on an order over 2000 (+2). */
  private countryMismatch(batch: EventBatch, ts: number): void {
    const rng = this.rng
    const customer = this.customerForFraud(batch, ts)
    const shipping = rng.chance(0.3) ? this.otherCountry(customer.country) : customer.country
    const billing = this.otherCountry(shipping)
    const currency = this.currencyFor(shipping)
    const basket = this.baskets.inRange(above(2000 * CENTS, currency), atMost(3000 * CENTS, currency))
    this.stats.fraud.country_mismatch++
    this.emitOrder(batch, customer, ts, basket, cleanStatusPicker.pick(rng), shipping, billing, true, currency)
  }

  /**
   * 3-6 orders from one customer with a foreign card, 5-25 s apart (all within ~2 minutes).
   * Orders 1-2 are > 2000 (+2, +1 card); from the 3rd on velocity (+2) and the card (+1).
   */
  private startBurst(batch: EventBatch, ts: number): void {
    const rng = this.rng
    const customer = this.customerForFraud(batch, ts)
    const burst: Burst = {
      due: ts,
      seq: this.burstSeq++,
      customer,
      billing: this.otherCountry(customer.country),
      done: 0,
      size: rng.intBetween(BURST_MIN, BURST_MAX)
    }
    this.bursts.push(burst)
    this.burstOrder(batch, ts)
  }

  private burstOrder(batch: EventBatch, ts: number): void {
    const rng = this.rng
    const burst = this.bursts.pop()!
    const currency = this.currencyFor(burst.customer.country)
    const basket =
      burst.done < 2
        ? this.baskets.inRange(above(2000 * CENTS, currency), atMost(3500 * CENTS, currency))
        : this.baskets.inRange(above(100 * CENTS, currency), atMost(1500 * CENTS, currency))
    burst.done++
    this.stats.fraud.burst++
    this.emitOrder(batch, burst.customer, ts, basket, cleanStatusPicker.pick(rng), burst.customer.country, burst.billing, true, currency)
    if (burst.done < burst.size) {
      burst.due = ts + Math.floor(rng.between(5_000, 25_000))
      this.bursts.push(burst)
    }
  }
}

