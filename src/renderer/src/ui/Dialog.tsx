import type { ReactNode } from 'react'
import { CloseIcon } from './icons'

/**
 * A modal dialog whose body is a form: Enter submits it. While `busy` it cannot be closed, by the
 * overlay or the close button. `id` names its parts: `<id>-title`, and test ids `<id>-dialog`,
 * `<id>-close`. Escape is the caller's, since what it answers first differs by dialog.
 */
export function Dialog({ id, title, busy, onClose, onSubmit, children }: { id: string; title: ReactNode; busy: boolean; onClose(): void; onSubmit(): void; children: ReactNode }) {
  return (
    <>
      <div className="overlay" onClick={() => !busy && onClose()} />
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby={`${id}-title`} data-testid={`${id}-dialog`}>
        <div className="dialog-header">
          <h2 id={`${id}-title`}>{title}</h2>
          <button type="button" className="btn ghost" onClick={onClose} disabled={busy} aria-label="Close" data-testid={`${id}-close`}>
            <CloseIcon />
          </button>
        </div>
        <form
          className="dialog-body"
          noValidate
          onSubmit={(e) => {
            e.preventDefault()
            onSubmit()
          }}
        >
          {children}
        </form>
      </div>
    </>
  )
}
