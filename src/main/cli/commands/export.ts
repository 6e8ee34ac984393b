import type { Command } from 'commander'
import { LakeError } from '../../lake/lake'
import { acquireLake } from '../../lake/lake-registry'
import { exportLake, ExportError } from '../../lake/export'
import type { ExportFormat } from '../../../shared/dto'
import { CliError } from '../errors'
import { parseChoice } from '../options'

const EXIT_BAD_INPUT = 2
const EXIT_LAKE_UNAVAILABLE = 3
const EXIT_FAILED = 1

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write a consistent snapshot of every lake table plus manifest.json')
    .requiredOption('--out <dir>', 'folder to write the snapshot to (new or empty, or see --overwrite)')
    .option('--lake <dir>', 'lake folder (holds lake.duckdb); it must exist', 'lake')
    .option('--format <format>', 'parquet, csv or duckdb', parseChoice('--format', ['parquet', 'csv', 'duckdb'] as const), 'parquet')
    .option('--overwrite', "replace an earlier StreamDesk export in --out (only the files its manifest.json lists; other files are kept)", false)
    .action(async (flags: { out: string; lake: string; format: ExportFormat; overwrite: boolean }) => {
      let lake
      try {
        lake = await acquireLake(flags.lake, { create: false })
      } catch (err) {
        if (err instanceof LakeError) throw new CliError(err.message, EXIT_LAKE_UNAVAILABLE)
        throw err
      }
      try {
        const result = await exportLake(lake, flags.out, flags.format, { overwrite: flags.overwrite })
        for (const t of result.tables) console.log(`${t.name.padEnd(18)} ${String(t.rows).padStart(10)} rows  ${t.file}`)
        if (result.replaced.length > 0) console.log(`replaced the earlier export's ${result.replaced.join(', ')}`)
        console.log(`manifest: ${result.manifestPath}`)
      } catch (err) {
        if (!(err instanceof ExportError)) throw err
        if (err.code === 'needs-overwrite') throw new CliError(`${err.message}; add --overwrite to go ahead`, EXIT_BAD_INPUT)
        throw new CliError(err.message, err.code === 'refused' ? EXIT_BAD_INPUT : EXIT_FAILED)
      } finally {
        await lake.close()
      }
    })
}
