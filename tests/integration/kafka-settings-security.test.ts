import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type TLSSocket } from 'node:tls'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngineHost } from '../../src/main/api/engine-host'
import { SettingsStore } from '../../src/main/engine/settings-store'
import { kafkaConnectionFor } from '../../src/main/sources/kafka-security'
import { parseSettings } from '../../src/shared/settings'
import { startBroker, stopAllBrokers } from '../support/kafka-broker'
import { cleanupTempDirs, makeTempDir, makeWorkspace } from '../support/lake-fixtures'
import { until } from '../support/wait'

// Kafka TLS and SASL from the settings (the pane's Source group, a Kafka sink's own): checked
// with reasons, the password kept as a secret, and both reaching the client. The test broker
// speaks neither TLS nor SASL: TLS is checked against a TLS server that completes the handshake,
// SASL by the broker's answer to the client's SASL handshake request (it does not support it),
// where the same broker without SASL settings is reached.

afterAll(async () => {
  await stopAllBrokers()
  cleanupTempDirs()
})

const noEnv = {}

describe('Kafka security settings', () => {
  it('checks the settings with a reason per field', () => {
    const bad = (kafka: unknown) => {
      try {
        parseSettings({ source: { kafka } })
      } catch (err) {
        return (err as Error).message
      }
      return 'accepted'
    }
    expect(bad({ tls: { enabled: true, certFile: '/c.pem' } })).toBe('source.kafka.tls.keyFile: a client certificate and its key go together: give both or neither')
    expect(bad({ sasl: { mechanism: 'scram-sha-512', password: 'x' } })).toBe('source.kafka.sasl.username: SASL SCRAM-SHA-512 needs a user name')
    expect(bad({ sasl: { mechanism: 'plain', username: 'u' } })).toBe('source.kafka.sasl.password: SASL PLAIN needs a password')
    expect(bad({ sasl: { mechanism: 'gssapi' } })).toMatch(/^source\.kafka\.sasl\.mechanism: must be one of "none", "plain"/)
    expect(bad({ sasl: { mechanism: 'plain', username: 'u', password: 'p' }, tls: { enabled: true } })).toBe('accepted')
  })

  it('builds the client connection from the settings, the password looked up in the secret store', async () => {
    const dir = makeTempDir()
    for (const f of ['ca', 'cert', 'key']) writeFileSync(join(dir, `${f}.pem`), `${f.toUpperCase()} PEM`)
    const store = new SettingsStore(join(dir, 'settings.json'))
    await store.update({
      source: {
        kafka: {
          tls: { enabled: true, caFile: 'ca.pem', certFile: 'cert.pem', keyFile: 'key.pem', servername: 'kafka.example.com' },
          sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'kafka-s3cret' }
        }
      }
    })
    const k = store.get().source.kafka
    expect(JSON.stringify(k)).not.toContain('kafka-s3cret')
    const resolvePath = (p: string) => join(dir, p)
    expect(await kafkaConnectionFor(['b1:9093'], k, 'source.kafka', store.secrets.reveal, resolvePath, noEnv)).toEqual({
      servers: ['b1:9093'],
      tls: { ca: ['CA PEM'], cert: 'CERT PEM', key: 'KEY PEM', servername: 'kafka.example.com' },
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'kafka-s3cret' }
    })
    // TLS on with no CA file: the system's roots
    const systemCas = parseSettings({ source: { kafka: { tls: { enabled: true } } } }).source.kafka
    expect((await kafkaConnectionFor(['b:1'], systemCas, 'source.kafka', store.secrets.reveal, resolvePath, noEnv)).tls).toEqual({})
    // settings that say nothing leave TLS and SASL to the STREAMDESK_KAFKA_* variables, as before
    const none = parseSettings({}).source.kafka
    const env = { STREAMDESK_KAFKA_TLS: '1', STREAMDESK_KAFKA_SASL_MECHANISM: 'plain', STREAMDESK_KAFKA_SASL_USERNAME: 'e', STREAMDESK_KAFKA_SASL_PASSWORD: 'ep' }
    expect(await kafkaConnectionFor(['b:1'], none, 'source.kafka', store.secrets.reveal, resolvePath, env)).toEqual({
      servers: ['b:1'],
      tls: {},
      sasl: { mechanism: 'plain', username: 'e', password: 'ep' }
    })
    // a file that cannot be read names its setting
    const missing = parseSettings({ source: { kafka: { tls: { enabled: true, caFile: 'nope.pem' } } } }).source.kafka
    await expect(kafkaConnectionFor(['b:1'], missing, 'source.kafka', store.secrets.reveal, resolvePath, noEnv)).rejects.toThrow(
      `source.kafka.tls.caFile: cannot read ${join(dir, 'nope.pem')} (ENOENT)`
    )
  })

  it('SASL from the settings reaches the broker; doctor reports it without the password', { timeout: 120_000 }, async () => {
    const broker = await startBroker({ sd_orders: 1, sd_customers: 1 })
    const ws = makeWorkspace()
    const base = makeTempDir()
    const settingsFile = join(base, 'settings.json')
    const kafka = { servers: [broker.bootstrap], ordersTopic: 'sd_orders', customersTopic: 'sd_customers' }
    writeFileSync(settingsFile, JSON.stringify({ lakePath: ws.lake, source: { kind: 'kafka', kafka } }))
    const host = await createEngineHost({ settingsFile, baseDir: base })
    try {
      const kafkaCheck = async () => (await host.handlers['ops.doctor']({})).find((c) => c.name === 'kafka')!
      // no SASL: the broker is reached
      expect(await kafkaCheck()).toMatchObject({ status: 'ok', message: expect.stringContaining('(no TLS, no SASL)') })

      await host.handlers['settings.update']({ patch: { source: { kafka: { sasl: { mechanism: 'plain', username: 'bob', password: 'pw-on-the-wire' } } } } })
      // the client now opens with a SASL handshake, which this broker does not support
      const check = await kafkaCheck()
      expect(check.status).toBe('fail')
      expect(check.message).toContain('(no TLS, SASL PLAIN as bob)')
      expect(check.message).toContain('does not support the requested API version')
      expect(JSON.stringify(await host.handlers['ops.doctor']({}))).not.toContain('pw-on-the-wire')
      const secrets = (await host.handlers['ops.doctor']({})).find((c) => c.name === 'secrets')!
      expect(secrets).toMatchObject({ status: 'ok', message: expect.stringContaining('mode 0600') })

      // a Kafka alert sink with SASL of its own: the same, for the sink (its password a stored secret too)
      const sink = { kind: 'kafka', name: 'bus', servers: [broker.bootstrap], topic: 'sd_alerts' }
      await host.handlers['settings.update']({ patch: { alerts: { sinks: [sink] } } })
      const sinkCheck = async () => (await host.handlers['ops.doctor']({})).find((c) => c.name === 'alert sink bus')!
      expect(await sinkCheck()).toMatchObject({ status: 'ok', message: expect.stringContaining('(no TLS, no SASL)') })
      await host.handlers['settings.update']({
        patch: { alerts: { sinks: [{ ...sink, sasl: { mechanism: 'scram-sha-512', username: 'carol', password: 'sink-pw-wire' } }] } }
      })
      const failed = await sinkCheck()
      expect(failed.status).toBe('fail')
      expect(failed.message).toContain('(no TLS, SASL SCRAM-SHA-512 as carol)')
      expect(failed.message).toContain('does not support the requested API version')
      expect(JSON.stringify(await host.handlers['settings.get']({}))).not.toContain('sink-pw-wire')
      await host.handlers['settings.update']({ patch: { alerts: { sinks: [] } } })

      // the pipeline uses the same settings
      await host.handlers['pipeline.start']({})
      let status = await host.handlers['pipeline.status']({})
      await until(
        'the pipeline says the broker refused the SASL handshake',
        async () => {
          status = await host.handlers['pipeline.status']({})
          return /does not support the requested API version/.test(status.message ?? '')
        },
        { detail: () => status }
      )
      await host.handlers['pipeline.stop']({})
      expect(readFileSync(settingsFile, 'utf8')).not.toContain('pw-on-the-wire')
      expect(readFileSync(settingsFile, 'utf8')).not.toContain('sink-pw-wire')
    } finally {
      await host.dispose()
    }
  })
})

let openssl = true
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' })
} catch {
  openssl = false
}

describe.skipIf(!openssl)('TLS from the settings reaches the handshake', () => {
  it('trusts the CA file of the settings, and says why without it', { timeout: 120_000 }, async () => {
    const dir = makeTempDir()
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')
    ], { stdio: 'ignore' })
    let handshakes = 0
    const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (s: TLSSocket) => {
      handshakes++
      s.destroy()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    const port = (server.address() as { port: number }).port
    const settingsFile = join(dir, 'settings.json')
    const kafka = { servers: [`127.0.0.1:${port}`], tls: { enabled: true } }
    writeFileSync(settingsFile, JSON.stringify({ lakePath: join(dir, 'lake'), source: { kind: 'kafka', kafka } }))
    const host = await createEngineHost({ settingsFile, baseDir: dir })
    try {
      const check = async () => (await host.handlers['ops.doctor']({})).find((c) => c.name === 'kafka')!
      // the system's roots do not know this certificate
      expect((await check()).message).toMatch(/TLS \(system CAs\), no SASL\): .*self[- ]signed certificate/i)
      expect(handshakes).toBe(0)
      await host.handlers['settings.update']({ patch: { source: { kafka: { tls: { caFile: 'cert.pem' } } } } })
      expect((await check()).message).toContain('TLS (own CA file), no SASL')
      expect(handshakes).toBeGreaterThan(0)
    } finally {
      await host.dispose()
      server.close()
    }
  })
})
