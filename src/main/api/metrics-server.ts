import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { MetricsText } from './metrics'

// GET /metrics on its own port, for the desktop app (setting `metrics.enabled`): Prometheus
// scrapes it while the app runs. `streamdesk serve` answers /metrics on its own server instead
// (http-server.ts), with the same answer as here (answerMetrics). Loopback only: the figures say
// what a business sells, and there is no authentication.

export const METRICS_HOST = '127.0.0.1'

export interface MetricsServerHandle {
  port: number
  close(): Promise<void>
}

/** Answers GET/HEAD /metrics with the scrape; anything else is not here. */
export async function answerMetrics(req: IncomingMessage, res: ServerResponse, scrape: () => Promise<MetricsText>): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n')
    return
  }
  let answer: MetricsText
  try {
    answer = await scrape()
  } catch (err) {
    // a failed scrape must show as a failed scrape (`up` = 0), never as counters at zero
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`metrics unavailable: ${(err as Error).message}\n`)
    return
  }
  res.writeHead(200, { 'Content-Type': answer.contentType, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(answer.text) })
  res.end(req.method === 'HEAD' ? undefined : answer.text)
}

export function startMetricsServer(port: number, scrape: () => Promise<MetricsText>): Promise<MetricsServerHandle> {
  const server = createServer((req, res) => {
    // a page in a browser that rebinds its own name to 127.0.0.1 sends that name: not answered
    if (!/^(127\.0\.0\.1|localhost)(:\d+)?$/i.test(req.headers.host ?? '')) {
      res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8' }).end('StreamDesk only answers on its loopback address\n')
      return
    }
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('StreamDesk serves only /metrics here\n')
      return
    }
    answerMetrics(req, res, scrape).catch(() => res.destroy())
  })
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${METRICS_HOST} is already in use: choose another metrics port`
            : `cannot serve metrics on ${METRICS_HOST}:${port}: ${err.message}`
        )
      )
    )
    server.listen(port, METRICS_HOST, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    })
  })
}

/** Keeps the /metrics server in line with the `metrics` setting: started, moved or stopped. */
export class MetricsEndpoint {
  private server: MetricsServerHandle | null = null
  private port: number | null = null

  constructor(private readonly scrape: () => Promise<MetricsText>) {}

  /** Throws when the port cannot be had; the endpoint is then off until the next apply. */
  async apply(setting: { enabled: boolean; port: number }): Promise<void> {
    const want = setting.enabled ? setting.port : null
    if (want === this.port) return
    await this.close()
    if (want === null) return
    this.server = await startMetricsServer(want, this.scrape)
    this.port = want
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = null
    this.port = null
    await server?.close()
  }
}
