import type { HealthState } from '../../../../shared/health'
import { useSlice, useStores } from '../../stores/context'

// What the running pipeline is doing with its input, as the health monitor sees it: idle (nothing
// to read) said in as many words, so that it is never mistaken for stuck (docs/OPERATIONS.md,
// *Health alerts*).

export function activityText(h: HealthState): string {
  switch (h.activity) {
    case 'stopped':
      return 'Input: not watched (the pipeline is stopped)'
    case 'idle':
      return 'Input: idle, everything there is has been read'
    case 'working':
      return `Input: ${h.waiting ?? 'some'} waiting, batches are committing`
    case 'stuck':
      return `Input: stuck, ${h.waiting ?? 'input'} waiting and no batch committed`
  }
}

export function InputActivity() {
  const { health } = useStores()
  const state = useSlice(health, (s) => s.health)
  return (
    <p className={`input-activity ${state.activity}`} data-testid="input-activity" data-activity={state.activity}>
      {activityText(state)}
    </p>
  )
}
