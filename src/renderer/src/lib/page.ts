/** What a paged store slice holds: one page of `total` rows, starting at `offset`. */
export interface PagedSlice {
  rows: readonly unknown[]
  total: number
  offset: number
  limit: number
  loading: boolean
  load(offset: number): Promise<void>
}

export interface PagePlace {
  /** Rows `from`–`to` (1-based, inclusive) of the total are shown; 0–0 when there are none. */
  from: number
  to: number
  hasPrevious: boolean
  hasNext: boolean
  /** Where the previous and next pages start. */
  previousOffset: number
  nextOffset: number
}

/** Where a page stands in its list, for the controls that move through it. */
export function pagePlace(p: Pick<PagedSlice, 'rows' | 'total' | 'offset' | 'limit'>): PagePlace {
  return {
    from: p.total === 0 ? 0 : p.offset + 1,
    to: Math.min(p.offset + p.rows.length, p.total),
    hasPrevious: p.offset > 0,
    hasNext: p.offset + p.limit < p.total,
    previousOffset: Math.max(0, p.offset - p.limit),
    nextOffset: p.offset + p.limit
  }
}
