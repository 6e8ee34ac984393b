import { Command, CommanderError } from 'commander'
import { registerGenerate } from './commands/generate'
import { registerPipeline } from './commands/pipeline'
import { registerRun } from './commands/run'
import { registerExport } from './commands/export'
import { registerServe } from './commands/serve'
import { CliError } from './errors'
import { APP_VERSION } from '../version'

const program = new Command()
  .name('streamdesk')
  .description('Real-time e-commerce analytics: generator, exactly-once pipeline, DuckDB lake, dashboard')
  .version(APP_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()

registerGenerate(program)
registerPipeline(program)
registerRun(program)
registerExport(program)
registerServe(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode)
  const message = err instanceof Error ? err.message : String(err)
  console.error(`streamdesk: ${message}`)
  if (!(err instanceof CliError) && process.env.STREAMDESK_DEBUG) console.error(err)
  process.exit(err instanceof CliError ? err.exitCode : 1)
}
