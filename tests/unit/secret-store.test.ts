import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SettingsStore } from '../../src/main/engine/settings-store'
import { SecretStore, plainFileCodec, secretsFileFor } from '../../src/main/engine/secret-store'
import { SettingsError } from '../../src/shared/settings'
import { safeStorageCodec, type SafeStorageLike } from '../../src/main/shell/safe-storage-codec'
import { createEngineHost } from '../../src/main/api/engine-host'
import { isSecretRef } from '../../src/shared/secrets'

// Secrets never stay in clear in the settings file, the API's answers or the settings in memory;
// a user's settings file with a secret in it still works; the desktop app's codec (safeStorage)
// is exercised with a fake of the same shape, as Electron cannot run here.

const tmp = () => mkdtempSync(join(tmpdir(), 'sd-secrets-'))
const SECRET = 'hmac-key-7f3a91'
const SLACK = 'https://hooks.slack.example/services/T000/B000/XXXXsecretXXXX'

/** Reversible, and the stored text never contains the input: as safeStorage's ciphertext. */
function fakeSafeStorage(available = true): SafeStorageLike & { calls: number } {
  const fake = {
    calls: 0,
    isEncryptionAvailable: () => available,
    encryptString: (s: string) => {
      fake.calls++
      return Buffer.from([...Buffer.from(`v10${s}`)].map((b) => b ^ 0x5a))
    },
    decryptString: (b: Buffer) => {
      fake.calls++
      return Buffer.from([...b].map((x) => x ^ 0x5a)).toString().slice(3)
    }
  }
  return fake
}

const webhook = (extra: Record<string, unknown> = {}) => ({ kind: 'webhook', url: 'http://127.0.0.1:9/hook', ...extra })

describe('secrets in settings', () => {
  it("honours a clear-text secret in a user's settings file, hands out only a reference, and never writes it back in clear", async () => {
    const dir = tmp()
    const file = join(dir, 'settings.json')
    writeFileSync(file, JSON.stringify({ alerts: { sinks: [webhook({ secret: SECRET }), { kind: 'slack', url: SLACK }] } }))
    const store = new SettingsStore(file)
    const [hook, slack] = store.get().alerts.sinks
    expect(hook.kind === 'webhook' && isSecretRef(hook.secret)).toBe(true)
    expect(JSON.stringify(store.get())).not.toContain(SECRET)
    expect(JSON.stringify(store.get())).not.toContain('XXXXsecretXXXX')
    // the secret is still what the sink signs with
    if (hook.kind !== 'webhook' || slack.kind !== 'slack') throw new Error('sinks changed kind')
    expect(await store.secrets.reveal(hook.secret!, 'webhook-secret', 'alerts.sinks.0.secret')).toBe(SECRET)
    expect(await store.secrets.reveal(slack.url, 'slack-url', 'alerts.sinks.1.url')).toBe(SLACK)
    // a reference is handed out only for its own kind of field
    await expect(store.secrets.reveal(hook.secret!, 'kafka-password', 'source.kafka.sasl.password')).rejects.toThrow(/not a kafka-password/)

    // any save moves them to the 0600 secrets file beside it
    await store.update({ pipeline: { triggerMs: 900 } })
    const saved = readFileSync(file, 'utf8')
    expect(saved).not.toContain(SECRET)
    expect(saved).not.toContain('XXXXsecretXXXX')
    expect(JSON.parse(saved).alerts.sinks[0].secret).toEqual({ secretRef: expect.stringMatching(/^[0-9a-f]{16}$/) })
    const secretsFile = secretsFileFor(file)
    expect(secretsFile).toBe(join(dir, 'settings.secrets.json'))
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(secretsFile, 'utf8')).toContain(SECRET)

    // a new process finds them again
    const again = new SettingsStore(file)
    const s = again.get().alerts.sinks[0]
    if (s.kind !== 'webhook') throw new Error('sink changed kind')
    expect(await again.secrets.reveal(s.secret!, 'webhook-secret', 'alerts.sinks.0.secret')).toBe(SECRET)
  })

  it('keeps a stored secret when the pane sends its reference back, forgets a removed one, and refuses a reference from another field', async () => {
    const file = join(tmp(), 'settings.json')
    const store = new SettingsStore(file)
    await store.update({ alerts: { sinks: [webhook({ secret: SECRET })] }, source: { kafka: { sasl: { mechanism: 'plain', username: 'u', password: 'kafka-pw-1' } } } })
    const sinks = store.get().alerts.sinks
    await store.update({ alerts: { sinks: sinks.map((x) => ({ ...x, minScore: 5 })) } })
    const kept = store.get().alerts.sinks[0]
    if (kept.kind !== 'webhook') throw new Error('sink changed kind')
    expect(await store.secrets.reveal(kept.secret!, 'webhook-secret', 'x')).toBe(SECRET)

    // the Kafka password's reference put where a webhook secret goes: refused, naming the field
    const kafkaRef = store.get().source.kafka.sasl.password
    await expect(store.update({ alerts: { sinks: [webhook({ secret: kafkaRef })] } })).rejects.toThrow(
      /alerts\.sinks\.0\.secret: is not a stored secret of this field/
    )
    await expect(store.update({ alerts: { sinks: [webhook({ secret: { secretRef: '0123456789abcdef' } })] } })).rejects.toThrow(
      /alerts\.sinks\.0\.secret: is not a stored secret/
    )

    // the sink removed: its secret leaves the secrets file too
    await store.update({ alerts: { sinks: [] } })
    const stored = readFileSync(secretsFileFor(file), 'utf8')
    expect(stored).not.toContain(SECRET)
    expect(stored).toContain('kafka-pw-1')
  })

  it('stores secrets encrypted through safeStorage and reads them back', async () => {
    const dir = tmp()
    const file = join(dir, 'settings.json')
    const ss = fakeSafeStorage()
    const store = new SettingsStore(file, {}, new SecretStore(secretsFileFor(file), safeStorageCodec(ss)))
    await store.update({ alerts: { sinks: [webhook({ secret: SECRET })] } })
    expect(ss.calls).toBe(1)
    const onDisk = readFileSync(file, 'utf8') + readFileSync(secretsFileFor(file), 'utf8')
    expect(onDisk).not.toContain(SECRET)
    expect(Object.values(JSON.parse(readFileSync(secretsFileFor(file), 'utf8')).secrets)).toEqual([
      { kind: 'webhook-secret', codec: 'safeStorage', value: expect.any(String) }
    ])

    const again = new SettingsStore(file, {}, new SecretStore(secretsFileFor(file), safeStorageCodec(ss)))
    const s = again.get().alerts.sinks[0]
    if (s.kind !== 'webhook') throw new Error('sink changed kind')
    expect(await again.secrets.reveal(s.secret!, 'webhook-secret', 'alerts.sinks.0.secret')).toBe(SECRET)
    // plain Node (serve, pipeline) cannot decrypt it, and says so instead of sending unsigned
    const plain = new SettingsStore(file)
    await expect(plain.secrets.reveal(s.secret!, 'webhook-secret', 'alerts.sinks.0.secret')).rejects.toThrow(
      /alerts\.sinks\.0\.secret: this secret was stored encrypted by the desktop app's OS keychain/
    )
  })

  it('refuses to store a secret when safeStorage is unavailable, and writes nothing', async () => {
    const file = join(tmp(), 'settings.json')
    const store = new SettingsStore(file, {}, new SecretStore(secretsFileFor(file), safeStorageCodec(fakeSafeStorage(false))))
    const err = await store.update({ alerts: { sinks: [webhook({ secret: SECRET })] } }).catch((e: Error) => e)
    // said on the field that holds it, as the settings pane shows field errors
    expect(err).toBeInstanceOf(SettingsError)
    expect((err as SettingsError).fields).toEqual([
      { field: 'alerts.sinks.0.secret', message: expect.stringMatching(/^the OS keychain is not available \(Electron safeStorage\), so StreamDesk will not store this secret/) }
    ])
    expect(() => statSync(file)).toThrow()
    expect(store.get().alerts.sinks).toEqual([])
    // Linux without a keyring: safeStorage "works" with a constant key, which is no protection
    const basic = { ...fakeSafeStorage(), getSelectedStorageBackend: () => 'basic_text' }
    await expect(safeStorageCodec(basic).encode(SECRET)).rejects.toThrow(/OS keychain is not available/)
  })

  it('leaves a secrets file that is not StreamDesk\'s alone', async () => {
    const file = join(tmp(), 'settings.json')
    writeFileSync(secretsFileFor(file), '{"mine": true}')
    const store = new SettingsStore(file)
    await expect(store.update({ alerts: { sinks: [webhook({ secret: SECRET })] } })).rejects.toThrow(/is not a StreamDesk secrets file; StreamDesk leaves it alone/)
    expect(readFileSync(secretsFileFor(file), 'utf8')).toBe('{"mine": true}')
  })

  it('redacts secrets in the settings API', async () => {
    const dir = tmp()
    const file = join(dir, 'settings.json')
    writeFileSync(file, JSON.stringify({ alerts: { sinks: [{ kind: 'slack', url: SLACK }] } }))
    const host = await createEngineHost({ settingsFile: file, baseDir: dir }, plainFileCodec)
    try {
      expect(JSON.stringify(await host.handlers['settings.get']({}))).not.toContain('XXXXsecretXXXX')
      const answer = await host.handlers['settings.update']({
        patch: { alerts: { sinks: [webhook({ secret: SECRET })] }, source: { kafka: { sasl: { mechanism: 'scram-sha-256', username: 'a', password: 'pw-9' } } } }
      })
      const text = JSON.stringify(answer)
      expect(text).not.toContain(SECRET)
      expect(text).not.toContain('pw-9')
      expect(JSON.stringify(await host.handlers['settings.get']({}))).not.toContain(SECRET)
      // a SASL mechanism without its password is refused, naming the field
      await expect(
        host.handlers['settings.update']({ patch: { source: { kafka: { sasl: { mechanism: 'plain', username: 'a', password: '' } } } } })
      ).rejects.toThrow(/source\.kafka\.sasl\.password: SASL PLAIN needs a password/)
    } finally {
      await host.dispose()
    }
  })
})
