import type { GeneratorSettings } from '../../shared/settings'
import type { Pace, RunOptions } from './runner'

/** The runner options a GeneratorSettings object (settings.generator) stands for. */
export function runOptionsFromSettings(
  g: GeneratorSettings
): Pick<RunOptions, 'pace' | 'durationSeconds' | 'fraudRate' | 'seed'> {
  const pace: Pace =
    g.pace === 'interval' ? { kind: 'interval', seconds: g.intervalSeconds } : { kind: 'rate', perSecond: g.ratePerSecond }
  return {
    pace,
    durationSeconds: g.durationSeconds > 0 ? g.durationSeconds : undefined,
    fraudRate: g.fraudRate,
    seed: g.seed
  }
}
