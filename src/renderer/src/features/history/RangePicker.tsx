import { useState } from 'react'
import { useSlice, useStores } from '../../stores/context'
import { fromLocalInput, RANGE_CHOICES, rangeSummary, toLocalInput } from './range-text'

/**
 * Live, or a range of the lake's history for the Metrics and Fraud tabs (one choice for both).
 * Relative ranges end at the newest order; Custom takes two local times.
 */
export function RangePicker() {
  const { historyRange, dashboard } = useStores()
  const h = useSlice(historyRange, (s) => s)
  const [editing, setEditing] = useState(false)
  // a custom range starts as the day up to the newest order: event time, like every range
  const asOf = useSlice(dashboard, (s) => s.snapshot?.kpis.asOf) ?? new Date().toISOString()
  const [from, setFrom] = useState(() => toLocalInput(h.custom?.from ?? new Date(Date.parse(asOf) - 86_400_000).toISOString()))
  const [to, setTo] = useState(() => toLocalInput(h.custom?.to ?? asOf))
  const fromIso = fromLocalInput(from)
  const toIso = fromLocalInput(to)
  const problem = !fromIso || !toIso ? 'give both times' : Date.parse(toIso) <= Date.parse(fromIso) ? 'the end must come after the start' : null

  return (
    <div className="range-bar" data-testid="range-picker">
      <div className="segmented" role="group" aria-label="Time range">
        {RANGE_CHOICES.map((c) => (
          <button
            key={c.id}
            type="button"
            aria-pressed={c.id === 'custom' ? h.range === 'custom' || editing : h.range === c.id && !editing}
            onClick={() => {
              if (c.id === 'custom') setEditing(true)
              else {
                setEditing(false)
                void h.select(c.id)
              }
            }}
            data-testid={`range-${c.id}`}
          >
            {c.label}
          </button>
        ))}
      </div>
      {editing && (
        <form
          className="range-custom"
          onSubmit={(e) => {
            e.preventDefault()
            if (problem || !fromIso || !toIso) return
            setEditing(false)
            void h.selectCustom(fromIso, toIso)
          }}
        >
          <input type="datetime-local" className="input" aria-label="From" value={from} onChange={(e) => setFrom(e.target.value)} data-testid="range-from" />
          <span className="muted">to</span>
          <input type="datetime-local" className="input" aria-label="To" value={to} onChange={(e) => setTo(e.target.value)} data-testid="range-to" />
          <button type="submit" className="btn small primary" disabled={problem !== null} data-testid="range-apply">
            Show
          </button>
          {problem && <span className="form-error">{problem}</span>}
        </form>
      )}
      <span className="hint" data-testid="range-summary" aria-live="polite">
        {h.error ? <span className="form-error">{h.error}</span> : h.range === 'live' ? 'the latest windows, as they are committed' : h.loading && !h.view ? 'loading…' : rangeSummary(h.view)}
      </span>
    </div>
  )
}
