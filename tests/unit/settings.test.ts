import { describe, expect, it } from 'vitest'
import { changedPaths, defaultSettings, needsRestart, parseSettings, SettingsError } from '../../src/shared/settings'

describe('settings', () => {
  it('fills every field with its default', () => {
    const s = parseSettings({})
    expect(s.pipeline.triggerMs).toBe(500)
    expect(s.pipeline.windowMinutes).toBe(1)
    expect(s.pipeline.watermarkMinutes).toBe(10)
    expect(s.fraud.threshold).toBe(3)
    expect(s.fraud.weights).toEqual({
      amountOver5000: 4,
      amountOver3000: 3,
      amountOver2000: 2,
      cancelledOrRefunded: 1,
      velocity: 2,
      newAccountLargeOrder: 2,
      countryMismatch: 1
    })
    expect(s.dashboard.refreshSeconds).toBe(1)
  })

  it('merges a partial update into the current settings', () => {
    const s = parseSettings({ fraud: { weights: { velocity: 5 } } }, defaultSettings())
    expect(s.fraud.weights.velocity).toBe(5)
    expect(s.fraud.weights.amountOver5000).toBe(4)
  })

  it('refuses invalid values with a message naming each field', () => {
    let err: unknown
    try {
      parseSettings({ dashboard: { refreshSeconds: 0.1 }, pipeline: { triggerMs: 'fast' }, source: { kind: 'ftp' } })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SettingsError)
    const fields = (err as SettingsError).fields
    expect(fields).toContainEqual({ field: 'dashboard.refreshSeconds', message: 'must be at least 0.5' })
    expect(fields).toContainEqual({ field: 'pipeline.triggerMs', message: 'must be a number' })
    expect(fields.find((f) => f.field === 'source.kind')?.message).toMatch(/must be one of "generator", "folder", "kafka"/)
  })

  it('refuses unknown settings instead of silently dropping them', () => {
    expect(() => parseSettings({ pipeline: { trigger: 5 } })).toThrow(/unknown setting: trigger/)
  })

  it('knows which changes apply only after a restart', () => {
    const a = defaultSettings()
    const b = parseSettings({ source: { inputPath: 'elsewhere' }, dashboard: { refreshSeconds: 2 } }, a)
    const changed = changedPaths(a, b)
    expect(changed.sort()).toEqual(['dashboard.refreshSeconds', 'source.inputPath'])
    expect(needsRestart(changed)).toEqual(['source.inputPath'])
  })
})

describe('fraud weights', () => {
  it('are whole numbers, as scores are', () => {
    expect(() => parseSettings({ fraud: { weights: { velocity: 1.5 } } })).toThrow(/fraud.weights.velocity: must be a whole number/)
  })
})
