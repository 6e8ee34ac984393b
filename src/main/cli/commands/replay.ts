import type { Command } from 'commander'
import { defaultSettings } from '../../../shared/settings'
import { replayScoring } from '../../lake/active-scoring'
import { transformSettings, type TransformSettings } from '../../lake/batch-transform'
import { LakeError, type Lake } from '../../lake/lake'
import { acquireLake } from '../../lake/lake-registry'
import type { ReplayChunkDone } from '../../../shared/dto'
import { replayLake } from '../../lake/replay'
import { adoptReportingCurrency, ReportingCurrencyError } from '../../lake/reporting-currency'
import { RulesStoreError } from '../../lake/rules-store'
import { rebuildWindowsIfResized } from '../../lake/window-maintenance'
import { CliError } from '../errors'
import { parsePositive } from '../options'
import { readSettingsFile } from '../settings-file'
import { readRulesFile } from './rules'

// `streamdesk replay`: silver, alerts, order quarantine and windows of the original batches
// committed in a time range, derived again from bronze with today's settings and ruleset
// (docs/LAKE.md, "Replay"). Exit 2 for bad flags, files or a ruleset the lake has no version of,
// 3 when the lake is missing or a running StreamDesk holds it.

interface ReplayFlags {
  lake: string
  from?: string
  to?: string
  rules?: string
  settings?: string
  chunkBatches?: number
  quiet?: boolean
}

function parseTime(flag: string) {
  return (v: string): string => {
    const ms = Date.parse(v)
    if (Number.isNaN(ms)) throw new CliError(`${flag} must be a date and time (ISO 8601, e.g. 2026-12-01T08:00:00Z), got '${v}'`)
    return new Date(ms).toISOString()
  }
}

export function formatChunk(c: ReplayChunkDone): string {
  return (
    `replay chunk ${c.chunk}/${c.chunks}: batches ${c.batches[0]}–${c.batches[1]}, ${c.lines} orders read: ${c.valid} valid, ` +
    `${c.quarantined} quarantined, ${c.late} late, ${c.duplicates} duplicates, ${c.alerts} alerts (batch ${c.batchId})`
  )
}

/**
 * Runs `work` on the lake with the settings a re-derivation uses (the settings file's, or the
 * defaults, and the active ruleset version or the one equal to `rulesFile`), mapping what a
 * person can fix to its exit code.
 */
export async function withRederivation<T>(
  flags: { lake: string; settings?: string; rules?: string },
  work: (lake: Lake, settings: TransformSettings) => Promise<T>
): Promise<T> {
  const settings = flags.settings ? readSettingsFile(flags.settings) : defaultSettings()
  const ruleset = flags.rules ? readRulesFile(flags.rules) : undefined
  let lake: Lake
  try {
    lake = await acquireLake(flags.lake, { create: false })
  } catch (err) {
    if (err instanceof LakeError) throw new CliError(err.message, 3)
    throw err
  }
  try {
    await adoptReportingCurrency(lake, settings.reporting.currency)
    await rebuildWindowsIfResized(lake, settings.pipeline.windowMinutes)
    const scoring = await replayScoring(lake.writer, ruleset)
    return await work(lake, transformSettings(settings, scoring))
  } catch (err) {
    if (err instanceof ReportingCurrencyError || err instanceof RulesStoreError) throw new CliError(err.message)
    throw err
  } finally {
    await lake.close()
  }
}

export async function runReplay(flags: ReplayFlags, log: (line: string) => void): Promise<void> {
  if (flags.from && flags.to && flags.from > flags.to) throw new CliError(`--from (${flags.from}) is after --to (${flags.to})`)
  await withRederivation(flags, async (lake, settings) => {
    const summary = await replayLake(lake, {
      from: flags.from,
      to: flags.to,
      chunkBatches: flags.chunkBatches,
      settings,
      onChunk: (c) => {
        if (!flags.quiet) log(formatChunk(c))
      }
    })
    log(
      summary.chunks === 0
        ? 'replay: no batch with orders in the range'
        : `replay ${summary.replayId} done: ${summary.batches} batches in ${summary.chunks} chunks, ${summary.lines} orders read, ${summary.valid} valid (ruleset version ${settings.scoring.version})`
    )
  })
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('Derive silver, fraud alerts, order quarantine and windows again from bronze, with the current settings and ruleset')
    .option('--lake <dir>', 'lake folder (holds lake.duckdb)', 'lake')
    .option('--from <time>', 'replay the batches committed at or after this time (ISO 8601)', parseTime('--from'))
    .option('--to <time>', 'replay the batches committed at or before this time (ISO 8601)', parseTime('--to'))
    .option('--rules <file>', "score with this ruleset (a version of the lake's, e.g. from rules export --version N) instead of the active one")
    .option('--settings <file>', 'settings file (JSON, as serve and the app use): pipeline and reporting settings')
    .option('--chunk-batches <n>', 'original batches per transaction (default 64)', parsePositive('--chunk-batches', { integer: true }))
    .option('-q, --quiet', 'no line per chunk')
    .action(async (flags: ReplayFlags) => {
      await runReplay(flags, (line) => console.error(line))
    })
}
