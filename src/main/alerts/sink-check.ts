import { closeSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname, join } from 'node:path'
import type { DoctorCheck } from '../../shared/api'
import type { AlertSinkSettings } from '../../shared/settings'
import { probeKafka } from '../sources/kafka-check'
import { describeKafkaSecurity, kafkaConnectionFor } from '../sources/kafka-security'
import { revealClearOnly, type Reveal } from '../../shared/secrets'
import { revealSink, type RevealedSink } from './open-sink'
import { sinkId } from './sink'

// `doctor`'s look at each alert sink: can this machine reach it? Nothing is sent: a webhook gets
// a TCP connection and no request (a test POST would be an alert to a real receiver), a file's
// folder a probe file created and removed again. Errors never show a URL's path (it may be a secret).

const CONNECT_TIMEOUT_MS = 5000

export async function checkSink(
  settings: AlertSinkSettings,
  resolvePath: (p: string) => string,
  field = 'alerts.sinks',
  reveal: Reveal = revealClearOnly
): Promise<DoctorCheck> {
  let s: RevealedSink
  try {
    s = await revealSink(settings, field, reveal)
  } catch (err) {
    return {
      name: `alert sink ${settings.name ?? settings.kind}`,
      status: 'fail',
      message: (err as Error).message,
      fix: 'enter the secret again in the settings pane (or the settings file); the sink cannot send without it'
    }
  }
  const name = `alert sink ${sinkId(s)}`
  const ok = (message: string): DoctorCheck => ({ name, status: 'ok', message })
  const fail = (message: string, fix: string): DoctorCheck => ({ name, status: 'fail', message, fix })
  switch (s.kind) {
    case 'webhook':
    case 'slack': {
      const url = new URL(s.url)
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
      const reason = await tcpReach(url.hostname, port)
      if (reason === null) return ok(`${url.host} accepts connections (no request sent)`)
      return fail(`cannot connect to ${url.host}: ${reason}`, 'start the receiver or correct the sink\'s url; alerts stay queued in the lake until it answers')
    }
    case 'kafka': {
      let connection
      try {
        connection = await kafkaConnectionFor(s.servers, { tls: s.tls, sasl: s.sasl }, field, reveal, resolvePath)
      } catch (err) {
        return fail((err as Error).message, 'correct the sink\'s TLS files or enter its SASL password again')
      }
      const security = describeKafkaSecurity(connection)
      const probe = await probeKafka(connection, [s.topic])
      if (!probe.reachable) {
        return fail(
          `cannot reach Kafka at ${probe.servers} (${security}): ${probe.reason}`,
          'start the broker or correct the sink\'s servers, TLS and SASL; alerts stay queued in the lake until it answers'
        )
      }
      const missing = probe.topics[0]?.partitions === null
      return ok(`reached ${probe.servers} (${security}); topic ${s.topic} ${missing ? 'does not exist yet (created by the first alert if the broker allows it)' : 'exists'}`)
    }
    case 'file': {
      const path = resolvePath(s.path)
      const reason = fileWritable(path)
      if (reason === null) return ok(`${path} can be written`)
      return fail(reason, `choose a path in a folder this user can write, or give this user write access to ${dirname(path)}`)
    }
  }
}

function tcpReach(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS })
    const done = (reason: string | null) => {
      socket.destroy()
      resolve(reason)
    }
    socket.once('connect', () => done(null))
    socket.once('timeout', () => done(`no answer in ${CONNECT_TIMEOUT_MS / 1000} s`))
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message))
  })
}

/** Why `path` cannot be appended to, or null when it can. */
function fileWritable(path: string): string | null {
  const dir = dirname(path)
  const st = statSync(dir, { throwIfNoEntry: false })
  if (!st) return `the folder ${dir} does not exist`
  if (!st.isDirectory()) return `${dir} is a file, not a folder`
  const probe = join(dir, `.streamdesk-doctor-probe-${process.pid}`)
  try {
    writeFileSync(probe, '', { flag: 'wx' })
    rmSync(probe, { force: true })
    if (statSync(path, { throwIfNoEntry: false })?.isFile()) closeSync(openSync(path, 'r+'))
  } catch (err) {
    return `cannot write in ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
  }
  return null
}
