import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createEngineHost } from '../../src/main/api/engine-host'
import type { AlertSinkStatus } from '../../src/shared/dto'
import { signature } from '../../src/main/alerts/webhook-sink'
import { AlertReceiver } from '../support/alert-receiver'
import { cleanupTempDirs, makeTempDir, makeWorkspace, order, runPipeline, ts, writeLines } from '../support/lake-fixtures'
import { SettingsStore } from '../../src/main/engine/settings-store'
import { SecretStore, secretsFileFor } from '../../src/main/engine/secret-store'
import { safeStorageCodec } from '../../src/main/shell/safe-storage-codec'
import { readSettingsFile } from '../../src/main/cli/settings-file'
import { until } from '../support/wait'

// A failing Slack sink (whose URL is the credential) and a signing webhook: the secrets reach the
// receiver, and no log line, status, settings answer or settings file of the engine shows them.

afterAll(cleanupTempDirs)

describe('secrets stay out of logs and answers', () => {
  it('a failing Slack URL and a webhook secret are never logged or returned', { timeout: 120_000 }, async () => {
    const lines: string[] = []
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')))
    const ws = makeWorkspace()
    const receiver = new AlertReceiver()
    await receiver.listen()
    const dead = new AlertReceiver()
    await dead.listen()
    const slackUrl = `${dead.url}/services/T0/B0/tok3nSLACKsecret`
    await dead.stop()
    const base = makeTempDir()
    const settingsFile = join(base, 'settings.json')
    writeFileSync(
      settingsFile,
      JSON.stringify({
        lakePath: ws.lake,
        source: { kind: 'folder', inputPath: ws.input },
        pipeline: { triggerMs: 50 },
        alerts: { sinks: [{ kind: 'slack', url: slackUrl }, { kind: 'webhook', url: receiver.url, secret: 'whsec-SIGNING-key' }] }
      })
    )
    const host = await createEngineHost({ settingsFile, baseDir: base })
    let sinks: AlertSinkStatus[] = []
    try {
      await host.handlers['pipeline.start']({})
      writeLines(ws.orders('1.jsonl'), [order({ order_id: 'r1', total_amount: 6000, order_ts: ts(0) })])
      await until(
        'the webhook delivered and the Slack sink failing',
        async () => {
          sinks = await host.handlers['query.alertSinks']({})
          return sinks.some((s) => s.kind === 'webhook' && s.lastSuccessAt !== null) && sinks.some((s) => s.kind === 'slack' && s.lastError !== null)
        },
        { detail: () => sinks }
      )
      // the webhook signed with its secret (the receiver got a signature), looked up from the store
      const got = receiver.requests.find((r) => r.answer === 'ok')!
      expect(got.signature).toBe(signature('whsec-SIGNING-key', got.body))
      expect(lines.some((l) => /alert sink slack:127\.0\.0\.1:\d+#[0-9a-f]{8}: delivery failed \(request failed: ECONNREFUSED\)/.test(l))).toBe(true)
      await host.handlers['settings.update']({ patch: { pipeline: { triggerMs: 60 } } })
      await host.handlers['pipeline.stop']({})

      const seen = [
        ...lines,
        JSON.stringify(sinks),
        JSON.stringify(await host.handlers['settings.get']({})),
        JSON.stringify(await host.handlers['ops.doctor']({})),
        readFileSync(settingsFile, 'utf8'),
        (await host.metrics()).text
      ].join('\n')
      for (const secret of ['tok3nSLACKsecret', 'whsec-SIGNING-key', '/services/T0']) expect(seen).not.toContain(secret)
      // only the 0600 secrets file holds them (plain Node: no keychain)
      expect(readdirSync(base).sort()).toEqual(['settings.json', 'settings.secrets.json'])
      expect(readFileSync(join(base, 'settings.secrets.json'), 'utf8')).toContain('whsec-SIGNING-key')
    } finally {
      await host.dispose()
      await receiver.stop()
      spy.mockRestore()
    }
  })
})

describe('pipeline --settings FILE with stored secrets', () => {
  it('finds a secret serve stored beside the file, and refuses one only the desktop app can decrypt', { timeout: 120_000 }, async () => {
    const ws = makeWorkspace()
    const receiver = new AlertReceiver()
    await receiver.listen()
    try {
      const file = join(makeTempDir(), 'settings.json')
      await new SettingsStore(file).update({ alerts: { sinks: [{ kind: 'webhook', url: receiver.url, secret: 'cli-whsec' }] } })
      expect(readFileSync(file, 'utf8')).not.toContain('cli-whsec')
      writeLines(ws.orders('1.jsonl'), [order({ order_id: 'p1', total_amount: 6000, order_ts: ts(0) })])
      await runPipeline(ws, { settings: file, baseSettings: readSettingsFile(file) })
      const got = receiver.requests.find((r) => r.answer === 'ok')!
      expect(JSON.parse(got.body).alerts.map((a: { order_id: string }) => a.order_id)).toEqual(['p1'])
      expect(got.signature).toBe(signature('cli-whsec', got.body))

      // stored by the app through safeStorage: plain Node says what to do instead of sending unsigned
      const appFile = join(makeTempDir(), 'settings.json')
      const fake = { isEncryptionAvailable: () => true, encryptString: (t: string) => Buffer.from(t).reverse(), decryptString: (b: Buffer) => Buffer.from(b).reverse().toString() }
      await new SettingsStore(appFile, {}, new SecretStore(secretsFileFor(appFile), safeStorageCodec(fake))).update({
        alerts: { sinks: [{ kind: 'webhook', url: receiver.url, secret: 'app-whsec' }] }
      })
      const ws2 = makeWorkspace()
      writeLines(ws2.orders('1.jsonl'), [order({ order_id: 'p2', total_amount: 6000, order_ts: ts(0) })])
      await expect(runPipeline(ws2, { settings: appFile, baseSettings: readSettingsFile(appFile) })).rejects.toThrow(
        /alerts\.sinks\.0\.secret: this secret was stored encrypted by the desktop app's OS keychain/
      )
      expect(receiver.deliveredOrders().has('p2')).toBe(false)
    } finally {
      await receiver.stop()
    }
  })
})
