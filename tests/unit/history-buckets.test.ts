import { describe, expect, it } from 'vitest'
import { bucketMinutes, MAX_BUCKETS, RELATIVE_RANGES } from '../../src/shared/history'

describe('bucketMinutes: a readable width that holds whole windows', () => {
  it('the preset ranges with 1-minute windows', () => {
    expect(Object.fromEntries(Object.entries(RELATIVE_RANGES).map(([k, m]) => [k, bucketMinutes(m, 1)]))).toEqual({
      '15m': 1,
      '1h': 1,
      '24h': 15,
      '7d': 120
    })
  })

  it('never more than MAX_BUCKETS buckets, never narrower than a window, always whole windows', () => {
    for (const windowMinutes of [1, 2, 5, 7, 60, 1440]) {
      for (const range of [15, 60, 1440, 10_080, 43_200, 527_040, 3 * 1440 + 17]) {
        const w = bucketMinutes(range, windowMinutes)
        expect(w % windowMinutes, `window ${windowMinutes}, range ${range}`).toBe(0)
        expect(w).toBeGreaterThanOrEqual(windowMinutes)
        expect(Math.ceil(range / w)).toBeLessThanOrEqual(MAX_BUCKETS)
      }
    }
  })

  it('a width outside the readable list when the window needs it (7-minute windows over a day)', () => {
    expect(bucketMinutes(1440, 7)).toBe(14)
  })
})
