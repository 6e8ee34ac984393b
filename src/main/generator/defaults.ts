import type { Pace } from './runner'

// Defaults the CLI shows in its help and settings use, apart from the modules that build events:
// those load faker (~0.5 s), which only generating needs.

export const DEFAULT_FRAUD_RATE = 0.03
export const DEFAULT_LATE_RATE = 0.005
export const DEFAULT_PACE: Pace = { kind: 'interval', seconds: 2 }
