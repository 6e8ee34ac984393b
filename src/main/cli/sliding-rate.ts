// A rate over the last several seconds of a growing count. Orders arrive one at a time, so over a
// single 5-second progress interval a pace of one order every 2 s reads 0.4 or 0.6 (and rounded, 0
// or 1); over a longer window the same pace reads 0.5.

export const RATE_WINDOW_MS = 30_000

export class SlidingRate {
  private samples: { at: number; count: number }[] = []

  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  /** The count as it stood at `at` (ms, increasing). */
  add(at: number, count: number): void {
    this.samples.push({ at, count })
    // Keep one sample at or before the window's start, so the rate spans the whole window.
    while (this.samples.length > 2 && this.samples[1].at <= at - this.windowMs) this.samples.shift()
  }

  /** Milliseconds the rate spans: the window, or less while the count is younger than it. */
  spanMs(): number {
    const n = this.samples.length
    return n < 2 ? 0 : this.samples[n - 1].at - this.samples[0].at
  }

  /** Per second over the window (or since the first sample, while it is shorter); null before two samples. */
  perSecond(): number | null {
    const first = this.samples[0]
    const last = this.samples[this.samples.length - 1]
    if (!first || last.at <= first.at) return null
    return ((last.count - first.count) * 1000) / (last.at - first.at)
  }
}

/** "0.5" below 10 per second, "1,234" above: a slow pace keeps its decimal. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return '–'
  return perSecond < 10
    ? perSecond.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: perSecond > 0 ? 1 : 0 })
    : Math.round(perSecond).toLocaleString('en-US')
}
