import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { SettingsOverride } from '../../shared/api'
import { isSecretRef, mapSecrets, secretSlots, type SecretRef } from '../../shared/secrets'
import { changedPaths, defaultSettings, getPath, needsRestart, parseSettings, SettingsError, type Settings } from '../../shared/settings'
import { plainFileCodec, SecretError, SecretStore, secretsFileFor } from './secret-store'

// Settings persisted as JSON. A file that is unreadable or invalid is not fatal: the app starts
// with defaults and says why, and the broken file is kept aside instead of being overwritten.
//
// Secrets never stay in the settings this store hands out: a secret read from the file (a user
// may write one there) or sent in an update is swapped for a reference at once, so `get()`, the
// API and any log of settings show references only; what is saved is the reference, the secret
// goes to the secret store (engine/secret-store.ts).

export class SettingsStore {
  private current: Settings
  /** What the file holds: `current` without the command-line overrides of this run. */
  private persisted: Settings
  readonly loadWarning: string | null = null
  readonly secrets: SecretStore
  private updating: Promise<unknown> = Promise.resolve()
  private listeners = new Set<(s: Settings, changed: string[]) => void>()

  constructor(
    private readonly file: string,
    overrides: Record<string, unknown> = {},
    secrets?: SecretStore
  ) {
    this.secrets = secrets ?? new SecretStore(secretsFileFor(file), plainFileCodec)
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
    this.persisted = this.adopt(loaded)
    this.current = this.adopt(parseSettings(overrides, this.persisted))
  }

  /**
   * The settings this run takes from its command line instead of the file, with the file's value,
   * which the next start without those options uses. Saving a change to such a field writes it to
   * the file, and it is no longer overridden.
   */
  overrides(): SettingsOverride[] {
    // every update goes to both, so they differ only where the overrides still hold
    return changedPaths(this.persisted, this.current).map((path) => ({ path, value: leaf(this.current, path), saved: leaf(this.persisted, path) }))
  }

  get(): Settings {
    return this.current
  }

  /**
   * Validates and applies a partial update; returns the changed paths needing a restart. A
   * secret in it is stored (encrypted by the codec) before the settings file names it.
   */
  update(patch: unknown): Promise<{ settings: Settings; restartRequired: string[] }> {
    // one at a time: each starts from the settings and secrets the previous one saved
    const run = this.updating.then(() => this.apply(patch))
    this.updating = run.catch(() => undefined)
    return run
  }

  private async apply(patch: unknown): Promise<{ settings: Settings; restartRequired: string[] }> {
    // the secrets as given are checked first (a Slack URL must be a URL), then swapped
    parseSettings(patch, this.current)
    const adopted = this.adopt(patch)
    this.checkRefs(adopted)
    const next = parseSettings(adopted, this.current)
    // Flags given for this run (serve --lake …) stay out of the file; what the user saves goes in.
    const persisted = parseSettings(adopted, this.persisted)
    const refs = (s: Settings) => secretSlots(s).flatMap((slot) => (isSecretRef(slot.value) ? [slot.value] : []))
    // the old references stay stored until the file no longer names them
    await this.storeSecrets(persisted, [...refs(this.persisted), ...refs(persisted)])
    this.save(persisted)
    await this.secrets.persist(refs(persisted))
    const changed = changedPaths(this.current, next)
    this.current = next
    this.persisted = persisted
    this.listeners.forEach((l) => l(next, changed))
    return { settings: next, restartRequired: needsRestart(changed) }
  }

  onChange(listener: (s: Settings, changed: string[]) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** A secret that cannot be stored (no keychain) is said on the fields that hold one not stored yet. */
  private async storeSecrets(persisted: Settings, inUse: SecretRef[]): Promise<void> {
    try {
      await this.secrets.persist(inUse)
    } catch (err) {
      if (!(err instanceof SecretError)) throw err
      const unsaved = secretSlots(persisted).filter((slot) => isSecretRef(slot.value) && this.secrets.isHeld(slot.value))
      const fields = unsaved.length > 0 ? unsaved.map((slot) => slot.path) : ['(settings)']
      throw new SettingsError(fields.map((field) => ({ field, message: err.message })))
    }
  }

  /** `s` with every clear secret swapped for a reference held by the secret store. */
  private adopt<T>(s: T): T {
    return mapSecrets(s, (slot) => (typeof slot.value === 'string' ? this.secrets.hold(slot.kind, slot.value) : slot.value))
  }

  /** A reference in an update must name a secret of its kind: the pane cannot point one field at another's secret. */
  private checkRefs(patch: unknown): void {
    const bad = secretSlots(patch).filter((slot) => isSecretRef(slot.value) && !this.secrets.knows(slot.value as SecretRef, slot.kind))
    if (bad.length > 0) {
      throw new SettingsError(bad.map((slot) => ({ field: slot.path, message: 'is not a stored secret of this field; enter the secret again' })))
    }
  }

  private save(settings: Settings): void {
    mkdirSync(dirname(this.file), { recursive: true })
    const tmp = `${this.file}.tmp`
    writeFileSync(tmp, JSON.stringify(settings, null, 2) + '\n')
    renameSync(tmp, this.file)
  }
}

function leaf(s: Settings, path: string): SettingsOverride['value'] {
  const v = getPath(s, path)
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null
}
