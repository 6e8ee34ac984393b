import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { safeStorageCodec } from '../../src/main/shell/safe-storage-codec'
import type { FromEngineWorker, ToEngineWorker } from '../../src/main/api/engine-worker-protocol'

// In the desktop app the engine runs in a worker thread and safeStorage only on the main thread:
// the worker asks the main thread to encrypt and decrypt. Here the built engine worker is driven
// through that protocol, the main thread's side answering with the safeStorage codec over a fake.

const builtWorker = fileURLToPath(new URL('../../out/main/engine-worker.js', import.meta.url))

describe.skipIf(!existsSync(builtWorker))('secret codec across the engine worker (built bundle)', () => {
  it('encrypts a secret saved in the worker through the main thread, and reads it back', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-codec-worker-'))
    const settingsFile = join(dir, 'settings.json')
    const asked: string[] = []
    const fake = {
      isEncryptionAvailable: () => true,
      encryptString: (t: string) => Buffer.from(`enc:${t}`).reverse(),
      decryptString: (b: Buffer) => Buffer.from(b).reverse().toString().slice(4)
    }
    const codec = safeStorageCodec(fake)

    const run = async <T>(work: (call: (name: string, args: unknown) => Promise<unknown>) => Promise<T>): Promise<T> => {
      const worker = new Worker(builtWorker)
      const pending = new Map<number, (m: FromEngineWorker) => void>()
      let ready!: () => void
      const isReady = new Promise<void>((r) => (ready = r))
      worker.on('message', async (m: FromEngineWorker) => {
        if (m.type === 'ready') ready()
        else if (m.type === 'init-failed') throw new Error(m.message)
        else if (m.type === 'result') pending.get(m.id)?.(m)
        else if (m.type === 'secret') {
          asked.push(m.op)
          const reply: ToEngineWorker = { type: 'secret-result', id: m.id, ok: true, value: await codec[m.op](m.value) }
          worker.postMessage(reply)
        }
      })
      const send = (m: ToEngineWorker) => worker.postMessage(m)
      send({ type: 'init', options: { settingsFile, baseDir: dir }, codec: { name: codec.name, protection: codec.protection } })
      await isReady
      let next = 1
      const call = (name: string, args: unknown) =>
        new Promise<unknown>((resolve, reject) => {
          const id = next++
          pending.set(id, (m) => (m.type === 'result' && m.ok ? resolve(m.result) : reject(new Error(JSON.stringify(m)))))
          send({ type: 'call', id, name, args })
        })
      try {
        return await work(call)
      } finally {
        const gone = new Promise((r) => worker.once('exit', r))
        send({ type: 'dispose' })
        await gone
      }
    }

    await run((call) => call('settings.update', { patch: { alerts: { sinks: [{ kind: 'slack', url: 'https://hooks.example/T/B/worker-secret' }] } } }))
    expect(asked).toEqual(['encode'])
    const stored = JSON.parse(readFileSync(join(dir, 'settings.secrets.json'), 'utf8')).secrets
    expect(Object.values(stored)).toEqual([{ kind: 'slack-url', codec: 'safeStorage', value: expect.any(String) }])
    expect(readFileSync(join(dir, 'settings.secrets.json'), 'utf8') + readFileSync(settingsFile, 'utf8')).not.toContain('worker-secret')

    // a new engine reads it back through the main thread (doctor looks the Slack URL up to reach its host)
    const checks = (await run((call) => call('ops.doctor', {}))) as { name: string; message: string }[]
    expect(asked).toEqual(['encode', 'decode'])
    expect(checks.find((c) => c.name.startsWith('alert sink slack:hooks.example#'))).toBeDefined()
    expect(checks.find((c) => c.name === 'secrets')?.message).toMatch(/encrypted with a key kept by the OS keychain \(Electron safeStorage\)/)
  })
})
