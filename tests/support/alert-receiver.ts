import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

// A real webhook receiver on 127.0.0.1 for the alert sink tests: records every request it gets,
// and answers as the test says: 'ok' (204), 'fail' (503) or 'hold' (no answer until the test
// changes the mode or the sender goes away). stop() and listen() again on the same port make a
// receiver that is down for a while.

export interface Received {
  key: string | undefined
  signature: string | undefined
  body: string
  /** What this request was answered; 'dropped': the sender went away while it was held. */
  answer: 'ok' | 'fail' | 'held' | 'dropped'
}

export type ReceiverMode = 'ok' | 'fail' | 'hold'

export class AlertReceiver {
  readonly requests: Received[] = []
  private server: Server | null = null
  private readonly sockets = new Set<Socket>()
  private held: { res: ServerResponse; entry: Received }[] = []
  private port = 0
  mode: ReceiverMode = 'ok'

  get url(): string {
    return `http://127.0.0.1:${this.port}/alerts`
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res))
    server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', resolve)
    })
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  /** Answers every held request as `mode` says from now on. */
  setMode(mode: ReceiverMode): void {
    this.mode = mode
    if (mode === 'hold') return
    for (const { res, entry } of this.held.splice(0)) this.answer(res, entry, mode)
  }

  /** Down: refuses connections and drops the ones open (held requests get no answer). */
  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    this.held = []
    for (const s of this.sockets) s.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Order ids per distinct idempotency key (answered 'ok') of the fraud alert deliveries. */
  byKey(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>()
    for (const r of this.requests) {
      if (r.answer !== 'ok' || r.key === undefined) continue
      const body = JSON.parse(r.body) as { alerts?: { order_id: string }[] }
      if (!body.alerts) continue
      const ids = body.alerts.map((a) => a.order_id)
      out.set(r.key, new Set(ids))
    }
    return out
  }

  /** The health event deliveries ({"health": {...}} bodies), every attempt. */
  healthRequests(): (Received & { health: Record<string, unknown> })[] {
    return this.requests.flatMap((r) => {
      const body = JSON.parse(r.body) as { health?: Record<string, unknown> }
      return body.health ? [{ ...r, health: body.health }] : []
    })
  }

  /** Order ids delivered (answered 'ok'), whatever the key. */
  deliveredOrders(): Set<string> {
    return new Set([...this.byKey().values()].flatMap((s) => [...s]))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = ''
    req.setEncoding('utf8')
    for await (const chunk of req) body += chunk
    const header = (name: string) => {
      const v = req.headers[name]
      return Array.isArray(v) ? v[0] : v
    }
    const entry: Received = { key: header('idempotency-key'), signature: header('x-streamdesk-signature'), body, answer: 'held' }
    this.requests.push(entry)
    if (this.mode === 'hold') {
      this.held.push({ res, entry })
      res.on('close', () => {
        if (entry.answer === 'held') entry.answer = 'dropped'
      })
    } else this.answer(res, entry, this.mode)
  }

  private answer(res: ServerResponse, entry: Received, mode: 'ok' | 'fail'): void {
    if (entry.answer !== 'held') return
    entry.answer = mode
    res.statusCode = mode === 'ok' ? 204 : 503
    res.end()
  }
}
