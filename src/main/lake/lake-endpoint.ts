import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isAbsolute } from 'node:path'
import { SQL_MAX_LENGTH, SQL_MAX_MAX_ROWS } from '../../shared/sql'
import { LakeError, type Lake } from './lake'
import { newEndpointToken, removeEndpointFile, writeEndpointFile } from './lake-endpoint-file'
import { SqlConsole } from './sql-console'
import { ParquetTargetError } from './sql-parquet'

// The process holding a lake answers `streamdesk sql` from other processes here:
//   POST /sql  Authorization: Bearer <token>  {"sql": "...", "maxRows": n}  ->  SqlAnswer
//   POST /sql/parquet  (same)  {"sql": "...", "file": "/abs/out.parquet"}  ->  ParquetAnswer
// (the file is written by this process, for a caller of the same user: the token is theirs)
// on 127.0.0.1 and a port the system picks, announced in the lake folder (lake-endpoint-file.ts).
// The statement runs through the same SqlConsole as the app's SQL tab; a client that hangs up
// (Ctrl+C) interrupts its query.

const MAX_BODY_BYTES = SQL_MAX_LENGTH * 4 + 1024

export interface LakeEndpoint {
  port: number
  close(): Promise<void>
}

export async function serveLakeQueries(lake: Lake): Promise<LakeEndpoint> {
  const token = newEndpointToken()
  const expected = Buffer.from(`Bearer ${token}`)
  const sql = new SqlConsole()
  let nextId = 1

  const server = createServer((req, res) => {
    // 503: the lake is closing under the query; the caller looks for the lake's next holder
    handle(req, res).catch((err: Error) => reply(res, err instanceof LakeError && err.code === 'closing' ? 503 : 500, { message: err.message }))
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = Buffer.from(req.headers.authorization ?? '')
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return reply(res, 401, { message: 'wrong or missing token' })
    if (req.method !== 'POST' || (req.url !== '/sql' && req.url !== '/sql/parquet')) return reply(res, 404, { message: 'POST /sql or /sql/parquet only' })
    const body = await readBody(req)
    const args = req.url === '/sql' ? parseArgs(body) : parseParquetArgs(body)
    if (typeof args === 'string') return reply(res, 400, { message: args })
    const queryId = `endpoint-${nextId++}`
    const hangUp = () => {
      if (!res.writableFinished) sql.cancel(queryId)
    }
    res.on('close', hangUp)
    try {
      const answer = 'file' in args ? await sql.exportParquet(lake, { ...args, queryId }) : await sql.run(lake, { ...args, queryId })
      reply(res, 200, answer)
    } catch (err) {
      // the caller's target, not this process, is at fault: said to them as it is
      if (!(err instanceof ParquetTargetError)) throw err
      reply(res, 409, { message: err.message })
    } finally {
      res.off('close', hangUp)
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  // answering others is no reason for a process to stay alive (a lake left open must not hang an exit)
  server.unref()
  const port = (server.address() as AddressInfo).port
  writeEndpointFile(lake.dir, { pid: process.pid, port, token })
  return {
    port,
    close: () => {
      removeEndpointFile(lake.dir, token)
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    }
  }
}

type Body = { sql: string; [key: string]: unknown }

function parseBody(body: string | null): Body | string {
  if (body === null) return `the request is larger than ${MAX_BODY_BYTES} bytes`
  let value: { sql?: unknown }
  try {
    value = JSON.parse(body) as typeof value
  } catch {
    return 'the request is not JSON'
  }
  if (typeof value.sql !== 'string' || value.sql.length > SQL_MAX_LENGTH) return `sql must be text of at most ${SQL_MAX_LENGTH} characters`
  return value as Body
}

function parseParquetArgs(body: string | null): { sql: string; file: string } | string {
  const value = parseBody(body)
  if (typeof value === 'string') return value
  if (typeof value.file !== 'string' || !isAbsolute(value.file)) return 'file must be an absolute path'
  return { sql: value.sql, file: value.file }
}

function parseArgs(body: string | null): { sql: string; maxRows: number } | string {
  const value = parseBody(body)
  if (typeof value === 'string') return value
  const maxRows = value.maxRows
  if (typeof maxRows !== 'number' || !Number.isInteger(maxRows) || maxRows < 1 || maxRows > SQL_MAX_MAX_ROWS) {
    return `maxRows must be an integer from 1 to ${SQL_MAX_MAX_ROWS}`
  }
  return { sql: value.sql, maxRows }
}

/** The body as text, or null once it exceeds the limit. */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

/**
 * `lake` answering other processes' queries until it closes. A lake that cannot announce itself
 * (no port, a folder it cannot write) still works for this process; `streamdesk sql` then says
 * the lake is in use.
 */
export async function withQueryEndpoint(lake: Lake): Promise<Lake> {
  let endpoint: LakeEndpoint
  try {
    endpoint = await serveLakeQueries(lake)
  } catch (err) {
    console.warn(`note: other processes cannot query the lake ${lake.file}: ${(err as Error).message}`)
    return lake
  }
  return {
    ...lake,
    close: async () => {
      await endpoint.close()
      await lake.close()
    }
  }
}
