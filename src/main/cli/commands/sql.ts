import type { Command } from 'commander'
import { LakeError, openLake } from '../../lake/lake'
import { readEndpointFile } from '../../lake/lake-endpoint-file'
import { inspectLakeFolder } from '../../lake/lake-folder'
import { SqlConsole } from '../../lake/sql-console'
import { SQL_DEFAULT_MAX_ROWS, SQL_MAX_MAX_ROWS, type SqlAnswer, type SqlProblem } from '../../../shared/sql'
import { CliError } from '../errors'
import { parseChoice, parsePositive } from '../options'
import { onStopSignal } from '../signals'
import { formatRows, rowsSummary, SQL_FORMATS, type SqlFormat } from '../sql-output'
import { askHolder, UNREACHABLE } from '../sql-remote'

const EXIT_BAD_STATEMENT = 2
const EXIT_LAKE_UNAVAILABLE = 3
const EXIT_CANCELLED = 130

interface SqlFlags {
  lake: string
  format: SqlFormat
  maxRows: number
}

export function registerSql(program: Command): void {
  program
    .command('sql')
    .description('Run one read-only SELECT on the lake, also while a StreamDesk process is writing it')
    .argument('<statement>', 'one SELECT (or DESCRIBE/SHOW) statement')
    .option('--lake <dir>', 'lake folder (holds lake.duckdb); it must exist', 'lake')
    .option('--format <format>', 'table, csv or json', parseChoice('--format', SQL_FORMATS), 'table')
    .option('--max-rows <n>', `print at most this many rows (up to ${SQL_MAX_MAX_ROWS})`, parsePositive('--max-rows', { integer: true }), SQL_DEFAULT_MAX_ROWS)
    .action(async (statement: string, flags: SqlFlags) => {
      if (flags.maxRows > SQL_MAX_MAX_ROWS) throw new CliError(`--max-rows must be at most ${SQL_MAX_MAX_ROWS}, got ${flags.maxRows}`)
      const where = inspectLakeFolder(flags.lake, false)
      if (where.kind === 'refused') throw new CliError(where.reason, EXIT_LAKE_UNAVAILABLE)
      const cancel = new AbortController()
      const off = onStopSignal(() => cancel.abort())
      let answer: SqlAnswer
      try {
        answer = await ask(where.dir, { sql: statement, maxRows: flags.maxRows }, cancel.signal)
      } finally {
        off()
      }
      if (!answer.ok) throw problemError(answer.problem)
      process.stdout.write(formatRows(answer, flags.format))
      console.error(rowsSummary(answer))
    })
}

/**
 * The process holding the lake answers if there is one; else this process opens the lake
 * read-only. One more look for a holder when the open finds the lake locked: it may have
 * started in between.
 */
async function ask(dir: string, req: { sql: string; maxRows: number }, signal: AbortSignal): Promise<SqlAnswer> {
  for (let attempt = 0; ; attempt++) {
    const endpoint = readEndpointFile(dir)
    if (endpoint) {
      const answer = await askHolder(endpoint, req, signal)
      if (answer !== UNREACHABLE) return answer
    }
    try {
      return await askLocally(dir, req, signal)
    } catch (err) {
      if (!(err instanceof LakeError)) throw err
      if (err.code === 'in-use' && attempt === 0) continue
      const hint = err.code === 'in-use' ? ' (that process does not answer queries: it is not StreamDesk, or an older version)' : ''
      throw new CliError(`${err.message}${hint}`, EXIT_LAKE_UNAVAILABLE)
    }
  }
}

async function askLocally(dir: string, req: { sql: string; maxRows: number }, signal: AbortSignal): Promise<SqlAnswer> {
  const lake = await openLake(dir, { create: false, readOnly: true })
  const sql = new SqlConsole()
  const onAbort = () => sql.cancel('cli')
  signal.addEventListener('abort', onAbort)
  try {
    return await sql.run(lake, { ...req, queryId: 'cli' })
  } finally {
    signal.removeEventListener('abort', onAbort)
    await lake.close()
  }
}

function problemError(problem: SqlProblem): CliError {
  if (problem.kind === 'cancelled') return new CliError(problem.message, EXIT_CANCELLED)
  // DuckDB's own messages show the line with a caret; a refusal says where in words
  const where = problem.position && !/\nLINE \d+:/.test(problem.message) ? ` (line ${problem.position.line}, column ${problem.position.column})` : ''
  return new CliError(`${problem.message}${where}`, EXIT_BAD_STATEMENT)
}
