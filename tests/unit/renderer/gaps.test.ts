import { describe, expect, it } from 'vitest'
import { batchGapMs, countGaps, MIN_BATCH_GAP_MS, windowPoints, withGaps } from '../../../src/renderer/src/charts/gaps'
import type { WindowRow } from '../../../src/shared/dto'

const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 10, minute)).toISOString()
const win = (minute: number, partial = false, width = 1): WindowRow => ({
  windowStart: at(minute),
  windowEnd: at(minute + width),
  orders: 1,
  revenueOrders: 1,
  revenue: minute,
  avgOrderValue: 1,
  uniqueCustomers: 1,
  partial
})
const t = (minute: number) => Date.parse(at(minute))

describe('window points', () => {
  it('adjacent windows join; a missing window is a null at its start', () => {
    const p = windowPoints([win(0), win(1), win(5), win(6)], (w) => w.revenue)
    expect(p.complete).toEqual([
      [t(0), 0],
      [t(1), 1],
      [t(2), null],
      [t(5), 5],
      [t(6), 6]
    ])
    expect(p.partial).toBeNull()
    expect(countGaps(p.complete)).toBe(1)
  })

  it('keeps the partial window apart and says whether it follows the last window directly', () => {
    expect(windowPoints([win(0), win(1, true)], (w) => w.revenue)).toEqual({ complete: [[t(0), 0]], partial: [t(1), 1], partialJoinsLast: true })
    expect(windowPoints([win(0), win(4, true)], (w) => w.revenue)).toMatchObject({ partial: [t(4), 4], partialJoinsLast: false })
    expect(windowPoints([win(4, true)], (w) => w.revenue)).toEqual({ complete: [], partial: [t(4), 4], partialJoinsLast: false })
  })

  it('wider windows are adjacent when one ends where the next starts', () => {
    expect(countGaps(windowPoints([win(0, false, 5), win(5, false, 5), win(15, false, 5)], (w) => w.revenue).complete)).toBe(1)
  })
})

describe('batch gaps', () => {
  it('a pause is a gap past several usual intervals, and never under the minimum', () => {
    const everySecond = Array.from({ length: 30 }, (_, i) => i * 1000)
    expect(batchGapMs(everySecond)).toBe(MIN_BATCH_GAP_MS)
    const everyMinute = Array.from({ length: 30 }, (_, i) => i * 60_000)
    expect(batchGapMs(everyMinute)).toBe(300_000)
    // the stops themselves do not stretch the threshold
    expect(batchGapMs([...everySecond, 600_000, 601_000, 602_000])).toBe(MIN_BATCH_GAP_MS)
    expect(batchGapMs([])).toBe(MIN_BATCH_GAP_MS)
  })

  it('puts a null between points further apart than the threshold', () => {
    expect(
      withGaps(
        [
          [0, 1],
          [1000, 2],
          [61_000, 3]
        ],
        10_000
      )
    ).toEqual([
      [0, 1],
      [1000, 2],
      [31_000, null],
      [61_000, 3]
    ])
  })
})
