import type { HealthAlert, HealthConditionName } from '../../../../shared/health'
import { useSlice, useStores } from '../../stores/context'

// The pipeline's health conditions that fire, on every tab: what is wrong in plain words and what
// to do (docs/OPERATIONS.md, *Health alerts*). Idle — nothing to read — is not a condition and
// shows nothing; stuck — input waiting, nothing committed — says that it is not idle.

const TITLES: Record<HealthConditionName, string> = {
  stuck: 'Pipeline stuck: input is waiting, but no batch is committed.',
  'kafka-lag': 'Kafka lag above the threshold.',
  'quarantine-share': 'Many input lines go to quarantine.',
  'source-error': 'The source cannot read its input.'
}

const SEVERE: ReadonlySet<HealthConditionName> = new Set(['stuck', 'source-error'])

function Condition({ alert }: { alert: HealthAlert }) {
  return (
    <div className={`banner ${SEVERE.has(alert.condition) ? 'error' : 'warning'} health`} role="alert" data-testid={`health-${alert.condition}`}>
      <strong>{TITLES[alert.condition]}</strong>
      <span className="grow">
        <span data-testid="health-cause">{alert.cause}.</span> <span className="health-action">What to do: {alert.action}</span>
      </span>
      <span className="health-since" title={alert.since}>
        since {new Date(alert.since).toLocaleTimeString()}
      </span>
    </div>
  )
}

export function HealthBanner() {
  const { health } = useStores()
  const firing = useSlice(health, (s) => s.health.firing)
  if (firing.length === 0) return null
  return (
    <div className="health-banners" data-testid="health-banner">
      {firing.map((a) => (
        <Condition key={a.condition} alert={a} />
      ))}
    </div>
  )
}
