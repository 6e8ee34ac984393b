import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { isSecretRef, type Reveal, type SecretCodec, type SecretKind, type SecretRef } from '../../shared/secrets'

export { revealClearOnly, type Reveal, type SecretCodec } from '../../shared/secrets'

// Where the secrets of a settings file are kept (docs/OPERATIONS.md, "Secrets"): a file next to
// it (settings.json → settings.secrets.json), mode 0600, holding each secret as its codec wrote
// it. In the desktop app the codec is Electron's safeStorage (the OS keychain's key; shell/
// safe-storage-codec.ts), so the file holds ciphertext. In plain Node (`serve`, `pipeline`,
// `run`) there is no keychain: the file holds the secret itself, protected by its permissions
// only. The settings file holds references ({"secretRef": id}), never a secret.

export const plainFileCodec: SecretCodec = {
  name: 'plain',
  protection: 'a file readable only by this user (mode 0600); not encrypted: there is no OS keychain outside the desktop app',
  encode: async (s) => s,
  decode: async (s) => s
}

/** A secret that cannot be stored or read; the message says which and what to do. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SecretError'
  }
}

const FORMAT = 'streamdesk-secrets'

interface Entry {
  kind: SecretKind
  codec: string
  value: string
}

interface SecretsFile {
  format: typeof FORMAT
  version: 1
  secrets: Record<string, Entry>
}

export function secretsFileFor(settingsFile: string): string {
  const name = basename(settingsFile)
  return join(dirname(settingsFile), `${name.endsWith('.json') ? name.slice(0, -5) : name}.secrets.json`)
}

export class SecretStore {
  /** Secrets read from a settings file or typed in, not written to the secrets file yet. */
  private readonly held = new Map<string, { kind: SecretKind; secret: string }>()
  private stored: Record<string, Entry> | null = null

  constructor(
    readonly file: string,
    readonly codec: SecretCodec
  ) {}

  /** Keeps `secret` in memory under a new reference (nothing is written until persist()). */
  hold(kind: SecretKind, secret: string): SecretRef {
    const id = randomBytes(8).toString('hex')
    this.held.set(id, { kind, secret })
    return { secretRef: id }
  }

  /** True when `ref` names a secret not written to the secrets file yet. */
  isHeld(ref: SecretRef): boolean {
    return this.held.has(ref.secretRef)
  }

  /** True when `ref` names a secret of this kind, held or stored. */
  knows(ref: SecretRef, kind: SecretKind): boolean {
    const e = this.held.get(ref.secretRef) ?? this.entries()[ref.secretRef]
    return e !== undefined && e.kind === kind
  }

  readonly reveal: Reveal = async (value, kind, field) => {
    if (!isSecretRef(value)) return value
    const held = this.held.get(value.secretRef)
    if (held) {
      if (held.kind !== kind) throw new SecretError(`${field}: the stored secret is not a ${kind}`)
      return held.secret
    }
    const entry = this.entries()[value.secretRef]
    if (!entry) throw new SecretError(`${field}: the stored secret is missing from ${this.file}; enter it again in the settings`)
    if (entry.kind !== kind) throw new SecretError(`${field}: the stored secret is not a ${kind}`)
    if (entry.codec === plainFileCodec.name) return entry.value
    if (entry.codec !== this.codec.name) {
      throw new SecretError(
        `${field}: this secret was stored encrypted by the desktop app's OS keychain (${entry.codec}), which this process cannot use; ` +
          'enter it again here, or give it in the settings file'
      )
    }
    try {
      return await this.codec.decode(entry.value)
    } catch (err) {
      throw new SecretError(`${field}: the stored secret could not be decrypted (${(err as Error).message}); enter it again in the settings`)
    }
  }

  /**
   * Writes the secrets file with exactly the references `inUse` (held ones encoded now, stored
   * ones kept as they are), so a removed sink's secret does not outlive it. Nothing is written
   * when nothing changes.
   */
  async persist(inUse: readonly SecretRef[]): Promise<void> {
    const before = this.entries()
    const next: Record<string, Entry> = {}
    for (const { secretRef: id } of inUse) {
      if (next[id]) continue
      const held = this.held.get(id)
      if (held) next[id] = { kind: held.kind, codec: this.codec.name, value: await this.encode(held.secret) }
      else if (before[id]) next[id] = before[id]
    }
    const same = Object.keys(next).length === Object.keys(before).length && Object.keys(next).every((id) => before[id] === next[id])
    if (same && (existsSync(this.file) || Object.keys(next).length === 0)) return
    this.write({ format: FORMAT, version: 1, secrets: next })
    this.stored = next
    for (const id of Object.keys(next)) this.held.delete(id)
  }

  private async encode(secret: string): Promise<string> {
    try {
      return await this.codec.encode(secret)
    } catch (err) {
      throw new SecretError((err as Error).message)
    }
  }

  private entries(): Record<string, Entry> {
    if (this.stored) return this.stored
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (this.stored = {})
      throw new SecretError(`the secrets file ${this.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
    let parsed: Partial<SecretsFile>
    try {
      parsed = JSON.parse(text) as Partial<SecretsFile>
    } catch {
      parsed = {}
    }
    // someone else's file is neither read nor replaced
    if (parsed.format !== FORMAT || parsed.version !== 1 || typeof parsed.secrets !== 'object' || parsed.secrets === null) {
      throw new SecretError(`${this.file} is not a StreamDesk secrets file; StreamDesk leaves it alone: move it away to store secrets here`)
    }
    return (this.stored = parsed.secrets)
  }

  /** Created 0600 before the first byte is written, then renamed over the old file. */
  private write(content: SecretsFile): void {
    mkdirSync(dirname(this.file), { recursive: true })
    const tmp = `${this.file}.tmp`
    const fd = openSync(tmp, 'w', 0o600)
    try {
      // a tmp file left by a crash may have been created with other permissions
      chmodSync(tmp, 0o600)
      writeSync(fd, JSON.stringify(content, null, 2) + '\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.file)
  }

  /** The file's mode is wider than 0600 (someone changed it): said by doctor. */
  permissionsTooOpen(): boolean {
    const st = statSync(this.file, { throwIfNoEntry: false })
    return !!st && process.platform !== 'win32' && (st.mode & 0o077) !== 0
  }
}
