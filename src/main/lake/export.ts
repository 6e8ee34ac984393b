import { mkdirSync, writeFileSync, existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ExportFormat, ExportProgress, ExportResult } from '../../shared/dto'
import { APP_VERSION } from '../version'
import { LAKE_TABLES } from './schema'
import { sqlString, type Lake } from './lake'

// A snapshot of every lake table, taken inside ONE read transaction so the files agree with
// each other even while the pipeline keeps committing batches, plus a manifest.

export class ExportError extends Error {}

export async function exportLake(
  lake: Lake,
  outDir: string,
  format: ExportFormat,
  onProgress?: (p: ExportProgress) => void
): Promise<ExportResult> {
  const dir = resolve(outDir)
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ExportError(`${dir} exists and is not a folder`)
  try {
    mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw new ExportError(`cannot create the export folder ${dir}: ${(err as Error).message}`)
  }
  const conn = await lake.connect()
  const tables: ExportResult['tables'] = []
  const snapshotFile = join(dir, 'lake-snapshot.duckdb')
  try {
    if (format === 'duckdb') {
      if (existsSync(snapshotFile)) throw new ExportError(`${snapshotFile} already exists; choose an empty folder`)
      await conn.run(`ATTACH ${sqlString(snapshotFile)} AS snap`)
    }
    await conn.run('BEGIN TRANSACTION')
    let done = 0
    for (const table of LAKE_TABLES) {
      const count = await conn.runAndReadAll(`SELECT count(*) FROM ${table}`)
      const rows = Number(count.getRows()[0][0])
      let file: string
      if (format === 'duckdb') {
        await conn.run(`CREATE TABLE snap.${table} AS SELECT * FROM main.${table}`)
        file = snapshotFile
      } else {
        file = join(dir, `${table}.${format}`)
        const opts = format === 'parquet' ? `FORMAT parquet, COMPRESSION zstd` : `FORMAT csv, HEADER true`
        await conn.run(`COPY (SELECT * FROM main.${table}) TO ${sqlString(file)} (${opts})`)
      }
      tables.push({ name: table, rows, file })
      onProgress?.({ table, done: ++done, total: LAKE_TABLES.length })
    }
    const range = await conn.runAndReadAll(
      `SELECT min(order_ts)::VARCHAR, max(order_ts)::VARCHAR, (SELECT max(batch_id) FROM batches) FROM silver_orders`
    )
    const [from, to, lastBatch] = range.getRows()[0]
    await conn.run('COMMIT')
    if (format === 'duckdb') await conn.run('DETACH snap')
    const manifestPath = join(dir, 'manifest.json')
    const manifest = {
      app: 'StreamDesk',
      appVersion: APP_VERSION,
      exportedAt: new Date().toISOString(),
      lake: lake.file,
      format,
      lastBatchId: lastBatch === null ? null : Number(lastBatch),
      orderTimeRange: { from, to },
      tables: tables.map((t) => ({ name: t.name, rows: t.rows, file: t.file.slice(dir.length + 1) }))
    }
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n')
    return { outDir: dir, format, tables, manifestPath }
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined)
    if (err instanceof ExportError) throw err
    throw new ExportError(`export to ${dir} failed: ${(err as Error).message.split('\n')[0]}`)
  } finally {
    conn.closeSync()
  }
}
