// The Metrics and Fraud tabs' time ranges over the lake's whole history (query.history), shared by
// the engine (which re-buckets the windows) and the range picker. docs/LAKE.md, *History*.

/** Relative ranges end at the newest order time in the lake: the dashboard's "now" is event time. */
export const RELATIVE_RANGES = { '15m': 15, '1h': 60, '24h': 1440, '7d': 10_080 } as const
export type RelativeRange = keyof typeof RELATIVE_RANGES
export type HistoryRange = RelativeRange | 'custom'

/** A chart over a range draws at most about this many bars or points. */
export const MAX_BUCKETS = 120

/** Bucket widths a person reads easily, in minutes. */
const NICE_WIDTHS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10_080]

/**
 * The bucket width for a range: a whole number of windows, so that every window falls in exactly
 * one bucket (windows and buckets are both aligned to 2000-01-01 UTC) and a bucket's sums are its
 * windows'; the fewest windows that keep the range within MAX_BUCKETS, or a readable width when
 * one is at most twice that (an odd window size can leave only readable widths far too wide).
 */
export function bucketMinutes(rangeMinutes: number, windowMinutes: number): number {
  const least = Math.max(windowMinutes, rangeMinutes / MAX_BUCKETS)
  const fewest = windowMinutes * Math.ceil(least / windowMinutes)
  const nice = NICE_WIDTHS.find((w) => w >= least && w % windowMinutes === 0)
  return nice !== undefined && nice <= 2 * fewest ? nice : fewest
}
