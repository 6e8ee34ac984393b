import type { SecretCodec } from '../../shared/secrets'

// The desktop app's secret codec: Electron's safeStorage, whose key the OS keychain holds
// (Keychain on macOS, DPAPI on Windows, the Secret Service or KWallet on Linux). Typed by the
// calls it needs, so it is tested with a fake and imports no electron.

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  encryptString(plain: string): Buffer
  decryptString(encrypted: Buffer): string
  /** Linux only: 'basic_text' means no keychain was found and the key is a constant. */
  getSelectedStorageBackend?(): string
}

function checkAvailable(ss: SafeStorageLike): void {
  if (!ss.isEncryptionAvailable() || ss.getSelectedStorageBackend?.() === 'basic_text') {
    throw new Error(
      'the OS keychain is not available (Electron safeStorage), so StreamDesk will not store this secret: ' +
        'unlock or install a keychain (on Linux: GNOME Keyring or KWallet) and try again, or run `streamdesk serve`, which keeps secrets in a 0600 file'
    )
  }
}

export function safeStorageCodec(ss: SafeStorageLike): SecretCodec {
  return {
    name: 'safeStorage',
    protection: 'encrypted with a key kept by the OS keychain (Electron safeStorage)',
    async encode(secret) {
      checkAvailable(ss)
      return ss.encryptString(secret).toString('base64')
    },
    async decode(stored) {
      checkAvailable(ss)
      return ss.decryptString(Buffer.from(stored, 'base64'))
    }
  }
}
