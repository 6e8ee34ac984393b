import type { WindowRow } from '../../../shared/dto'

// Where a series has no data, a chart must show nothing rather than a line drawn across. ECharts
// breaks a line at a null value, so these helpers put a [time, null] point into each hole.

export type Point = [number, number | null]

const ms = (iso: string): number => Date.parse(iso)

/**
 * Complete windows as points with a null at each missing window (no orders in it: no row), and
 * the partial window (still filling) apart, so it can be drawn differently instead of as a dip.
 */
export function windowPoints(
  windows: readonly WindowRow[],
  value: (w: WindowRow) => number
): { complete: Point[]; partial: Point | null; partialJoinsLast: boolean } {
  const complete: Point[] = []
  let partial: Point | null = null
  let partialJoinsLast = false
  let prevEnd: number | null = null
  for (const w of windows) {
    const start = ms(w.windowStart)
    const hole = prevEnd !== null && start > prevEnd
    if (w.partial) {
      partial = [start, value(w)]
      partialJoinsLast = prevEnd !== null && !hole
    } else {
      if (hole) complete.push([prevEnd!, null])
      complete.push([start, value(w)])
    }
    prevEnd = ms(w.windowEnd)
  }
  return { complete, partial, partialJoinsLast }
}

/** Points whose neighbours are further apart than `maxGapMs` get a null between them. */
export function withGaps(points: readonly [number, number][], maxGapMs: number): Point[] {
  const out: Point[] = []
  points.forEach((p, i) => {
    const prev = points[i - 1]
    if (prev && p[0] - prev[0] > maxGapMs) out.push([prev[0] + (p[0] - prev[0]) / 2, null])
    out.push(p)
  })
  return out
}

/** Below this, a pause between batches is the pipeline's normal rhythm, not a stop. */
export const MIN_BATCH_GAP_MS = 10_000

/**
 * The longest pause between batches that still reads as one running stretch: several times the
 * usual interval (the median, so the stops themselves do not stretch it), and at least 10 s.
 * Batches run only when input arrives, so a longer pause means stopped or idle: nothing measured.
 */
export function batchGapMs(times: readonly number[]): number {
  const intervals: number[] = []
  for (let i = 1; i < times.length; i++) intervals.push(times[i] - times[i - 1])
  if (intervals.length === 0) return MIN_BATCH_GAP_MS
  intervals.sort((a, b) => a - b)
  const median = intervals[Math.floor(intervals.length / 2)]
  return Math.max(MIN_BATCH_GAP_MS, 5 * median)
}

/** How many holes a series has: for the chart's accessible label. */
export const countGaps = (points: readonly Point[]): number => points.filter((p) => p[1] === null).length
