import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../../src/shared/api'
import type { ConnectionInfo } from '../../../src/renderer/src/client/bridge'
import { backoffDelay, WsEngineClient, type SocketLike } from '../../../src/renderer/src/client/ws-client'

class FakeSocket implements SocketLike {
  readyState = 0
  onopen: ((ev: unknown) => void) | null = null
  onclose: ((ev: { code: number; reason: string }) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  sent: { id: number; name: string; args?: unknown }[] = []
  closedWith: number | null = null
  constructor(readonly url: string) {}
  send(data: string) {
    if (this.readyState !== 1) throw new Error('not open')
    this.sent.push(JSON.parse(data))
  }
  close(code = 1000) {
    this.closedWith = code
    this.readyState = 3
  }
  // test helpers
  open() {
    this.readyState = 1
    this.onopen?.({})
  }
  drop(code = 1006, reason = '') {
    this.readyState = 3
    this.onclose?.({ code, reason })
  }
  reply(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) })
  }
}

describe('WsEngineClient', () => {
  let sockets: FakeSocket[]
  let client: WsEngineClient
  const last = () => sockets[sockets.length - 1]

  beforeEach(() => {
    vi.useFakeTimers()
    sockets = []
    client = new WsEngineClient({
      url: 'ws://127.0.0.1:8502/ws',
      createSocket: (url) => {
        const s = new FakeSocket(url)
        sockets.push(s)
        return s
      },
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
      queueTimeoutMs: 5000,
      random: () => 1
    })
  })
  afterEach(() => {
    client.close()
    vi.useRealTimers()
  })

  it('matches responses to requests by id', async () => {
    last().open()
    const a = client.invoke('pipeline.status')
    const b = client.invoke('query.alerts', { limit: 5 })
    const [ra, rb] = last().sent
    expect(ra).toEqual({ id: 1, name: 'pipeline.status' })
    expect(rb).toEqual({ id: 2, name: 'query.alerts', args: { limit: 5 } })
    last().reply({ id: 2, ok: true, result: [] })
    last().reply({ id: 1, ok: true, result: { state: 'running' } })
    await expect(a).resolves.toEqual({ state: 'running' })
    await expect(b).resolves.toEqual([])
  })

  it('rejects with an ApiError carrying type and fields', async () => {
    last().open()
    const p = client.invoke('settings.update', { patch: {} })
    last().reply({
      id: 1,
      ok: false,
      error: { type: 'validation', message: 'bad', fields: [{ field: 'pipeline.triggerMs', message: 'too small' }] }
    })
    const err = await p.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ type: 'validation', fields: [{ field: 'pipeline.triggerMs' }] })
  })

  it('delivers pushes to subscribers until they unsubscribe', () => {
    last().open()
    const seen: unknown[] = []
    const off = client.subscribe('pipeline.state', (s) => seen.push(s))
    last().reply({ event: 'pipeline.state', payload: { state: 'running' } })
    last().reply({ event: 'batch.progress', payload: { batchId: 1 } })
    last().reply({ event: 'no.such.event', payload: 1 })
    off()
    last().reply({ event: 'pipeline.state', payload: { state: 'stopped' } })
    expect(seen).toEqual([{ state: 'running' }])
  })

  it('queues calls made before the connection opens', async () => {
    const p = client.invoke('pipeline.status')
    expect(last().sent).toEqual([])
    last().open()
    expect(last().sent).toEqual([{ id: 1, name: 'pipeline.status' }])
    last().reply({ id: 1, ok: true, result: 'ok' })
    await expect(p).resolves.toBe('ok')
  })

  it('fails queued calls after the queue timeout with a clear message', async () => {
    const p = client.invoke('pipeline.status')
    last().drop()
    vi.advanceTimersByTime(5000)
    await expect(p).rejects.toThrow(/no connection to the engine at ws:\/\/127\.0\.0\.1:8502\/ws/)
  })

  it('rejects calls in flight when the socket closes, then reconnects with backoff', async () => {
    const states: ConnectionInfo[] = []
    client.onChange((i) => states.push(i))
    last().open()
    const p = client.invoke('lake.export', { outDir: 'x' })
    last().drop(1006)
    await expect(p).rejects.toThrow(/lake\.export: the connection to the engine was lost before it answered/)
    expect(client.get().state).toBe('reconnecting')
    expect(client.get().error).toMatch(/cannot reach the engine/)

    expect(sockets).toHaveLength(1)
    vi.advanceTimersByTime(100) // attempt 0: 100 ms
    expect(sockets).toHaveLength(2)
    last().drop()
    vi.advanceTimersByTime(199)
    expect(sockets).toHaveLength(2)
    vi.advanceTimersByTime(1) // attempt 1: 200 ms
    expect(sockets).toHaveLength(3)
    last().open()
    expect(client.get()).toMatchObject({ state: 'open', error: null, reconnects: 1 })
    expect(states.map((s) => s.state)).toEqual(['open', 'reconnecting', 'reconnecting', 'open'])
  })

  it('keeps subscriptions across a reconnect', () => {
    const seen: unknown[] = []
    client.subscribe('alerts.new', (a) => seen.push(a))
    last().open()
    last().drop()
    vi.advanceTimersByTime(100)
    last().open()
    last().reply({ event: 'alerts.new', payload: [1] })
    expect(seen).toEqual([[1]])
  })

  it('ignores malformed frames and stale responses', () => {
    last().open()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    last().onmessage?.({ data: '{oops' })
    last().reply({ id: 99, ok: true, result: 1 })
    expect(warn).toHaveBeenCalled()
    warn.mockRestore()
  })

  it('close() rejects everything and stops reconnecting', async () => {
    last().open()
    const inflight = client.invoke('pipeline.status')
    client.close()
    await expect(inflight).rejects.toThrow(/closed/)
    await expect(client.invoke('pipeline.status')).rejects.toThrow(/closed/)
    vi.advanceTimersByTime(60_000)
    expect(sockets).toHaveLength(1)
    expect(client.get().state).toBe('closed')
  })
})

describe('backoffDelay', () => {
  it('doubles up to the cap, with half of it jittered', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, 500, 10_000, 1))).toEqual([500, 1000, 2000, 4000, 10_000])
    expect(backoffDelay(0, 500, 10_000, 0)).toBe(250)
  })
})
