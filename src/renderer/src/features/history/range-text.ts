import type { HistoryView, Kpis } from '../../../../shared/dto'
import { formatDayClock, formatNumber } from '../../lib/format'
import type { RangeChoice } from '../../stores/history-range'

// The words of the range picker and of the KPI cards over a history range.

export const RANGE_CHOICES: readonly { id: RangeChoice; label: string }[] = [
  { id: 'live', label: 'Live' },
  { id: '15m', label: '15 min' },
  { id: '1h', label: '1 h' },
  { id: '24h', label: '24 h' },
  { id: '7d', label: '7 d' },
  { id: 'custom', label: 'Custom' }
]

/** "1-min", "15-min", "2-h", "1-day" buckets. */
export function bucketLabel(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440}-day`
  if (minutes % 60 === 0) return `${minutes / 60}-h`
  return `${minutes}-min`
}

/** "Feb 29, 12:00 – Mar 1, 12:00 · 15-min buckets", or why there is nothing. */
export function rangeSummary(view: HistoryView | null, locale?: string): string {
  if (!view) return ''
  if (view.from === null || view.to === null) return 'no orders in the lake yet'
  return `${formatDayClock(view.from, locale)} – ${formatDayClock(view.to, locale)} · ${bucketLabel(view.bucketMinutes)} buckets`
}

/** Under a KPI card over a range: the complete minutes it counts, or that there are none. */
export function rangeKpiPeriod(k: Kpis | null | undefined, locale?: string): string {
  if (!k || k.asOf === null) return 'no orders yet'
  if (k.completeMinutes === 0) return 'no complete minute in this range'
  const span = `${formatDayClock(k.periodStart, locale)}–${formatDayClock(k.periodEnd, locale)}`
  return `${formatNumber(k.completeMinutes, 0, locale)} complete minute${k.completeMinutes === 1 ? '' : 's'} · ${span}`
}

/** ISO time → the value of an <input type="datetime-local"> (local time, to the minute). */
export function toLocalInput(iso: string): string {
  const d = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** A datetime-local value (local time) → ISO, or null when it is not a time. */
export function fromLocalInput(value: string): string | null {
  const t = new Date(value).getTime()
  return value && Number.isFinite(t) ? new Date(t).toISOString() : null
}
