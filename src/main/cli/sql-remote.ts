import { request } from 'node:http'
import type { LakeEndpointInfo } from '../lake/lake-endpoint-file'
import { ParquetTargetError } from '../lake/sql-parquet'
import type { SqlFailure } from '../../shared/sql'

// `streamdesk sql` asking the process that holds the lake (lake/lake-endpoint.ts). A process
// killed without closing leaves its endpoint file behind; nothing answers there any more, and the
// caller then opens the lake itself. (node:http, not fetch: fetch refuses some ports outright.)

export const UNREACHABLE = Symbol('unreachable')

const CANCELLED: SqlFailure = { ok: false, problem: { kind: 'cancelled', message: 'the query was cancelled' } }

/** `path`: /sql (a SqlAnswer) or /sql/parquet (a ParquetAnswer), see lake/lake-endpoint.ts. */
export function askHolder<A>(
  endpoint: LakeEndpointInfo,
  path: '/sql' | '/sql/parquet',
  req: { sql: string; maxRows: number } | { sql: string; file: string },
  signal: AbortSignal
): Promise<A | SqlFailure | typeof UNREACHABLE> {
  const body = JSON.stringify(req)
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port: endpoint.port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${endpoint.token}` },
        // hanging up is how a query is cancelled: the holder interrupts it
        signal
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (text += d))
        res.on('error', () => resolve(signal.aborted ? CANCELLED : UNREACHABLE))
        res.on('end', () => {
          // a port now used by something else, a holder of another version, or one closing the lake
          if (res.statusCode === 401 || res.statusCode === 404 || res.statusCode === 503) return resolve(UNREACHABLE)
          try {
            const parsed = JSON.parse(text) as A | { message: string }
            if (res.statusCode === 200) return resolve(parsed as A)
            if (res.statusCode === 409) return reject(new ParquetTargetError((parsed as { message: string }).message, 'name'))
            reject(new Error(`the StreamDesk process holding the lake (PID ${endpoint.pid}) failed: ${(parsed as { message: string }).message}`))
          } catch {
            resolve(UNREACHABLE)
          }
        })
      }
    )
    // refused, reset, or the holder closing the lake under us: the caller looks again
    call.on('error', () => resolve(signal.aborted ? CANCELLED : UNREACHABLE))
    call.end(body)
  })
}
