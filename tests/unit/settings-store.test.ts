import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SettingsStore } from '../../src/main/engine/settings-store'

const tmp = () => mkdtempSync(join(tmpdir(), 'sd-settings-'))

describe('SettingsStore', () => {
  it('persists what the user saves but not the overrides of this run', async () => {
    const file = join(tmp(), 'settings.json')
    const store = new SettingsStore(file, { lakePath: '/run/only/lake', source: { kind: 'folder', inputPath: '/run/only/in' } })
    expect(store.get().lakePath).toBe('/run/only/lake')
    const { restartRequired } = await store.update({ pipeline: { triggerMs: 750 } })
    expect(restartRequired).toEqual([])
    const saved = JSON.parse(readFileSync(file, 'utf8'))
    expect(saved.pipeline.triggerMs).toBe(750)
    expect(saved.lakePath).toBe('lake')
    expect(saved.source.kind).toBe('generator')
    expect(new SettingsStore(file).get().pipeline.triggerMs).toBe(750)
  })

  it("lists the settings this run's command line overrides, with the file's value, until one is saved", async () => {
    const file = join(tmp(), 'settings.json')
    writeFileSync(file, JSON.stringify({ lakePath: '/saved/lake', source: { kind: 'folder', inputPath: '/saved/in' } }))
    const store = new SettingsStore(file, { lakePath: '/run/only/lake', source: { kind: 'folder', inputPath: '/run/only/in' } })
    // source.kind is overridden with the value the file has already: not listed
    expect(store.overrides()).toEqual([
      { path: 'source.inputPath', value: '/run/only/in', saved: '/saved/in' },
      { path: 'lakePath', value: '/run/only/lake', saved: '/saved/lake' }
    ])
    await store.update({ pipeline: { triggerMs: 750 } })
    expect(store.overrides().map((o) => o.path)).toEqual(['source.inputPath', 'lakePath'])
    await store.update({ lakePath: '/chosen/lake' })
    expect(store.overrides()).toEqual([{ path: 'source.inputPath', value: '/run/only/in', saved: '/saved/in' }])
    expect(JSON.parse(readFileSync(file, 'utf8')).lakePath).toBe('/chosen/lake')
    expect(new SettingsStore(file).overrides()).toEqual([])
  })

  it('starts with defaults and keeps an invalid file aside instead of overwriting it', () => {
    const dir = tmp()
    const file = join(dir, 'settings.json')
    writeFileSync(file, '{"pipeline":{"triggerMs":"soon"}}')
    const store = new SettingsStore(file)
    expect(store.loadWarning).toMatch(/pipeline.triggerMs: must be a number/)
    expect(store.get().pipeline.triggerMs).toBe(500)
  })

  it('refuses an invalid update and keeps the previous settings', async () => {
    const store = new SettingsStore(join(tmp(), 'settings.json'))
    await expect(store.update({ fraud: { threshold: -1 } })).rejects.toThrow(/fraud.threshold: must be at least 0/)
    expect(store.get().fraud.threshold).toBe(3)
  })
})
