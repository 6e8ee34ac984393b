import { Command, CommanderError } from 'commander'
import { registerGenerate } from './commands/generate'
import { registerPipeline } from './commands/pipeline'
import { registerRun } from './commands/run'
import { registerExport } from './commands/export'
import { registerServe } from './commands/serve'
import { registerSql } from './commands/sql'
import { registerRules } from './commands/rules'
import { registerDoctor } from './commands/doctor'
import { registerReplay } from './commands/replay'
import { registerQuarantine } from './commands/quarantine'
import { registerRewind } from './commands/rewind'
import { CliError } from './errors'
import { APP_VERSION } from '../version'

const EXIT_BAD_INPUT = 2

const program = new Command()
  .name('streamdesk')
  .description('Real-time e-commerce analytics: generator, exactly-once pipeline, DuckDB lake, dashboard')
  .version(APP_VERSION)
  // options after a command are that command's: `rules export --version 2` is not the app's --version
  .enablePositionalOptions()
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()

registerGenerate(program)
registerPipeline(program)
registerRun(program)
registerExport(program)
registerServe(program)
registerSql(program)
registerRules(program)
registerDoctor(program)
registerReplay(program)
registerQuarantine(program)
registerRewind(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  // Commander has already printed its message (with the "did you mean" hint); it exits 1 for every
  // command line it cannot use, but the README promises 2 for bad input. Help and version are 0.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT_BAD_INPUT)
  const message = err instanceof Error ? err.message : String(err)
  console.error(`streamdesk: ${message}`)
  if (!(err instanceof CliError) && process.env.STREAMDESK_DEBUG) console.error(err)
  process.exit(err instanceof CliError ? err.exitCode : 1)
}
