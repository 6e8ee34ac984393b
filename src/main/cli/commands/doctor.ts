import { resolve } from 'node:path'
import type { Command } from 'commander'
import { defaultSettings } from '../../../shared/settings'
import { doctorInputFor, runDoctor, type CheckResult, type DoctorInput } from '../../engine/doctor'
import { addKafkaOptions, parseKafkaFlags, type KafkaFlags } from '../kafka-options'
import { parseChoice } from '../options'
import { readSettingsFile, settingsSecrets } from '../settings-file'

// `streamdesk doctor`: the setup check. One line per check (ok, warn, FAIL) and the fix under each
// warn and fail. Exit 0 when nothing failed (warnings allowed), 1 when a check failed, 2 for bad
// flags like every command.

/** Exit code when at least one check failed. */
export const EXIT_CHECK_FAILED = 1

interface DoctorFlags extends KafkaFlags {
  lake?: string
  inputPath?: string
  mode?: 'file' | 'kafka'
  settings?: string
}

async function doctorInput(flags: DoctorFlags, command: Command): Promise<DoctorInput> {
  const fromFile = await doctorInputFor(
    flags.settings ? readSettingsFile(flags.settings) : defaultSettings(),
    (p) => resolve(p),
    flags.settings ? settingsSecrets(flags.settings) : undefined
  )
  // without --settings there is no built-in generator to make the input folder: a file run needs it
  const settingsKind = flags.settings ? fromFile.sourceKind : 'folder'
  const sourceKind = flags.mode === 'kafka' ? 'kafka' : flags.mode === 'file' ? 'folder' : settingsKind
  const given = (name: string) => command.getOptionValueSource(name) === 'cli'
  let kafka = fromFile.kafka
  if (sourceKind === 'kafka' && (given('kafkaServers') || (!kafka && !fromFile.kafkaProblem))) kafka = parseKafkaFlags(flags)
  else if (kafka) {
    kafka = {
      ...kafka,
      ordersTopic: given('kafkaTopic') ? flags.kafkaTopic! : kafka.ordersTopic,
      customersTopic: given('customersTopic') ? flags.customersTopic! : kafka.customersTopic
    }
  }
  return {
    ...fromFile,
    lakeDir: flags.lake ? resolve(flags.lake) : fromFile.lakeDir,
    inputDir: flags.inputPath ? resolve(flags.inputPath) : fromFile.inputDir,
    sourceKind,
    kafka: sourceKind === 'kafka' ? kafka : undefined,
    kafkaProblem: sourceKind === 'kafka' && kafka === fromFile.kafka ? fromFile.kafkaProblem : undefined
  }
}

export function formatCheck(r: CheckResult): string {
  const label = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' }[r.status]
  const line = `${label}  ${r.name.padEnd(12)}  ${r.message}`
  return r.fix ? `${line}\n${' '.repeat(20)}fix: ${r.fix}` : line
}

export function registerDoctor(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('Check this setup: runtime, lake folder and lake, input folder, Kafka, alert sinks, free disk, clock; each ok/warn/fail with the fix')
    .option('--lake <dir>', 'lake folder (default: the settings file\'s, else ./lake)')
    .option('--input-path <dir>', 'input folder (default: the settings file\'s, else ./data/streaming)')
    .option('--mode <mode>', "source: 'file' or 'kafka' (default: the settings file's source)", parseChoice('--mode', ['file', 'kafka'] as const))
    .option('--settings <file>', 'settings file (JSON, as serve and the app use)')
  addKafkaOptions(cmd).action(async (flags: DoctorFlags, command: Command) => {
    const results = await runDoctor(await doctorInput(flags, command))
    for (const r of results) console.log(formatCheck(r))
    const failed = results.filter((r) => r.status === 'fail').length
    const warned = results.filter((r) => r.status === 'warn').length
    console.log(failed ? `${failed} check${failed > 1 ? 's' : ''} failed` : warned ? `no check failed (${warned} warning${warned > 1 ? 's' : ''})` : 'all checks passed')
    if (failed) process.exitCode = EXIT_CHECK_FAILED
  })
}
