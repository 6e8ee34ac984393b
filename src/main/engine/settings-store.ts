import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { changedPaths, defaultSettings, needsRestart, parseSettings, SettingsError, type Settings } from '../../shared/settings'

// Settings persisted as JSON. A file that is unreadable or invalid is not fatal: the app starts
// with defaults and says why, and the broken file is kept aside instead of being overwritten.

export class SettingsStore {
  private current: Settings
  /** What the file holds: `current` without the command-line overrides of this run. */
  private persisted: Settings
  readonly loadWarning: string | null = null
  private listeners = new Set<(s: Settings, changed: string[]) => void>()

  constructor(
    private readonly file: string,
    overrides: Record<string, unknown> = {}
  ) {
    let loaded: Settings = defaultSettings()
    if (existsSync(file)) {
      try {
        loaded = parseSettings(JSON.parse(readFileSync(file, 'utf8')))
      } catch (err) {
        const why = err instanceof SettingsError ? err.message : (err as Error).message
        this.loadWarning = `settings file ${file} was ignored (${why}); defaults are in use`
        try {
          renameSync(file, `${file}.invalid-${Date.now()}`)
        } catch {
          /* keep going with defaults */
        }
      }
    }
    this.persisted = loaded
    this.current = parseSettings(overrides, loaded)
  }

  get(): Settings {
    return this.current
  }

  /** Validates and applies a partial update; returns the changed paths needing a restart. */
  update(patch: unknown): { settings: Settings; restartRequired: string[] } {
    const next = parseSettings(patch, this.current)
    const changed = changedPaths(this.current, next)
    this.current = next
    // Flags given for this run (serve --lake …) stay out of the file; what the user saves goes in.
    this.persisted = parseSettings(patch, this.persisted)
    this.save()
    this.listeners.forEach((l) => l(next, changed))
    return { settings: next, restartRequired: needsRestart(changed) }
  }

  onChange(listener: (s: Settings, changed: string[]) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true })
    const tmp = `${this.file}.tmp`
    writeFileSync(tmp, JSON.stringify(this.persisted, null, 2) + '\n')
    renameSync(tmp, this.file)
  }
}
