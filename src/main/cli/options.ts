import { CliError } from './errors'

// Flag parsers for commander: each names the flag and the bad value in its message.

export function parseDuration(flag: string) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim())
    if (!m) throw new CliError(`${flag} must be a duration like 500ms, 2s or 1m, got '${value}'`)
    const n = Number(m[1])
    const ms = m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : m[2] === 'ms' ? n : n * 1000
    if (ms <= 0) throw new CliError(`${flag} must be positive, got '${value}'`)
    return ms
  }
}

export function parsePositive(flag: string, { integer = false, allowZero = false } = {}) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0 || (!allowZero && n === 0)) {
      throw new CliError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}, got '${value}'`)
    }
    return n
  }
}

export function parseChoice<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new CliError(`${flag} must be one of ${choices.join(', ')}, got '${value}'`)
    }
    return value as T
  }
}
