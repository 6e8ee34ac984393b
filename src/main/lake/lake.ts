import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { SCHEMA_SQL, SCHEMA_VERSION, SCRATCH_SQL } from './schema'

// The lake is one DuckDB file. This module is the only one that opens it; everything else gets
// a Lake with a writer connection (micro-batches, one transaction each) and a reader connection
// (dashboard queries, which see only committed batches thanks to DuckDB's MVCC).

export class LakeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LakeError'
  }
}

export interface Lake {
  readonly dir: string
  readonly file: string
  readonly writer: DuckDBConnection
  readonly reader: DuckDBConnection
  /** A fresh connection for long jobs (export) that must not block the dashboard reader. */
  connect(): Promise<DuckDBConnection>
  close(): Promise<void>
}

export function lakeFile(dir: string): string {
  return join(resolve(dir), 'lake.duckdb')
}

function explainOpenError(file: string, err: unknown): LakeError {
  const msg = err instanceof Error ? err.message : String(err)
  if (/lock/i.test(msg)) {
    const pid = /PID (\d+)/.exec(msg)?.[1]
    return new LakeError(
      `the lake ${file} is in use by another process${pid ? ` (PID ${pid})` : ''}; stop it or choose another --lake`
    )
  }
  if (/not a valid DuckDB database|Unable to open|Permission denied|No such file|Is a directory/i.test(msg)) {
    return new LakeError(`cannot open the lake ${file}: ${msg.split('\n')[0]}`)
  }
  return new LakeError(`cannot open the lake ${file}: ${msg.split('\n')[0]}`)
}

export async function openLake(dir: string, opts: { threads?: number } = {}): Promise<Lake> {
  const absDir = resolve(dir)
  try {
    mkdirSync(absDir, { recursive: true })
  } catch (err) {
    throw new LakeError(`cannot create the lake folder ${absDir}: ${(err as Error).message}`)
  }
  const file = lakeFile(absDir)
  let instance: DuckDBInstance
  try {
    instance = await DuckDBInstance.create(file, {
      // Insertion order is irrelevant to every lake table; not preserving it lets DuckDB write
      // large micro-batches in parallel with less memory.
      preserve_insertion_order: 'false',
      ...(opts.threads ? { threads: String(opts.threads) } : {})
    })
  } catch (err) {
    throw explainOpenError(file, err)
  }
  const writer = await instance.connect()
  const reader = await instance.connect()
  try {
    await writer.run(SCHEMA_SQL)
    await writer.run(SCRATCH_SQL)
    await writer.run(
      `INSERT INTO lake_meta VALUES ('schema_version', '${SCHEMA_VERSION}') ON CONFLICT (key) DO NOTHING`
    )
  } catch (err) {
    writer.closeSync()
    reader.closeSync()
    instance.closeSync()
    throw explainOpenError(file, err)
  }
  let closed = false
  return {
    dir: absDir,
    file,
    writer,
    reader,
    connect: () => instance.connect(),
    async close() {
      if (closed) return
      closed = true
      reader.closeSync()
      writer.closeSync()
      instance.closeSync()
    }
  }
}

export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`
