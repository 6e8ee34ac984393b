import { describe, expect, it } from 'vitest'
import { formatRate, SlidingRate } from '../../src/main/cli/sliding-rate'

// The generator's progress line: its real pace, however slow. Times are given, not measured, so
// the figures are exact whatever the machine does.

/** Progress lines every `everyMs` for `forMs`, with one order produced every `orderMs`. */
function shownRates(orderMs: number, everyMs: number, forMs: number): string[] {
  const rate = new SlidingRate()
  rate.add(0, 0)
  const out: string[] = []
  for (let t = everyMs; t <= forMs; t += everyMs) {
    rate.add(t, Math.floor(t / orderMs))
    out.push(formatRate(rate.perSecond()))
  }
  return out
}

describe('the generator rate', () => {
  it('one order every 2 s reads 0.5 orders/s, not 0 and 1 in turn', () => {
    const shown = shownRates(2000, 5000, 300_000)
    // the first lines span less than the window; from then on the pace is steady
    expect(new Set(shown.slice(6))).toEqual(new Set(['0.5']))
    expect(shown).not.toContain('0')
    expect(shown).not.toContain('1')
    for (const s of shown) expect(Number(s)).toBeGreaterThanOrEqual(0.4)
  })

  it('a fast pace reads whole orders per second', () => {
    expect(shownRates(1, 5000, 60_000).at(-1)).toBe('1,000')
  })

  it('the rate follows a change of pace within the window', () => {
    const rate = new SlidingRate(30_000)
    let count = 0
    for (let t = 0; t <= 120_000; t += 5000) {
      count += t <= 60_000 ? 50 : 5000 // 10/s, then 1,000/s
      rate.add(t, count)
    }
    expect(rate.perSecond()).toBe(1000)
    expect(rate.spanMs()).toBe(30_000)
  })

  it('says nothing before it has a span, and 0 when nothing was produced', () => {
    const rate = new SlidingRate()
    expect(formatRate(rate.perSecond())).toBe('–')
    rate.add(0, 0)
    expect(rate.perSecond()).toBeNull()
    rate.add(5000, 0)
    expect(formatRate(rate.perSecond())).toBe('0')
  })
})
