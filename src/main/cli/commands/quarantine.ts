import type { Command } from 'commander'
import { revalidateQuarantine, type RevalidateSelector } from '../../lake/revalidate'
import { CliError } from '../errors'
import { parsePositive } from '../options'
import { withRederivation } from './replay'

// `streamdesk quarantine revalidate`: quarantined order lines whose cause was fixed validated
// again with today's settings (lake/revalidate.ts). Exit 2 for bad flags, 3 when the lake is
// missing or a running StreamDesk holds it.

interface RevalidateFlags {
  lake: string
  id?: number
  reason?: string
  settings?: string
}

export function registerQuarantine(program: Command): void {
  const q = program.command('quarantine').description('Quarantined lines of the lake')
  q.command('revalidate')
    .description('Validate quarantined order lines again with the current settings: the valid ones enter silver as a new batch')
    .option('--lake <dir>', 'lake folder (holds lake.duckdb)', 'lake')
    .option('--id <n>', 'the quarantine row with this id', parsePositive('--id', { integer: true }))
    .option('--reason <text>', 'every unresolved quarantined order line with exactly this reason')
    .option('--settings <file>', 'settings file (JSON, as serve and the app use): pipeline and reporting settings')
    .action(async (flags: RevalidateFlags) => {
      if ((flags.id === undefined) === (flags.reason === undefined)) throw new CliError('give one of --id N and --reason TEXT')
      const selector: RevalidateSelector = flags.id !== undefined ? { id: flags.id } : { reason: flags.reason! }
      const r = await withRederivation(flags, (lake, settings) => revalidateQuarantine(lake, selector, settings))
      console.error(
        r.batchId === null
          ? 'revalidate: no unresolved quarantined order line matches'
          : `revalidate batch ${r.batchId}: ${r.lines} lines: ${r.valid} now valid, ${r.duplicates} duplicates, ${r.stillBad} still quarantined, ${r.alerts} alerts`
      )
    })
}
