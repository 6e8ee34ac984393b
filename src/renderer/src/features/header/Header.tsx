import type { PipelineStatus } from '../../../../shared/dto'
import { formatLag, formatNumber } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { BoltIcon, DownloadIcon, FolderIcon, GearIcon, LogoIcon, PlayIcon, StopIcon, StreamIcon } from '../../ui/icons'
import { TOTALS_DEFINITIONS } from '../pipeline/totals-text'

const STATE_LABEL: Record<PipelineStatus['state'], string> = {
  stopped: 'Stopped',
  starting: 'Starting…',
  running: 'Running',
  stopping: 'Stopping…',
  error: 'Error'
}

function SourceIcon({ kind }: { kind: PipelineStatus['source']['kind'] }) {
  if (kind === 'kafka') return <StreamIcon />
  if (kind === 'folder') return <FolderIcon />
  return <BoltIcon />
}

export function canStart(status: PipelineStatus | null, busy: boolean, connected: boolean): boolean {
  return connected && !busy && status !== null && (status.state === 'stopped' || status.state === 'error')
}

export function canStop(status: PipelineStatus | null, busy: boolean, connected: boolean): boolean {
  return connected && !busy && status !== null && (status.state === 'running' || status.state === 'starting')
}

export function Header({ onOpenSettings, onOpenExport }: { onOpenSettings(): void; onOpenExport(): void }) {
  const { pipeline, connection } = useStores()
  const status = useSlice(pipeline, (s) => s.status)
  const action = useSlice(pipeline, (s) => s.action)
  const connected = useSlice(connection, (s) => s.state === 'open')
  const state = status?.state ?? null

  return (
    <header className="topbar">
      <div className="brand">
        <LogoIcon />
        StreamDesk
      </div>
      <div className="divider" />
      <div className="pipeline-summary">
        <span
          className={`badge ${state ?? ''}`}
          data-testid="pipeline-state"
          data-state={state ?? 'unknown'}
          title={status?.message ?? undefined}
        >
          {state ? STATE_LABEL[state] : 'Connecting…'}
        </span>
        {status && (
          <span className="source-label" data-testid="source-label" title={status.source.label}>
            <SourceIcon kind={status.source.kind} />
            <span className="text">{status.source.label}</span>
          </span>
        )}
      </div>
      <div className="spacer" />
      <div className="actions">
        <button type="button" className="btn ghost" onClick={onOpenExport} data-testid="open-export">
          <DownloadIcon /> Export
        </button>
        <button type="button" className="btn ghost" onClick={onOpenSettings} data-testid="open-settings">
          <GearIcon /> Settings
        </button>
        <button
          type="button"
          className="btn primary"
          disabled={!canStart(status, action !== null, connected)}
          onClick={() => void pipeline.getState().start()}
          data-testid="pipeline-start"
        >
          <PlayIcon /> {action === 'start' ? 'Starting…' : 'Start'}
        </button>
        <button
          type="button"
          className="btn"
          disabled={!canStop(status, action !== null, connected)}
          onClick={() => void pipeline.getState().stop()}
          data-testid="pipeline-stop"
        >
          <StopIcon /> {action === 'stop' ? 'Stopping…' : 'Stop'}
        </button>
      </div>
    </header>
  )
}

export function Counters() {
  const { pipeline } = useStores()
  const totals = useSlice(pipeline, (s) => s.status?.totals)
  // Lag only means something while batches run; a stopped pipeline has none.
  const lag = useSlice(pipeline, (s) => (s.status?.state === 'running' ? s.status.lagSeconds : null))
  return (
    <div className="counters">
      <div className="counter" title={`Orders: ${TOTALS_DEFINITIONS.orders}`}>
        <span className="label">Orders</span>
        <span className="value" data-testid="counter-orders">
          {formatNumber(totals?.orders)}
        </span>
      </div>
      <div className="counter" title={`Alerts: ${TOTALS_DEFINITIONS.alerts}`}>
        <span className="label">Alerts</span>
        <span className="value" data-testid="counter-alerts">
          {formatNumber(totals?.alerts)}
        </span>
      </div>
      <div className="counter">
        <span className="label">Lag</span>
        <span className="value" data-testid="counter-lag">
          {formatLag(lag)}
        </span>
      </div>
    </div>
  )
}

/** Pipeline error message, failed start/stop, or a lost connection: one line under the header. */
export function StatusBanner() {
  const { pipeline, connection } = useStores()
  const status = useSlice(pipeline, (s) => s.status)
  const actionError = useSlice(pipeline, (s) => s.error)
  const conn = useSlice(connection, (s) => s)

  if (conn.state === 'reconnecting' || (conn.state === 'connecting' && conn.error)) {
    return (
      <div className="banner warning" role="status" data-testid="connection-banner">
        <strong>Disconnected.</strong>
        <span className="grow">
          {conn.error ?? 'The engine is not reachable.'} Reconnecting automatically…
        </span>
      </div>
    )
  }
  if (conn.state === 'closed') {
    return (
      <div className="banner error" role="alert" data-testid="connection-banner">
        <strong>Connection closed.</strong>
        <span className="grow">Reload the page to reconnect.</span>
      </div>
    )
  }
  if (status?.state === 'error') {
    return (
      <div className="banner error" role="alert" data-testid="pipeline-error">
        <strong>Pipeline failed.</strong>
        <span className="grow">{status.message ?? 'No details were reported.'}</span>
      </div>
    )
  }
  if (actionError) {
    return (
      <div className="banner error" role="alert" data-testid="pipeline-error">
        <strong>Could not change the pipeline.</strong>
        <span className="grow">{actionError}</span>
      </div>
    )
  }
  const warning = status?.warnings?.at(-1)
  if (warning) {
    return (
      <div className="banner warning" role="status" data-testid="lake-warning">
        <strong>Lake repaired.</strong>
        <span className="grow">{warning}</span>
      </div>
    )
  }
    if (status?.message && status.state !== 'stopped') {
    return (
      <div className="banner info" role="status" data-testid="pipeline-message">
        <span className="grow">{status.message}</span>
      </div>
    )
  }
  return null
}
