import type { CSSProperties, ReactNode } from 'react'

/** A column heading: its text, or the text with a class (`num` right-aligns figures) and a tooltip. */
export type Column = string | { label: ReactNode; className?: string; title?: string }

/** A heading over a column of figures. */
export const num = (label: ReactNode): Column => ({ label, className: 'num' })

export interface DataTableProps {
  columns: readonly Column[]
  /** Classes after `data` (`compact`, `alerts`). */
  className?: string
  /** Classes after `table-wrap` (`short`), and the wrap's style (a height). */
  wrapClassName?: string
  wrapStyle?: CSSProperties
  testId: string
  /** The body rows. */
  children: ReactNode
  /** Shown under the table, inside its scrolling wrap (a note on the rows). */
  after?: ReactNode
}

/** A scrolling table of lake rows under one heading row: every list of rows in the app is shown this way. */
export function DataTable({ columns, className, wrapClassName, wrapStyle, testId, children, after }: DataTableProps) {
  return (
    <div className={wrapClassName ? `table-wrap ${wrapClassName}` : 'table-wrap'} style={wrapStyle}>
      <table className={className ? `data ${className}` : 'data'} data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c, i) =>
              typeof c === 'string' ? (
                <th key={i}>{c}</th>
              ) : (
                <th key={i} className={c.className} title={c.title}>
                  {c.label}
                </th>
              )
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
      {after}
    </div>
  )
}

/** An id cell: monospace, cut to the column with the whole id on hover. */
export function IdCell({ id }: { id: string }) {
  return (
    <td className="mono ellipsis" title={id}>
      {id}
    </td>
  )
}
