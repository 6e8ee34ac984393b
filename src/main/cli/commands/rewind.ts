import { userInfo } from 'node:os'
import type { Command } from 'commander'
import type { RewindResult } from '../../../shared/dto'
import { LakeError, type Lake } from '../../lake/lake'
import { acquireLake } from '../../lake/lake-registry'
import { RewindError, rewindSource } from '../../lake/rewind'
import { CliError } from '../errors'
import { parsePositive } from '../options'

// `streamdesk rewind`: one source's committed offset moved back (lake/rewind.ts, docs/EVENTS.md
// Rewind). Without --yes it prints what it would do and changes nothing, exit 6 (not confirmed);
// 2 for bad flags or a rewind that is refused, 3 when the lake is missing or a running
// StreamDesk holds it.

export const EXIT_NOT_CONFIRMED = 6

interface RewindFlags {
  lake: string
  source?: string
  offset?: number
  toTime?: string
  yes?: boolean
}

function parseTime(value: string): string {
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new CliError(`--to-time must be a date and time (ISO 8601, e.g. 2026-12-01T08:00:00Z), got '${value}'`)
  return new Date(ms).toISOString()
}

function who(): string {
  try {
    return `streamdesk rewind (user ${userInfo().username})`
  } catch {
    return 'streamdesk rewind'
  }
}

export function formatRewind(r: RewindResult): string[] {
  const asOf = r.toTime ? ` (its committed offset as of ${r.toTime}, ${r.asOfBatchId === null ? 'before any batch read it' : `batch ${r.asOfBatchId}`})` : ''
  return [`rewind ${r.key}: ${r.unit} offset ${r.from} → ${r.to}${asOf}`, r.consequence]
}

export async function runRewind(flags: RewindFlags, log: (line: string) => void): Promise<number> {
  if (!flags.source) throw new CliError('--source is required: a file path, a file identity (dev:ino) or topic:partition')
  if ((flags.offset === undefined) === (flags.toTime === undefined)) throw new CliError('give one of --offset N and --to-time TS')
  const target = flags.offset !== undefined ? { offset: flags.offset } : { toTime: flags.toTime! }
  let lake: Lake
  try {
    lake = await acquireLake(flags.lake, { create: false })
  } catch (err) {
    if (err instanceof LakeError) throw new CliError(err.message, 3)
    throw err
  }
  try {
    const r = await rewindSource(lake, flags.source, target, { confirm: flags.yes === true, by: who() })
    for (const line of formatRewind(r)) log(line)
    if (r.batchId === null) {
      log('nothing changed: run again with --yes to rewind')
      return EXIT_NOT_CONFIRMED
    }
    log(`rewound: recorded as batch ${r.batchId} (kind rewind)`)
    return 0
  } catch (err) {
    if (err instanceof RewindError) throw new CliError(err.message)
    throw err
  } finally {
    await lake.close()
  }
}

export function registerRewind(program: Command): void {
  program
    .command('rewind')
    .description("Move one source's committed offset back so the next run reads from there again (asks for --yes)")
    .option('--lake <dir>', 'lake folder (holds lake.duckdb)', 'lake')
    .option('--source <source>', 'the file (its path, or its identity dev:ino) or the Kafka topic:partition')
    .option('--offset <n>', 'the byte (file: a line start) or message offset to read from', parsePositive('--offset', { integer: true, allowZero: true }))
    .option('--to-time <time>', 'the committed offset as of the last batch committed at or before this time (ISO 8601)', parseTime)
    .option('--yes', 'rewind; without it, only say what would be done')
    .action(async (flags: RewindFlags) => {
      const code = await runRewind(flags, (line) => console.error(line))
      if (code !== 0) process.exitCode = code
    })
}
