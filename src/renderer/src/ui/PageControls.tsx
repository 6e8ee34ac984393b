import type { ReactNode } from 'react'
import { formatNumber } from '../lib/format'
import { pagePlace, type PagedSlice } from '../lib/page'

export interface PageControlsProps {
  /** Rows `from`–`to` (1-based, inclusive) of `total` are shown. */
  from: number
  to: number
  total: number
  loading: boolean
  /** Whether there is a previous / next page. */
  hasPrevious: boolean
  hasNext: boolean
  onPrevious(): void
  onNext(): void
  /** data-testid prefix: `<prefix>-range`, `<prefix>-prev`, `<prefix>-next`. */
  testId: string
  /** Controls shown before the range (a search box) and after the buttons (a refresh). */
  before?: ReactNode
  after?: ReactNode
}

/** "1–100 of 2,345" with Previous / Next: every paged list of the lake shows its place this way. */
export function PageControls(p: PageControlsProps) {
  return (
    <div className="pager">
      {p.before}
      <span data-testid={`${p.testId}-range`} className="tnum">
        {formatNumber(p.from)}–{formatNumber(p.to)} of {formatNumber(p.total)}
      </span>
      <button type="button" className="btn small" disabled={p.loading || !p.hasPrevious} onClick={p.onPrevious} data-testid={`${p.testId}-prev`}>
        Previous
      </button>
      <button type="button" className="btn small" disabled={p.loading || !p.hasNext} onClick={p.onNext} data-testid={`${p.testId}-next`}>
        Next
      </button>
      {p.after}
    </div>
  )
}

/** Page controls of a store slice that holds one page and loads another by its offset. */
export function SlicePageControls({ page, ...rest }: { page: PagedSlice } & Pick<PageControlsProps, 'testId' | 'before' | 'after'>) {
  const at = pagePlace(page)
  return (
    <PageControls
      from={at.from}
      to={at.to}
      total={page.total}
      loading={page.loading}
      hasPrevious={at.hasPrevious}
      hasNext={at.hasNext}
      onPrevious={() => void page.load(at.previousOffset)}
      onNext={() => void page.load(at.nextOffset)}
      {...rest}
    />
  )
}
