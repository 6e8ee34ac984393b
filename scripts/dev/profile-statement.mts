// Dev aid: run the pipeline and write DuckDB's operator profile of statements matching PATTERN.
// npx tsx scripts/dev/profile-statement.mts INPUT LAKE PATTERN
import { DuckDBConnection } from '@duckdb/node-api'
import { runFilePipeline } from '../../src/main/cli/commands/pipeline'
const [input, lake, pattern] = process.argv.slice(2)
let n = 0
const orig = DuckDBConnection.prototype.run
DuckDBConnection.prototype.run = async function (this: DuckDBConnection, sql: string, ...rest: unknown[]) {
  if (!sql.includes(pattern)) return (orig as any).call(this, sql, ...rest)
  const file = `/tmp/profile-${++n}.txt`
  await (orig as any).call(this, `SET enable_profiling = 'query_tree'; SET profiling_output = '${file}'`)
  try { return await (orig as any).call(this, sql, ...rest) } finally {
    await (orig as any).call(this, `SET enable_profiling = 'no_output'`)
    console.error('profile written to', file)
  }
} as any
await runFilePipeline({ mode: 'file', inputPath: input, lake, trigger: 100, untilIdle: true, quiet: true })
