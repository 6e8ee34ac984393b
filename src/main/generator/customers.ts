import type { CustomerEvent, Segment } from '../../shared/events'
import type { Catalog } from './catalog'
import { countryPicker } from './reference-data'
import type { Rng } from './random'
import { DAY_MS, HOUR_MS, MINUTE_MS, isoTimestamp } from './time'

// The customers the generator knows about. New customers get a CustomerEvent (emitted before
// their first order); returning customers are picked from the pool and reuse their ids.

export interface CustomerState {
  id: string
  country: string
  signupMs: number
  segment: Segment
  /** Times (ms) of this customer's two most recent orders, newest first; -Infinity if none. */
  last1: number
  last2: number
}

/**
 * fresh: signed up minutes to hours ago (segment new); recent: 1-30 days ago (new);
 * established: 30 days to 6 years ago (regular or vip).
 */
export type CustomerKind = 'fresh' | 'recent' | 'established'

/** Pool cap: beyond this, new customers replace random old ones (memory stays bounded). */
const POOL_CAP = 200_000
const VIP_CAP = 30_000
const VIP_PICK_SHARE = 0.25

const clean = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '')

export class CustomerPool {
  private readonly all: CustomerState[] = []
  private readonly vips: CustomerState[] = []
  private readonly firstLower: string[]
  private readonly lastLower: string[]

  constructor(
    private readonly rng: Rng,
    private readonly catalog: Catalog
  ) {
    this.firstLower = catalog.firstNames.map(clean)
    this.lastLower = catalog.lastNames.map(clean)
  }

  get size(): number {
    return this.all.length
  }

  /**
   * A new customer who signed up before `beforeMs` (their first order's time). `country` is
   * picked from the usual distribution unless given.
   */
  create(kind: CustomerKind, beforeMs: number, country?: string): { state: CustomerState; event: CustomerEvent } {
    const rng = this.rng
    let signupMs: number
    let segment: Segment
    if (kind === 'fresh') {
      signupMs = beforeMs - Math.floor(rng.between(2 * MINUTE_MS, 20 * HOUR_MS))
      segment = 'new'
    } else if (kind === 'recent') {
      signupMs = beforeMs - Math.floor(rng.between(1.2 * DAY_MS, 30 * DAY_MS))
      segment = 'new'
    } else {
      signupMs = beforeMs - Math.floor(rng.between(31 * DAY_MS, 6 * 365 * DAY_MS))
      segment = rng.chance(0.16) ? 'vip' : 'regular'
    }
    const fi = rng.int(this.catalog.firstNames.length)
    const li = rng.int(this.catalog.lastNames.length)
    const first = this.firstLower[fi] || 'user'
    const last = this.lastLower[li] || 'shopper'
    let local: string
    switch (rng.int(6)) {
      case 0:
        local = `${first}.${last}`
        break
      case 1:
        local = `${first}${last}${rng.intBetween(1, 99)}`
        break
      case 2:
        local = `${first[0]}${last}`
        break
      case 3:
        local = `${first}_${last}${rng.intBetween(1950, 2008)}`
        break
      case 4:
        local = `${first}${rng.intBetween(100, 9999)}`
        break
      default:
        local = `${first}.${last}${rng.intBetween(1, 999)}`
    }
    const state: CustomerState = {
      id: `cus_${rng.hex(6)}`,
      country: country ?? countryPicker.pick(rng),
      signupMs,
      segment,
      last1: -Infinity,
      last2: -Infinity
    }
    const event: CustomerEvent = {
      customer_id: state.id,
      name: `${this.catalog.firstNames[fi]} ${this.catalog.lastNames[li]}`,
      email: `${local}@${this.catalog.emailDomains.pick(rng)}`,
      signup_ts: isoTimestamp(signupMs),
      country: state.country,
      segment
    }
    this.add(state)
    return { state, event }
  }

  private add(c: CustomerState): void {
    if (this.all.length < POOL_CAP) this.all.push(c)
    else this.all[this.rng.int(POOL_CAP)] = c
    if (c.segment === 'vip') {
      if (this.vips.length < VIP_CAP) this.vips.push(c)
      else this.vips[this.rng.int(VIP_CAP)] = c
    }
  }

  /** A known customer (vips order more often), or null when the pool is empty. */
  pickReturning(): CustomerState | null {
    if (this.all.length === 0) return null
    if (this.vips.length > 0 && this.rng.chance(VIP_PICK_SHARE)) return this.rng.pick(this.vips)
    return this.rng.pick(this.all)
  }

  recordOrder(c: CustomerState, tsMs: number): void {
    if (tsMs >= c.last1) {
      c.last2 = c.last1
      c.last1 = tsMs
    } else if (tsMs > c.last2) {
      c.last2 = tsMs
    }
  }
}
