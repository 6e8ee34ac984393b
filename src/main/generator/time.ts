// ISO-8601 timestamps with an explicit offset ("2026-11-24T10:00:00.123+00:00"), formatted fast:
// the date/time part is cached per second, so a busy generator formats each second only once.

let cachedSecond = Number.NaN
let cachedPrefix = ''

export function isoTimestamp(ms: number): string {
  const t = Math.floor(ms)
  const second = Math.floor(t / 1000)
  if (second !== cachedSecond) {
    cachedSecond = second
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19)
  }
  const frac = t - second * 1000
  return `${cachedPrefix}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}+00:00`
}

/** Compact UTC stamp for file names, e.g. "20261124T100000123Z" (sorts in time order). */
export function fileStamp(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().replace(/[-:.]/g, '')
}

export const MINUTE_MS = 60_000
export const HOUR_MS = 60 * MINUTE_MS
export const DAY_MS = 24 * HOUR_MS
