import { describe, expect, it } from 'vitest'
import type { AlertRow, BatchRow, WindowRow } from '../../../src/shared/dto'
import { mergeAlerts, mergeBatches, mergeWindows, MAX_WINDOWS } from '../../../src/renderer/src/stores/history'

const win = (minute: number, orders = 1): WindowRow => ({
  windowStart: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString(),
  windowEnd: new Date(Date.UTC(2025, 0, 1, 0, minute + 1)).toISOString(),
  orders,
  revenueOrders: orders,
  revenue: orders * 10,
  avgOrderValue: 10,
  uniqueCustomers: orders,
  partial: false
})

const batch = (id: number): BatchRow => ({
  batchId: id,
  startedAt: new Date(id * 1000).toISOString(),
  committedAt: new Date(id * 1000 + 100).toISOString(),
  durationMs: 100,
  rowsRead: 1,
  valid: 1,
  quarantined: 0,
  late: 0,
  duplicates: 0,
  alerts: 0,
  inputRate: 1,
  processingRate: 10,
  watermark: null
})

const alert = (id: string, second: number): AlertRow => ({
  orderId: id,
  customerId: 'c',
  orderTs: new Date(second * 1000).toISOString(),
  amount: 1,
  currency: 'USD',
  reportingAmount: 1,
  reportingCurrency: 'USD',
  fxRate: 1,
  status: 'paid',
  fraudScore: 5,
  fraudReasons: [],
  shippingCountry: 'US',
  billingCountry: 'US',
  detectedAt: new Date(second * 1000 + 500).toISOString(),
  rulesetVersion: 1
})

describe('bounded history', () => {
  it('merges windows by start, updating a window that is still filling', () => {
    const a = mergeWindows([], [win(0, 1), win(1, 1)])
    const b = mergeWindows(a, [win(1, 5), win(2, 2)])
    expect(b.map((w) => w.orders)).toEqual([1, 5, 2])
  })

  it('keeps at most the cap, dropping the oldest', () => {
    let h: WindowRow[] = []
    for (let m = 0; m < 2000; m += 100) {
      h = mergeWindows(h, Array.from({ length: 100 }, (_, i) => win(m + i)))
    }
    expect(h).toHaveLength(MAX_WINDOWS)
    expect(h[h.length - 1].windowStart).toBe(win(1999).windowStart)
    expect(h[0].windowStart).toBe(win(2000 - MAX_WINDOWS).windowStart)
  })

  it('returns the same array when nothing comes in (no re-render)', () => {
    const h = [win(1)]
    expect(mergeWindows(h, [])).toBe(h)
    const b = [batch(1)]
    expect(mergeBatches(b, [])).toBe(b)
  })

  it('orders batches by id and dedupes', () => {
    const b = mergeBatches([batch(3), batch(1)], [batch(2), batch(3)], 2)
    expect(b.map((x) => x.batchId)).toEqual([2, 3])
  })

  it('keeps alerts newest first, deduped by order id', () => {
    const a = mergeAlerts([alert('a', 1), alert('b', 2)], [alert('c', 3), alert('a', 1)], 2)
    expect(a.map((x) => x.orderId)).toEqual(['c', 'b'])
  })
})
