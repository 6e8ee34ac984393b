import { formatNumber } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { Card } from '../../ui/Card'

/** Replay of the lake from bronze, offered only while the pipeline is stopped (it writes what batches write). */
export function ReplayCard() {
  const { replay, pipeline } = useStores()
  const r = useSlice(replay, (s) => s)
  const stopped = useSlice(pipeline, (s) => s.status?.state === 'stopped' || s.status?.state === 'error')
  if (!stopped && !r.running) return null
  return (
    <Card
      title="Replay"
      hint="silver, fraud alerts, quarantine and windows derived again from bronze with the current settings and active ruleset"
      testId="replay"
      right={
        <button type="button" className="btn small" disabled={r.running} onClick={() => void r.run()} data-testid="replay-run">
          {r.running ? 'Replaying…' : 'Replay'}
        </button>
      }
    >
      {!r.progress && !r.outcome && <p className="muted">Every batch of the lake, a chunk of batches per transaction; live ingest resumes where it stopped.</p>}
      {r.progress && (
        <p data-testid="replay-progress">
          Chunk {r.progress.chunk} of {r.progress.chunks}: batches {r.progress.batches[0]}–{r.progress.batches[1]},{' '}
          {formatNumber(r.progress.lines)} orders read, {formatNumber(r.progress.valid)} valid
        </p>
      )}
      {r.outcome && (
        <p className={`banner ${r.outcome.ok ? 'info' : 'warning'}`} role="status" data-testid="replay-outcome">
          {r.outcome.message}
        </p>
      )}
    </Card>
  )
}
