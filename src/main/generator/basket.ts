import type { OrderItem } from '../../shared/events'
import type { Catalog, Product } from './catalog'
import type { Rng } from './random'
import { itemCountPicker, quantityPicker } from './reference-data'

// Builds order line items from the catalog. Money is summed in integer cents, so an order's
// total_amount is exactly the sum of quantity * unit_price, rounded to cents.

export interface Basket {
  items: OrderItem[]
  totalCents: number
}

const item = (p: Product, quantity: number): OrderItem => ({
  product_id: p.product_id,
  product_name: p.product_name,
  category: p.category,
  quantity,
  unit_price: p.price
})

const lineCents = (it: OrderItem, p: Product): number => it.quantity * p.priceCents

export class BasketBuilder {
  private readonly prices: Int32Array

  constructor(
    private readonly rng: Rng,
    private readonly catalog: Catalog
  ) {
    this.prices = Int32Array.from(catalog.byPrice, (p) => p.priceCents)
  }

  /** Number of products whose price is <= cents. */
  private countAtMost(cents: number): number {
    const a = this.prices
    let lo = 0
    let hi = a.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (a[mid] <= cents) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** A product by category popularity: bestsellers (low indices) come up far more often. */
  private popularProduct(): Product {
    const list = this.catalog.byCategory.get(this.catalog.categoryPicker.pick(this.rng))!
    const u = this.rng.float()
    return list[Math.floor(list.length * u * u)]
  }

  /** An everyday basket of 1-5 lines whose total is at most capCents. */
  everyday(capCents: number): Basket {
    const rng = this.rng
    const n = itemCountPicker.pick(rng)
    const products: Product[] = []
    const items: OrderItem[] = []
    let total = 0
    for (let i = 0; i < n; i++) {
      let p = this.popularProduct()
      if (products.includes(p)) p = this.popularProduct()
      if (products.includes(p)) continue
      const q = p.priceCents > 30_000 ? 1 : quantityPicker.pick(rng)
      products.push(p)
      items.push(item(p, q))
      total += q * p.priceCents
    }
    while (total > capCents && items.length > 1) {
      // Drop the most expensive line.
      let worst = 0
      for (let i = 1; i < items.length; i++) {
        if (lineCents(items[i], products[i]) > lineCents(items[worst], products[worst])) worst = i
      }
      total -= lineCents(items[worst], products[worst])
      items.splice(worst, 1)
      products.splice(worst, 1)
    }
    if (total > capCents) {
      // A single line over the cap: one unit of it, or else an affordable product instead.
      const p = products[0]
      if (p.priceCents <= capCents) {
        items[0] = item(p, 1)
        total = p.priceCents
      } else {
        const affordable = this.countAtMost(capCents)
        const q = this.catalog.byPrice[rng.int(Math.max(1, affordable))]
        items[0] = item(q, 1)
        total = q.priceCents
      }
    }
    return { items, totalCents: total }
  }

  /** A basket whose total is in (loCents, hiCents], of up to maxLines lines. */
  inRange(loCents: number, hiCents: number, maxLines = 4): Basket {
    const rng = this.rng
    const byPrice = this.catalog.byPrice
    for (let attempt = 0; attempt < 8; attempt++) {
      const n = rng.intBetween(1, Math.max(1, maxLines))
      const items: OrderItem[] = []
      const used = new Set<Product>()
      let total = 0
      for (let i = 0; i < n - 1; i++) {
        const budget = Math.floor((loCents - total) / (n - i))
        const under = this.countAtMost(budget)
        if (under === 0) break
        const p = byPrice[Math.floor(under * Math.sqrt(rng.float()))]
        if (used.has(p)) continue
        used.add(p)
        items.push(item(p, 1))
        total += p.priceCents
      }
      const gapLo = loCents - total
      const gapHi = hiCents - total
      const i0 = this.countAtMost(gapLo)
      const i1 = this.countAtMost(gapHi)
      if (i1 > i0) {
        const p = byPrice[i0 + rng.int(i1 - i0)]
        if (used.has(p)) continue
        items.push(item(p, 1))
        return { items, totalCents: total + p.priceCents }
      }
      if (i0 > 0) {
        // Nothing priced inside the gap: several units of the priciest product below it.
        const p = byPrice[i0 - 1 - rng.int(Math.min(i0, 20))]
        const q = Math.floor(gapHi / p.priceCents)
        if (q >= 2 && q <= 12 && q * p.priceCents > gapLo && !used.has(p)) {
          items.push(item(p, q))
          return { items, totalCents: total + q * p.priceCents }
        }
      }
    }
    // Last resort (not reached with the built-in catalog): units of the priciest product.
    const p = byPrice[byPrice.length - 1]
    const q = Math.max(1, Math.floor(loCents / p.priceCents) + 1)
    return { items: [item(p, q)], totalCents: q * p.priceCents }
  }
}
