import { describe, expect, it } from 'vitest'
import { pagePlace } from '../../../src/renderer/src/lib/page'

const rows = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('pagePlace', () => {
  it('shows 0–0 and no way on in an empty list', () => {
    expect(pagePlace({ rows: [], total: 0, offset: 0, limit: 50 })).toEqual({
      from: 0,
      to: 0,
      hasPrevious: false,
      hasNext: false,
      previousOffset: 0,
      nextOffset: 50
    })
  })

  it('places a middle page and the pages either side of it', () => {
    expect(pagePlace({ rows: rows(50), total: 120, offset: 50, limit: 50 })).toEqual({
      from: 51,
      to: 100,
      hasPrevious: true,
      hasNext: true,
      previousOffset: 0,
      nextOffset: 100
    })
  })

  it('ends a short last page at the total, with no next page', () => {
    const at = pagePlace({ rows: rows(20), total: 120, offset: 100, limit: 50 })
    expect([at.from, at.to, at.hasPrevious, at.hasNext, at.previousOffset]).toEqual([101, 120, true, false, 50])
  })

  it('never goes before the first row from an offset off the page grid', () => {
    expect(pagePlace({ rows: rows(10), total: 40, offset: 30, limit: 50 }).previousOffset).toBe(0)
  })

  it('does not count rows past the total (a total that shrank under the page)', () => {
    expect(pagePlace({ rows: rows(50), total: 30, offset: 0, limit: 50 }).to).toBe(30)
  })
})
