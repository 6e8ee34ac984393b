import type { Command } from 'commander'
import { dirname, resolve } from 'node:path'
import { LakeError, openLake, type Lake } from '../../lake/lake'
import { readEndpointFile, type LakeEndpointInfo } from '../../lake/lake-endpoint-file'
import { inspectLakeFolder } from '../../lake/lake-folder'
import { SqlConsole } from '../../lake/sql-console'
import { checkParquetTarget, ParquetTargetError } from '../../lake/sql-parquet'
import { SQL_DEFAULT_MAX_ROWS, SQL_MAX_MAX_ROWS, type ParquetAnswer, type SqlAnswer, type SqlFailure, type SqlProblem } from '../../../shared/sql'
import { CliError } from '../errors'
import { parseChoice, parsePositive } from '../options'
import { onStopSignal } from '../signals'
import { formatRows, rowsSummary, SQL_FORMATS, type SqlFormat } from '../sql-output'
import { askHolder, UNREACHABLE } from '../sql-remote'

const EXIT_BAD_STATEMENT = 2
const EXIT_LAKE_UNAVAILABLE = 3
/** The Parquet file exists already or has no folder: nothing was written. */
const EXIT_BAD_TARGET = 4
const EXIT_CANCELLED = 130

const FORMATS = [...SQL_FORMATS, 'parquet'] as const

interface SqlFlags {
  lake: string
  format: SqlFormat | 'parquet'
  maxRows: number
  out?: string
}

export function registerSql(program: Command): void {
  program
    .command('sql')
    .description('Run one read-only SELECT on the lake, also while a StreamDesk process is writing it')
    .argument('<statement>', 'one SELECT (or DESCRIBE/SHOW) statement')
    .option('--lake <dir>', 'lake folder (holds lake.duckdb); it must exist', 'lake')
    .option('--format <format>', 'table, csv, json, or parquet (every row, into --out)', parseChoice('--format', FORMATS), 'table')
    .option('--max-rows <n>', `print at most this many rows (up to ${SQL_MAX_MAX_ROWS})`, parsePositive('--max-rows', { integer: true }), SQL_DEFAULT_MAX_ROWS)
    .option('--out <file>', 'with --format parquet: the new file to write (never one that exists)')
    .action(async (statement: string, flags: SqlFlags) => {
      if (flags.maxRows > SQL_MAX_MAX_ROWS) throw new CliError(`--max-rows must be at most ${SQL_MAX_MAX_ROWS}, got ${flags.maxRows}`)
      if ((flags.format === 'parquet') !== (flags.out !== undefined)) throw new CliError('--format parquet needs --out FILE, and --out is only for --format parquet')
      const where = inspectLakeFolder(flags.lake, false)
      if (where.kind === 'refused') throw new CliError(where.reason, EXIT_LAKE_UNAVAILABLE)
      const cancel = new AbortController()
      const off = onStopSignal(() => cancel.abort())
      try {
        if (flags.out !== undefined) await exportParquet(where.dir, statement, resolve(flags.out), cancel.signal)
        else await printRows(where.dir, { sql: statement, maxRows: flags.maxRows }, flags.format as SqlFormat, cancel.signal)
      } finally {
        off()
      }
    })
}

async function printRows(dir: string, req: { sql: string; maxRows: number }, format: SqlFormat, signal: AbortSignal): Promise<void> {
  const answer = await ask<SqlAnswer>(
    dir,
    (endpoint) => askHolder<SqlAnswer>(endpoint, '/sql', req, signal),
    (sql, lake) => sql.run(lake, { ...req, queryId: 'cli' }),
    signal
  )
  if (!answer.ok) throw problemError(answer.problem)
  process.stdout.write(formatRows(answer, format))
  console.error(rowsSummary(answer))
}

async function exportParquet(dir: string, statement: string, file: string, signal: AbortSignal): Promise<void> {
  const req = { sql: statement, file }
  let answer: ParquetAnswer
  try {
    // checked here first so the message comes before a lake is opened; the writer checks again
    checkParquetTarget(file)
    answer = await ask<ParquetAnswer>(
      dir,
      (endpoint) => askHolder<ParquetAnswer>(endpoint, '/sql/parquet', req, signal),
      (sql, lake) => sql.exportParquet(lake, { ...req, queryId: 'cli' }),
      signal,
      dirname(file)
    )
  } catch (err) {
    if (err instanceof ParquetTargetError) throw new CliError(err.message, EXIT_BAD_TARGET)
    throw err
  }
  if (!answer.ok) throw problemError(answer.problem)
  console.error(`${answer.rows} row${answer.rows === 1 ? '' : 's'} written to ${answer.file}`)
}

/**
 * The process holding the lake answers if there is one; else this process opens the lake
 * read-only (able to write into `exportDir` only, when given). One more look for a holder when
 * the open finds the lake locked: it may have started in between.
 */
async function ask<A>(
  dir: string,
  remote: (endpoint: LakeEndpointInfo) => Promise<A | SqlFailure | typeof UNREACHABLE>,
  local: (sql: SqlConsole, lake: Lake) => Promise<A | SqlFailure>,
  signal: AbortSignal,
  exportDir?: string
): Promise<A | SqlFailure> {
  for (let attempt = 0; ; attempt++) {
    const endpoint = readEndpointFile(dir)
    if (endpoint) {
      const answer = await remote(endpoint)
      if (answer !== UNREACHABLE) return answer
    }
    try {
      return await askLocally(dir, local, signal, exportDir)
    } catch (err) {
      if (!(err instanceof LakeError)) throw err
      if (err.code === 'in-use' && attempt === 0) continue
      const hint = err.code === 'in-use' ? ' (that process does not answer queries: it is not StreamDesk, or an older version)' : ''
      throw new CliError(`${err.message}${hint}`, EXIT_LAKE_UNAVAILABLE)
    }
  }
}

async function askLocally<A>(
  dir: string,
  local: (sql: SqlConsole, lake: Lake) => Promise<A | SqlFailure>,
  signal: AbortSignal,
  exportDir?: string
): Promise<A | SqlFailure> {
  const lake = await openLake(dir, { create: false, readOnly: true, exportDir })
  const sql = new SqlConsole()
  const onAbort = () => sql.cancel('cli')
  signal.addEventListener('abort', onAbort)
  try {
    return await local(sql, lake)
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
