import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { CliError } from './errors'
import type { KafkaConnection, SaslMechanism } from '../sources/kafka-client'

// Kafka flags shared by generate, pipeline and run: brokers, topics, TLS and SASL. Each is
// validated with a message naming the flag; TLS files are read here so a wrong path is reported
// before anything connects.

export interface KafkaFlags {
  kafkaServers?: string
  kafkaTopic?: string
  customersTopic?: string
  kafkaClientId?: string
  kafkaTls?: boolean
  kafkaTlsCa?: string
  kafkaTlsCert?: string
  kafkaTlsKey?: string
  kafkaTlsServername?: string
  kafkaTlsInsecure?: boolean
  kafkaSaslMechanism?: string
  kafkaSaslUsername?: string
  kafkaSaslPassword?: string
}

export interface KafkaTarget {
  connection: KafkaConnection
  ordersTopic: string
  customersTopic: string
}

export const DEFAULT_ORDERS_TOPIC = 'ecommerce_orders'
export const DEFAULT_CUSTOMERS_TOPIC = 'ecommerce_customers'
export const SASL_PASSWORD_ENV = 'STREAMDESK_KAFKA_SASL_PASSWORD'
const SASL_MECHANISMS: SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512']

/** Adds the connection and topic options to a command. */
export function addKafkaOptions(cmd: Command): Command {
  return cmd
    .option('--kafka-servers <list>', 'Kafka bootstrap brokers, HOST:PORT[,HOST:PORT...] (required with --mode kafka)')
    .option('--kafka-topic <name>', 'orders topic', DEFAULT_ORDERS_TOPIC)
    .option('--customers-topic <name>', 'customers topic', DEFAULT_CUSTOMERS_TOPIC)
    .option('--kafka-client-id <id>', 'client id the brokers see', 'streamdesk')
    .option('--kafka-tls', 'connect with TLS (implied by the other --kafka-tls-* options)')
    .option('--kafka-tls-ca <file>', 'PEM file of the certificate authorities to trust (default: the system roots)')
    .option('--kafka-tls-cert <file>', 'PEM client certificate (mutual TLS)')
    .option('--kafka-tls-key <file>', 'PEM private key of the client certificate')
    .option('--kafka-tls-servername <name>', 'TLS server name, when it differs from the broker host')
    .option('--kafka-tls-insecure', 'do not verify the broker certificate (testing only)')
    .option('--kafka-sasl-mechanism <m>', `SASL authentication: ${SASL_MECHANISMS.join(', ')}`)
    .option('--kafka-sasl-username <user>', 'SASL user name')
    .option('--kafka-sasl-password <password>', `SASL password (better: the ${SASL_PASSWORD_ENV} environment variable)`)
}

const SERVER = /^[^\s:,/]+:(\d{1,5})$/
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

function topic(flag: string, value: string | undefined, fallback: string): string {
  const t = (value ?? fallback).trim()
  if (!TOPIC.test(t) || t === '.' || t === '..') {
    throw new CliError(`${flag} must be a Kafka topic name (letters, digits, '.', '_', '-', at most 249), got '${value}'`)
  }
  return t
}

function readPem(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new CliError(`${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

/** Validates the Kafka flags; throws CliError naming the offending flag. */
export function parseKafkaFlags(flags: KafkaFlags, env: NodeJS.ProcessEnv = process.env): KafkaTarget {
  if (flags.kafkaServers === undefined || flags.kafkaServers.trim() === '') {
    throw new CliError('--mode kafka needs --kafka-servers HOST:PORT[,HOST:PORT...]')
  }
  const servers = flags.kafkaServers
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const s of servers) {
    const m = SERVER.exec(s)
    const port = m ? Number(m[1]) : 0
    if (!m || port < 1 || port > 65535) throw new CliError(`--kafka-servers must be HOST:PORT[,HOST:PORT...], got '${s}'`)
  }
  const ordersTopic = topic('--kafka-topic', flags.kafkaTopic, DEFAULT_ORDERS_TOPIC)
  const customersTopic = topic('--customers-topic', flags.customersTopic, DEFAULT_CUSTOMERS_TOPIC)
  if (ordersTopic === customersTopic) {
    throw new CliError(`--kafka-topic and --customers-topic must differ, both are '${ordersTopic}'`)
  }
  const connection: KafkaConnection = { servers }
  if (flags.kafkaClientId !== undefined) {
    if (!/^[\w.-]{1,200}$/.test(flags.kafkaClientId)) {
      throw new CliError(`--kafka-client-id must be letters, digits, '.', '_' or '-', got '${flags.kafkaClientId}'`)
    }
    connection.clientId = flags.kafkaClientId
  }

  const tlsWanted =
    flags.kafkaTls || flags.kafkaTlsCa || flags.kafkaTlsCert || flags.kafkaTlsKey || flags.kafkaTlsServername || flags.kafkaTlsInsecure
  if (tlsWanted) {
    if (!!flags.kafkaTlsCert !== !!flags.kafkaTlsKey) {
      throw new CliError('--kafka-tls-cert and --kafka-tls-key go together (a client certificate needs its key)')
    }
    connection.tls = {
      ...(flags.kafkaTlsCa ? { ca: [readPem('--kafka-tls-ca', flags.kafkaTlsCa)] } : {}),
      ...(flags.kafkaTlsCert ? { cert: readPem('--kafka-tls-cert', flags.kafkaTlsCert) } : {}),
      ...(flags.kafkaTlsKey ? { key: readPem('--kafka-tls-key', flags.kafkaTlsKey) } : {}),
      ...(flags.kafkaTlsServername ? { servername: flags.kafkaTlsServername } : {}),
      ...(flags.kafkaTlsInsecure ? { rejectUnauthorized: false } : {})
    }
  }

  const password = flags.kafkaSaslPassword ?? env[SASL_PASSWORD_ENV]
  if (flags.kafkaSaslMechanism !== undefined) {
    const mechanism = flags.kafkaSaslMechanism.trim().toLowerCase() as SaslMechanism
    if (!SASL_MECHANISMS.includes(mechanism)) {
      throw new CliError(`--kafka-sasl-mechanism must be one of ${SASL_MECHANISMS.join(', ')}, got '${flags.kafkaSaslMechanism}'`)
    }
    if (!flags.kafkaSaslUsername) throw new CliError(`--kafka-sasl-mechanism ${mechanism} needs --kafka-sasl-username`)
    if (password === undefined) {
      throw new CliError(`--kafka-sasl-mechanism ${mechanism} needs a password: --kafka-sasl-password or ${SASL_PASSWORD_ENV}`)
    }
    connection.sasl = { mechanism, username: flags.kafkaSaslUsername, password }
  } else if (flags.kafkaSaslUsername !== undefined || flags.kafkaSaslPassword !== undefined) {
    throw new CliError(`--kafka-sasl-username/--kafka-sasl-password need --kafka-sasl-mechanism (${SASL_MECHANISMS.join(', ')})`)
  }
  return { connection, ordersTopic, customersTopic }
}
