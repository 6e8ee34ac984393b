import { formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'

/** Pause / Resume of live updates, in the bar beside the counters (which keep counting). */
export function PauseButton() {
  const { liveUpdates } = useStores()
  const paused = useSlice(liveUpdates, (s) => s.paused)
  return paused ? (
    <button
      type="button"
      className="btn small primary live-toggle"
      onClick={() => liveUpdates.getState().resume()}
      aria-label="Resume live updates"
      data-testid="live-resume"
    >
      ▶ <span className="label">Resume</span>
    </button>
  ) : (
    <button
      type="button"
      className="btn small live-toggle"
      onClick={() => liveUpdates.getState().pause()}
      title="Hold charts and tables still to read them; ingest goes on"
      aria-label="Pause live updates"
      data-testid="live-pause"
    >
      ❚❚ <span className="label">Pause</span>
    </button>
  )
}

/** While paused, says so above every tab, with what has been committed since and a way back. */
export function PausedBanner() {
  const { liveUpdates, pipeline } = useStores()
  const s = useSlice(liveUpdates, (x) => x)
  const lastBatch = useSlice(pipeline, (x) => x.status?.lastBatchId ?? null)
  if (!s.paused) return null
  const since = lastBatch !== null ? lastBatch - (s.batchAtPause ?? 0) : 0
  return (
    <div className="banner info" role="status" data-testid="live-paused" data-held-back={s.heldBack}>
      <strong>Paused</strong>
      <span className="grow">
        since {formatTime(s.pausedAt === null ? null : new Date(s.pausedAt).toISOString())}: charts and tables hold still while ingest goes on
        {since > 0 ? ` · ${formatNumber(since)} batch${since === 1 ? '' : 'es'} committed since` : ''}
        {s.heldBack ? ' · newer figures held back' : ''}.
      </span>
      <button type="button" className="btn small primary" onClick={() => s.resume()} data-testid="live-resume-banner">
        Resume
      </button>
    </div>
  )
}
