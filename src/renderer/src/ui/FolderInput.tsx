import type { InputHTMLAttributes } from 'react'
import { desktopBridge } from '../client'

export interface FolderInputProps {
  id: string
  value: string
  placeholder: string
  /** Every keystroke in the box. */
  onChange(value: string): void
  /** A folder chosen with Browse…; only the desktop app can offer one. */
  onPicked(folder: string): void
  disabled?: boolean
  invalid?: boolean
  testId: string
  browseTestId?: string
  /** For callers that act when typing is done (Enter, leaving the box). */
  onKeyDown?: InputHTMLAttributes<HTMLInputElement>['onKeyDown']
  onBlur?: InputHTMLAttributes<HTMLInputElement>['onBlur']
}

/** A folder path typed in, or picked with the system's folder dialog where the desktop app provides one. */
export function FolderInput(p: FolderInputProps) {
  const { pickFolder } = desktopBridge()
  return (
    <div className="input-row">
      <input
        id={p.id}
        className="input"
        value={p.value}
        placeholder={p.placeholder}
        disabled={p.disabled}
        spellCheck={false}
        onChange={(e) => p.onChange(e.target.value)}
        onKeyDown={p.onKeyDown}
        onBlur={p.onBlur}
        aria-invalid={p.invalid ? true : undefined}
        data-testid={p.testId}
      />
      {pickFolder && (
        <button
          type="button"
          className="btn"
          disabled={p.disabled}
          data-testid={p.browseTestId}
          onClick={async () => {
            const picked = await pickFolder(p.value || undefined)
            if (picked) p.onPicked(picked)
          }}
        >
          Browse…
        </button>
      )}
    </div>
  )
}
