import { randomInt } from 'node:crypto'

// Seeded, fast PRNG (sfc32, seeded through splitmix32). Every random choice the generator makes
// after the catalog is built goes through one of these, so a seed reproduces a run exactly.

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    // Fold seeds outside the 32-bit range (and negative ones) into the state, losing nothing.
    const hi = Math.floor(seed / 0x1_0000_0000) | 0
    const st = { s: (seed | 0) ^ Math.imul(hi, 0x27d4eb2d) }
    this.a = splitmix32(st)
    this.b = splitmix32(st)
    this.c = splitmix32(st)
    this.d = splitmix32(st)
    for (let i = 0; i < 12; i++) this.u32()
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 0x1_0000_0000
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n)
  }

  /** Uniform integer in [min, max] (inclusive). */
  intBetween(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1))
  }

  /** Uniform float in [min, max). */
  between(min: number, max: number): number {
    return min + this.float() * (max - min)
  }

  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]
  }

  /** `bytes * 2` lowercase hex digits. */
  hex(bytes: number): string {
    let out = ''
    for (let left = bytes; left > 0; left -= 4) {
      let x = this.u32()
      for (let i = Math.min(4, left); i > 0; i--) {
        out += HEX_BYTES[x & 0xff]
        x >>>= 8
      }
    }
    return out
  }
}

const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** A fresh seed for unseeded runs (reported to the user so the run can be reproduced). */
export function randomSeed(): number {
  return randomInt(0, 2 ** 31 - 1)
}

/** Picks items by weight in O(log n) using cumulative weights. */
export class WeightedPicker<T> {
  private readonly cumulative: Float64Array
  private readonly total: number

  constructor(
    readonly items: readonly T[],
    weights: readonly number[]
  ) {
    if (items.length === 0 || items.length !== weights.length) throw new Error('WeightedPicker: bad items/weights')
    this.cumulative = new Float64Array(items.length)
    let sum = 0
    for (let i = 0; i < weights.length; i++) {
      if (!(weights[i] >= 0)) throw new Error('WeightedPicker: weights must be >= 0')
      sum += weights[i]
      this.cumulative[i] = sum
    }
    if (sum <= 0) throw new Error('WeightedPicker: total weight must be > 0')
    this.total = sum
  }

  static of<T extends string>(table: Readonly<Record<T, number>>): WeightedPicker<T> {
    const keys = Object.keys(table) as T[]
    return new WeightedPicker(
      keys,
      keys.map((k) => table[k])
    )
  }

  pick(rng: Rng): T {
    const x = rng.float() * this.total
    const c = this.cumulative
    let lo = 0
    let hi = c.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (c[mid] > x) hi = mid
      else lo = mid + 1
    }
    return this.items[lo]
  }
}
