import { readFileSync } from 'node:fs'
import type { KafkaSaslSettings, KafkaTlsSettings } from '../../shared/settings'
import type { Reveal, SecretValue } from '../../shared/secrets'
import { kafkaSecurityFromEnv, type KafkaConnection } from './kafka-client'

// TLS and SASL of a Kafka connection from the settings (the pane's Source group, or a Kafka
// sink's own `tls`/`sasl`). Settings that say nothing (TLS off, no SASL mechanism) leave each to
// the STREAMDESK_KAFKA_* variables, as before the settings had them. A file that cannot be read
// is an error naming the setting.

export class KafkaSettingsError extends Error {
  constructor(
    readonly field: string,
    message: string
  ) {
    super(`${field}: ${message}`)
    this.name = 'KafkaSettingsError'
  }
}

export interface KafkaSecuritySettings {
  tls?: KafkaTlsSettings
  sasl?: KafkaSaslSettings
}

function readPem(field: string, path: string, resolvePath: (p: string) => string): string {
  const abs = resolvePath(path)
  try {
    return readFileSync(abs, 'utf8')
  } catch (err) {
    throw new KafkaSettingsError(field, `cannot read ${abs} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

/** `servers` with the TLS and SASL the settings (at `field`, e.g. "source.kafka") ask for. */
export async function kafkaConnectionFor(
  servers: string[],
  security: KafkaSecuritySettings,
  field: string,
  reveal: Reveal,
  resolvePath: (p: string) => string,
  env: NodeJS.ProcessEnv = process.env
): Promise<KafkaConnection> {
  const fromEnv = kafkaSecurityFromEnv(env)
  const connection: KafkaConnection = { servers }
  const t = security.tls
  if (t?.enabled) {
    connection.tls = {
      ...(t.caFile ? { ca: [readPem(`${field}.tls.caFile`, t.caFile, resolvePath)] } : {}),
      ...(t.certFile ? { cert: readPem(`${field}.tls.certFile`, t.certFile, resolvePath) } : {}),
      ...(t.keyFile ? { key: readPem(`${field}.tls.keyFile`, t.keyFile, resolvePath) } : {}),
      ...(t.servername ? { servername: t.servername } : {}),
      ...(t.insecure ? { rejectUnauthorized: false } : {})
    }
  } else if (fromEnv.tls) connection.tls = fromEnv.tls
  const s = security.sasl
  if (s && s.mechanism !== 'none') {
    const password = await reveal(s.password as SecretValue, 'kafka-password', `${field}.sasl.password`)
    connection.sasl = { mechanism: s.mechanism, username: s.username, password }
  } else if (fromEnv.sasl) connection.sasl = fromEnv.sasl
  return connection
}

/** What doctor says about the security a connection uses, never the password. */
export function describeKafkaSecurity(c: KafkaConnection): string {
  const tls = !c.tls ? 'no TLS' : c.tls === true || !c.tls.ca ? 'TLS (system CAs)' : 'TLS (own CA file)'
  const mtls = typeof c.tls === 'object' && c.tls.cert ? ', client certificate' : ''
  const sasl = c.sasl ? `SASL ${c.sasl.mechanism.toUpperCase()} as ${c.sasl.username}` : 'no SASL'
  return `${tls}${mtls}, ${sasl}`
}
