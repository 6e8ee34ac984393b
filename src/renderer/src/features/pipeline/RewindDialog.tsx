import { useEffect, useRef, useState } from 'react'
import type { RewindResult, SourceOffsetRow } from '../../../../shared/dto'
import { formatNumber } from '../../lib/format'
import { useStores } from '../../stores/context'
import { Dialog } from '../../ui/Dialog'

type Mode = 'offset' | 'time'

/**
 * Rewind one source (docs/EVENTS.md, Rewind) in two steps: the engine first says what the rewind
 * would do (`confirm: false`, nothing changes), and only the confirmation sends it for real.
 */
export function RewindDialog({ row, onClose, onDone }: { row: SourceOffsetRow; onClose(): void; onDone(): void }) {
  const { client } = useStores()
  const [mode, setMode] = useState<Mode>('offset')
  const [value, setValue] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [plan, setPlan] = useState<RewindResult | null>(null)
  const [done, setDone] = useState<RewindResult | null>(null)
  const cancelRef = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || busy) return
      if (plan && !done) setPlan(null)
      else onClose()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [busy, plan, done, onClose])

  // the confirmation interrupts: a stray Enter lands on its safe answer
  useEffect(() => {
    if (plan && !done) cancelRef.current?.focus()
  }, [plan, done])

  const target = (): { offset: number } | { toTime: string } | string => {
    const v = value.trim()
    if (mode === 'offset') {
      if (!/^\d+$/.test(v)) return `enter a ${row.unit === 'bytes' ? 'byte' : 'message'} offset: a whole number of 0 or more`
      return { offset: Number(v) }
    }
    const ms = Date.parse(v)
    if (!v || Number.isNaN(ms)) return 'enter a date and time, e.g. 2026-12-01T08:00:00Z'
    return { toTime: new Date(ms).toISOString() }
  }

  const send = async (confirm: boolean) => {
    const t = target()
    if (typeof t === 'string') {
      setError(t)
      return
    }
    setBusy(true)
    setError(null)
    try {
      const r = await client.invoke('lake.rewind', { source: row.key, ...t, confirm })
      if (confirm) {
        setDone(r)
        onDone()
      } else setPlan(r)
    } catch (err) {
      setPlan(null)
      setError(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }

  const unit = row.unit === 'bytes' ? 'byte' : 'message'
  return (
    <Dialog
      id="rewind"
      title={`Rewind ${row.sourceKind === 'kafka' ? 'partition' : 'file'}`}
      busy={busy}
      onClose={onClose}
      onSubmit={() => {
        if (!plan && !done) void send(false)
      }}
    >
      <p className="path" title={row.key}>
        {row.key}
      </p>
      <p className="muted">
        Committed {unit} offset {formatNumber(row.committedOffset)}. The next run reads again from the offset you choose; nothing already in the lake is
        deleted.
      </p>
      <div className="field">
        <span className="label">Rewind to</span>
        <div className="segmented" role="group" aria-label="Rewind to">
          {(['offset', 'time'] as const).map((m) => (
            <button
              key={m}
              type="button"
              aria-pressed={mode === m}
              disabled={busy || plan !== null}
              onClick={() => (setMode(m), setError(null))}
              data-testid={`rewind-mode-${m}`}
            >
              {m === 'offset' ? `A ${unit} offset` : 'A time'}
            </button>
          ))}
        </div>
      </div>
      <div className="field">
        <label htmlFor="rewind-value">{mode === 'offset' ? `${unit[0].toUpperCase()}${unit.slice(1)} offset` : 'Time (ISO 8601; Z for UTC)'}</label>
        <input
          id="rewind-value"
          className="input mono"
          value={value}
          placeholder={mode === 'offset' ? '0' : '2026-12-01T08:00:00Z'}
          disabled={busy || plan !== null}
          spellCheck={false}
          onChange={(e) => (setValue(e.target.value), setError(null))}
          aria-invalid={error ? true : undefined}
          data-testid="rewind-value"
        />
        <span className="hint">
          {mode === 'offset'
            ? row.unit === 'bytes'
              ? 'A line start: 0, or the byte just after a newline.'
              : 'The message offset to read from.'
            : 'The offset the last batch committed at or before this time.'}
        </span>
      </div>

      {error && (
        <div className="form-error" role="alert" data-testid="rewind-error">
          {error}
        </div>
      )}

      {plan && !done && (
        <div className="form-warning" role="alertdialog" aria-labelledby="rewind-confirm-title" aria-describedby="rewind-confirm-body" data-testid="rewind-confirm">
          <p id="rewind-confirm-title" className="confirm-title">
            Rewind from {formatNumber(plan.from)} to {formatNumber(plan.to)} {plan.unit}?
          </p>
          <p id="rewind-confirm-body" data-testid="rewind-consequence">
            {plan.consequence}
          </p>
          <div className="input-row" style={{ justifyContent: 'flex-end' }}>
            <button type="button" className="btn" ref={cancelRef} disabled={busy} onClick={() => setPlan(null)} data-testid="rewind-confirm-cancel">
              Cancel
            </button>
            <button type="button" className="btn primary" disabled={busy} onClick={() => void send(true)} data-testid="rewind-confirm-ok">
              Rewind
            </button>
          </div>
        </div>
      )}

      {done && (
        <div className="form-ok" role="status" data-testid="rewind-done">
          Rewound {done.key} to {formatNumber(done.to)} {done.unit}; recorded as batch #{done.batchId} in the batch log. Start the pipeline to read it again.
        </div>
      )}

      <div className="input-row" style={{ justifyContent: 'flex-end' }}>
        {done ? (
          <button type="button" className="btn primary" onClick={onClose} data-testid="rewind-finish">
            Close
          </button>
        ) : (
          <button type="submit" className="btn primary" disabled={busy || plan !== null} data-testid="rewind-check">
            {busy && !plan ? 'Checking…' : 'Rewind…'}
          </button>
        )}
      </div>
    </Dialog>
  )
}
