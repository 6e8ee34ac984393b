import type { Command } from 'commander'
import { openLake, LakeError } from '../../lake/lake'
import { exportLake, ExportError } from '../../lake/export'
import type { ExportFormat } from '../../../shared/dto'
import { CliError } from '../errors'
import { parseChoice } from '../options'

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write a consistent snapshot of every lake table plus manifest.json')
    .requiredOption('--out <dir>', 'folder to write the snapshot to')
    .option('--lake <dir>', 'lake folder (holds lake.duckdb)', 'lake')
    .option('--format <format>', 'parquet, csv or duckdb', parseChoice('--format', ['parquet', 'csv', 'duckdb'] as const), 'parquet')
    .action(async (flags: { out: string; lake: string; format: ExportFormat }) => {
      let lake
      try {
        lake = await openLake(flags.lake)
      } catch (err) {
        if (err instanceof LakeError) throw new CliError(err.message, 3)
        throw err
      }
      try {
        const result = await exportLake(lake, flags.out, flags.format)
        for (const t of result.tables) console.log(`${t.name.padEnd(18)} ${String(t.rows).padStart(10)} rows  ${t.file}`)
        console.log(`manifest: ${result.manifestPath}`)
      } catch (err) {
        if (err instanceof ExportError) throw new CliError(err.message, 1)
        throw err
      } finally {
        await lake.close()
      }
    })
}
