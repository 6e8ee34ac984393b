import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type TLSSocket } from 'node:tls'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CliError } from '../../src/main/cli/errors'
import { parseKafkaFlags, type KafkaFlags } from '../../src/main/cli/kafka-options'
import { KafkaSource } from '../../src/main/sources/kafka-source'
import type { KafkaConnection } from '../../src/main/sources/kafka-client'
import { cleanupTempDirs, makeTempDir } from '../support/lake-fixtures'
import { spawnCli } from '../support/kafka-processes'

// The Kafka connection flags: each is validated with a message naming it, and TLS options reach
// the TLS handshake. (The test broker speaks neither TLS nor SASL, so the TLS side is checked
// against a TLS server that completes the handshake and then hangs up; SASL is not tested.)

afterAll(cleanupTempDirs)

function err(flags: KafkaFlags, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseKafkaFlags(flags, env)
  } catch (e) {
    expect(e).toBeInstanceOf(CliError)
    return (e as Error).message
  }
  throw new Error('expected a CliError')
}

describe('Kafka flags', () => {
  it('validates each flag with a message naming it', () => {
    expect(err({})).toBe('--mode kafka needs --kafka-servers HOST:PORT[,HOST:PORT...]')
    expect(err({ kafkaServers: 'localhost' })).toBe("--kafka-servers must be HOST:PORT[,HOST:PORT...], got 'localhost'")
    expect(err({ kafkaServers: 'a:9092,b:99999' })).toBe("--kafka-servers must be HOST:PORT[,HOST:PORT...], got 'b:99999'")
    expect(err({ kafkaServers: 'a:1', kafkaTopic: 'bad topic' })).toMatch(/^--kafka-topic must be a Kafka topic name/)
    expect(err({ kafkaServers: 'a:1', kafkaTopic: 't', customersTopic: 't' })).toBe("--kafka-topic and --customers-topic must differ, both are 't'")
    expect(err({ kafkaServers: 'a:1', kafkaTlsCert: '/x.pem' })).toMatch(/--kafka-tls-cert and --kafka-tls-key go together/)
    expect(err({ kafkaServers: 'a:1', kafkaTlsCa: '/nonexistent/ca.pem' })).toBe('--kafka-tls-ca: cannot read /nonexistent/ca.pem (ENOENT)')
    expect(err({ kafkaServers: 'a:1', kafkaSaslMechanism: 'gssapi' })).toMatch(/^--kafka-sasl-mechanism must be one of plain, scram-sha-256, scram-sha-512/)
    expect(err({ kafkaServers: 'a:1', kafkaSaslMechanism: 'plain' })).toBe('--kafka-sasl-mechanism plain needs --kafka-sasl-username')
    expect(err({ kafkaServers: 'a:1', kafkaSaslMechanism: 'plain', kafkaSaslUsername: 'u' })).toMatch(/needs a password: --kafka-sasl-password or STREAMDESK_KAFKA_SASL_PASSWORD/)
    expect(err({ kafkaServers: 'a:1', kafkaSaslUsername: 'u' })).toMatch(/need --kafka-sasl-mechanism/)
  })

  it('passes TLS and SASL settings through', () => {
    const dir = makeTempDir()
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM')
    writeFileSync(join(dir, 'cert.pem'), 'CERT PEM')
    writeFileSync(join(dir, 'key.pem'), 'KEY PEM')
    const t = parseKafkaFlags(
      {
        kafkaServers: ' b1:9093, b2:9093 ',
        kafkaTopic: 'o.v1',
        customersTopic: 'c-v1',
        kafkaClientId: 'sd-1',
        kafkaTlsCa: join(dir, 'ca.pem'),
        kafkaTlsCert: join(dir, 'cert.pem'),
        kafkaTlsKey: join(dir, 'key.pem'),
        kafkaTlsServername: 'kafka.example.com',
        kafkaSaslMechanism: 'SCRAM-SHA-512',
        kafkaSaslUsername: 'alice'
      },
      { STREAMDESK_KAFKA_SASL_PASSWORD: 's3cret' }
    )
    expect(t).toEqual({
      ordersTopic: 'o.v1',
      customersTopic: 'c-v1',
      connection: {
        servers: ['b1:9093', 'b2:9093'],
        clientId: 'sd-1',
        tls: { ca: ['CA PEM'], cert: 'CERT PEM', key: 'KEY PEM', servername: 'kafka.example.com' },
        sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 's3cret' }
      }
    })
    expect(parseKafkaFlags({ kafkaServers: 'a:1', kafkaTls: true }).connection.tls).toEqual({})
    expect(parseKafkaFlags({ kafkaServers: 'a:1', kafkaTlsInsecure: true }).connection.tls).toEqual({ rejectUnauthorized: false })
    expect(parseKafkaFlags({ kafkaServers: 'a:1' }).connection.tls).toBeUndefined()
  })
})

let openssl = true
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' })
} catch {
  openssl = false
}

describe.skipIf(!openssl)('TLS reaches the handshake', () => {
  it('verifies the broker certificate against --kafka-tls-ca, and says why when it fails', { timeout: 60_000 }, async () => {
    const dir = makeTempDir()
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')
    ], { stdio: 'ignore' })
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
    let handshakes = 0
    // completes the TLS handshake, then hangs up (it is not a Kafka broker)
    const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (s: TLSSocket) => {
      handshakes++
      s.destroy()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    const port = (server.address() as { port: number }).port
    const waitReason = async (tls: KafkaConnection['tls']) => {
      const source = new KafkaSource({ connection: { servers: [`127.0.0.1:${port}`], tls }, ordersTopic: 'o', customersTopic: 'c' })
      await source.open(new Map())
      await source.poll(1024)
      const status = source.status()
      await source.close()
      return status ?? ''
    }
    try {
      // our CA: the handshake succeeds (the server then hangs up, so it is still "waiting")
      expect(await waitReason({ ca: [cert] })).toMatch(/^waiting for Kafka at 127\.0\.0\.1:\d+/)
      expect(handshakes).toBeGreaterThan(0)
      const before = handshakes
      // the system's CAs do not know this certificate: refused, and the status says why
      expect(await waitReason(true)).toMatch(/self[- ]signed certificate/i)
      expect(handshakes).toBe(before)
      // --kafka-tls-insecure accepts it
      await waitReason({ rejectUnauthorized: false })
      expect(handshakes).toBeGreaterThan(before)

      // the same through the CLI: --kafka-tls (system CAs) refuses it; --until-idle gives up with the reason
      const child = spawnCli(['pipeline', '--mode', 'kafka', '--kafka-servers', `127.0.0.1:${port}`, '--kafka-tls', '--lake', join(dir, 'lake'), '--until-idle', '--connect-timeout', '1s'])
      const exit = await child.exited
      expect(exit.code, child.stderr()).toBe(5)
      expect(child.stderr()).toMatch(/could not reach Kafka at 127\.0\.0\.1:\d+ within 1 s \(.*self[- ]signed certificate/i)
    } finally {
      server.close()
    }
  })
})
