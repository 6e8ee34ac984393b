import type { Kpis } from '../../../../shared/dto'
import { formatClock } from '../../lib/format'

// The words under the KPI cards: which orders they count and over which minutes, so two cards
// side by side can be read together.

/** The one set of orders every card counts (docs/LAKE.md, *Dashboard figures*). */
export const COUNTED = 'excl. cancelled and refunded'

export const KPI_DEFINITIONS = {
  ordersPerMinute: `orders ÷ minutes · ${COUNTED}`,
  revenue: COUNTED,
  avgOrderValue: `revenue ÷ orders · ${COUNTED}`,
  uniqueCustomers: `with an order · ${COUNTED}`
} as const

/** Whether the cards have figures yet: only once a minute is complete. */
export const hasFigures = (k: Kpis | undefined | null): boolean => !!k && k.completeMinutes > 0

/** "last complete minute · 12:03–12:04", "last 5 complete minutes · …", or what the cards wait for. */
export function kpiPeriod(k: Kpis | undefined | null, locale?: string): string {
  if (!k || k.asOf === null) return 'no orders yet'
  if (k.completeMinutes === 0) {
    return k.firstCompleteAt ? `waiting for the first complete minute (ends ${formatClock(k.firstCompleteAt, locale)})` : 'waiting for the first complete minute'
  }
  const range = `${formatClock(k.periodStart, locale)}–${formatClock(k.periodEnd, locale)}`
  if (k.completeMinutes === 1 && k.minutes === 1) return `last complete minute · ${range}`
  if (k.completeMinutes < k.minutes) {
    return `${k.completeMinutes} complete minute${k.completeMinutes === 1 ? '' : 's'} so far (of ${k.minutes}) · ${range}`
  }
  return `last ${k.completeMinutes} complete minutes · ${range}`
}
