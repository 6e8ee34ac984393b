import { readdirSync, statfsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { checkLakeWritable, inspectLakeHealth, nearestExisting, type LakeHealth } from '../lake/lake-check'
import { canonicalDir } from '../lake/lake-folder'
import { SCHEMA_VERSION } from '../lake/schema'
import type { KafkaConnection } from '../sources/kafka-client'
import { describeKafkaSecurity, kafkaConnectionFor } from '../sources/kafka-security'
import { revealClearOnly, type Reveal, type SecretStore } from './secret-store'
import type { Settings } from '../../shared/settings'
import { secretSlots } from '../../shared/secrets'
import { probeKafka } from '../sources/kafka-check'
import type { DoctorCheck as CheckResult } from '../../shared/api'
import type { AlertSinkSettings } from '../../shared/settings'
import { checkSink } from '../alerts/sink-check'

// The setup check (`streamdesk doctor`): every thing a run needs from this machine, each looked
// at without changing anything, each answered ok, warn or fail with what to do about it. A fail
// is what would stop a run or lose data; a warn is what a run survives but a person should know.

export type { DoctorCheck as CheckResult } from '../../shared/api'

export interface DoctorInput {
  lakeDir: string
  inputDir: string
  /** generator: the built-in generator makes the input folder itself. */
  sourceKind: 'generator' | 'folder' | 'kafka'
  kafka?: { connection: KafkaConnection; ordersTopic: string; customersTopic: string }
  /** Why the Kafka settings give no connection (a TLS file unreadable, a password not found). */
  kafkaProblem?: string
  maxFutureSkewMinutes: number
  /** Where the engine runs: Node's and Electron's versions (process.versions by default). */
  versions?: NodeJS.ProcessVersions
  /** The lake as read by the process holding it (a process must not open its own lake twice). */
  health?: LakeHealth
  /** Alert sinks (`alerts.sinks`), a file sink's path resolved with `resolvePath`. */
  sinks?: readonly AlertSinkSettings[]
  resolvePath?: (p: string) => string
  /** Looks up the secrets the settings name (Kafka passwords, Slack URLs, webhook secrets). */
  reveal?: Reveal
  /** Where those secrets are kept, when the settings name any. */
  secrets?: SecretStore
}

/** What the settings say to check: their lake, input folder, source (Kafka with its TLS and SASL) and sinks. */
export async function doctorInputFor(
  s: Settings,
  resolvePath: (p: string) => string,
  secrets?: SecretStore
): Promise<DoctorInput> {
  const k = s.source.kafka
  const reveal = secrets?.reveal ?? revealClearOnly
  let kafka: DoctorInput['kafka']
  let kafkaProblem: string | undefined
  if (s.source.kind === 'kafka') {
    try {
      const connection = await kafkaConnectionFor(k.servers, k, 'source.kafka', reveal, resolvePath)
      kafka = { connection, ordersTopic: k.ordersTopic, customersTopic: k.customersTopic }
    } catch (err) {
      kafkaProblem = (err as Error).message
    }
  }
  return {
    lakeDir: resolvePath(s.lakePath),
    inputDir: resolvePath(s.source.inputPath),
    sourceKind: s.source.kind,
    kafka,
    kafkaProblem,
    maxFutureSkewMinutes: s.pipeline.maxFutureSkewMinutes,
    sinks: s.alerts.sinks,
    resolvePath,
    reveal,
    secrets: secretSlots(s).length > 0 ? secrets : undefined
  }
}

/** package.json `engines.node`. */
const MIN_NODE: [number, number] = [20, 19]
/** Below this a batch's spill or a checkpoint may not fit; below WARN_FREE_BYTES it soon will not. */
const FAIL_FREE_BYTES = 256 * 1024 ** 2
const WARN_FREE_BYTES = 2 * 1024 ** 3
/** A last commit this far after this machine's clock means the clock went back since. */
const CLOCK_BACK_TOLERANCE_MS = 60_000

const ok = (name: string, message: string): CheckResult => ({ name, status: 'ok', message })
const warn = (name: string, message: string, fix: string): CheckResult => ({ name, status: 'warn', message, fix })
const fail = (name: string, message: string, fix: string): CheckResult => ({ name, status: 'fail', message, fix })

export async function runDoctor(input: DoctorInput): Promise<CheckResult[]> {
  const lakeDir = canonicalDir(input.lakeDir)
  const health = input.health ?? (await inspectLakeHealth(lakeDir))
  const results = [
    checkRuntime(input.versions ?? process.versions),
    checkLakeFolder(lakeDir),
    checkLake(health),
    checkInput(input),
    ...(input.kafka ? [await checkKafka(input.kafka)] : []),
    ...(input.kafkaProblem ? [fail('kafka', input.kafkaProblem, 'correct the Kafka TLS files, or enter the SASL password again, in the settings')] : []),
    ...(input.secrets ? [checkSecrets(input.secrets)] : []),
    ...(await Promise.all(
      (input.sinks ?? []).map((sink, i) => checkSink(sink, input.resolvePath ?? ((p) => p), `alerts.sinks.${i}`, input.reveal))
    )),
    checkDisk(lakeDir),
    checkClock(health, input.maxFutureSkewMinutes)
  ]
  return results
}

function checkRuntime(v: NodeJS.ProcessVersions): CheckResult {
  const [major, minor] = v.node.split('.').map(Number)
  const shell = v.electron ? `Electron ${v.electron} (Chromium ${v.chrome})` : 'not in Electron (the desktop app brings its own)'
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    return fail('runtime', `Node ${v.node}; StreamDesk needs ${MIN_NODE.join('.')} or later`, `install Node ${MIN_NODE.join('.')} or later (nodejs.org, or your package manager)`)
  }
  return ok('runtime', `Node ${v.node}; ${shell}`)
}

function checkLakeFolder(lakeDir: string): CheckResult {
  const w = checkLakeWritable(lakeDir)
  if (w.ok) return ok('lake folder', w.where === lakeDir ? `${lakeDir} is writable` : `${lakeDir} does not exist yet; it can be created in ${w.where}`)
  return fail(
    'lake folder',
    `the lake folder ${lakeDir} is not writable: ${w.reason}`,
    `choose a lake folder this user can write (--lake DIR, or Settings → Lake), or give this user write access to ${w.where}`
  )
}

function checkLake(h: LakeHealth): CheckResult {
  switch (h.kind) {
    case 'new':
      return ok('lake', `no lake in ${h.dir} yet; the first run creates one (schema ${SCHEMA_VERSION})`)
    case 'refused':
      return fail('lake', h.reason, 'choose an empty or new folder for the lake (--lake DIR); StreamDesk never changes a file it did not create')
    case 'in-use':
      return warn('lake', `${h.reason.split(';')[0]}: its format and integrity were not checked`, 'stop that process (or look at its dashboard) and run doctor again')
  }
  const what = `StreamDesk lake, schema ${h.schemaVersion}, ${h.orders} orders in ${h.batches} batches`
  if (h.mismatches.length > 0) {
    return warn('lake', `${what}; its batch counts disagree with its tables (${h.mismatches.join('; ')})`, 'export it (streamdesk export) and report this; a new lake folder starts clean')
  }
  if (h.schemaVersion < SCHEMA_VERSION) {
    return warn('lake', `${what}; the next run migrates it to schema ${SCHEMA_VERSION}`, 'keep a copy of the lake folder first if an older StreamDesk must still read it')
  }
  return ok('lake', `${what}; opens and reads`)
}

function checkInput(input: DoctorInput): CheckResult {
  if (input.sourceKind === 'kafka') return ok('input folder', 'not used: the source is Kafka')
  const dir = canonicalDir(input.inputDir)
  const st = statSync(dir, { throwIfNoEntry: false })
  if (!st) {
    if (input.sourceKind === 'generator') return ok('input folder', `${dir} does not exist yet; the built-in generator creates it`)
    return fail('input folder', `the input folder ${dir} does not exist`, `create ${join(dir, 'orders')} and ${join(dir, 'customers')}, or point --input-path at the folder that has them`)
  }
  if (!st.isDirectory()) return fail('input folder', `the input folder ${dir} is a file`, 'point --input-path at a folder with orders/ and customers/ in it')
  const missing: string[] = []
  for (const sub of ['orders', 'customers']) {
    try {
      readdirSync(join(dir, sub))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') return fail('input folder', `cannot read ${join(dir, sub)} (${code})`, `give this user read access to ${dir}`)
      missing.push(sub)
    }
  }
  if (missing.length > 0) {
    return warn('input folder', `${dir} has no ${missing.join('/ or ')}/ folder: nothing there is read`, `put order files in ${join(dir, 'orders')} and customer files in ${join(dir, 'customers')}`)
  }
  return ok('input folder', `${dir} has orders/ and customers/`)
}

/** Where the secrets are kept, said plainly: encrypted by the OS keychain, or a 0600 file only. */
function checkSecrets(store: SecretStore): CheckResult {
  if (store.permissionsTooOpen()) {
    return warn('secrets', `${store.file} can be read by other users`, `chmod 600 ${store.file}`)
  }
  return ok('secrets', `kept in ${store.file}: ${store.codec.protection}`)
}

async function checkKafka(k: NonNullable<DoctorInput['kafka']>): Promise<CheckResult> {
  const probe = await probeKafka(k.connection, [k.ordersTopic, k.customersTopic])
  const security = describeKafkaSecurity(k.connection)
  if (!probe.reachable) {
    return fail(
      'kafka',
      `cannot reach Kafka at ${probe.servers} (${security}): ${probe.reason}`,
      'start the broker, or correct --kafka-servers HOST:PORT; check the firewall, and TLS (--kafka-tls*) and SASL (--kafka-sasl-*) if the broker asks for them'
    )
  }
  const topics = probe.topics.map((t) => `${t.topic} (${t.partitions === null ? 'missing' : `${t.partitions} partition${t.partitions === 1 ? '' : 's'}`})`).join(', ')
  const missing = probe.topics.filter((t) => t.partitions === null).map((t) => t.topic)
  if (missing.length > 0) {
    return warn('kafka', `reached ${probe.servers} (${security}); topics: ${topics}`, `create ${missing.join(' and ')} (or produce to it); the pipeline waits for a missing topic and reads it once it exists`)
  }
  return ok('kafka', `reached ${probe.servers} (${security}); topics: ${topics}`)
}

function checkDisk(lakeDir: string): CheckResult {
  const where = nearestExisting(lakeDir)
  let free: number
  try {
    const s = statfsSync(where)
    free = s.bavail * s.bsize
  } catch (err) {
    return warn('disk', `cannot tell the free space at ${where} (${(err as Error).message})`, 'check the free space of the lake folder by hand (df -h)')
  }
  const shown = `${(free / 1024 ** 3).toFixed(1)} GiB free at ${where}`
  if (free < FAIL_FREE_BYTES) return fail('disk', shown, 'free some space, or choose a lake folder on another disk (--lake DIR)')
  if (free < WARN_FREE_BYTES) return warn('disk', shown, 'a lake grows with every batch and spills large batches to disk: free some space soon')
  return ok('disk', shown)
}

function checkClock(h: LakeHealth, maxFutureSkewMinutes: number): CheckResult {
  if (h.kind === 'in-use') return warn('clock', 'not compared: the lake is in use', 'run doctor again while no process holds the lake')
  if (h.kind !== 'lake' || h.newestOrderTs === null) return ok('clock', `${new Date().toISOString()}; no events in the lake to compare with`)
  const now = Date.now()
  const ahead = Date.parse(h.newestOrderTs) - now
  const fixClock = 'set this machine\'s clock right (NTP: timedatectl set-ntp true; Windows and macOS: "set time automatically")'
  if (ahead > maxFutureSkewMinutes * 60_000) {
    return fail(
      'clock',
      `the newest order in the lake (${h.newestOrderTs}) is ${Math.round(ahead / 60_000)} min ahead of this machine's clock (${new Date(now).toISOString()}); orders like it would be quarantined (pipeline.maxFutureSkewMinutes = ${maxFutureSkewMinutes})`,
      fixClock
    )
  }
  if (h.newestCommitAt !== null && Date.parse(h.newestCommitAt) - now > CLOCK_BACK_TOLERANCE_MS) {
    return warn('clock', `the last batch committed at ${h.newestCommitAt}, after this machine's clock (${new Date(now).toISOString()}): the clock went back`, fixClock)
  }
  return ok('clock', `${new Date(now).toISOString()}; newest order in the lake ${h.newestOrderTs}`)
}
