import { describe, expect, it } from 'vitest'
import { ApiError } from '../../../src/shared/api'
import type { StreamdeskBridge } from '../../../src/renderer/src/client/bridge'
import { toApiError, unwrapEnvelope } from '../../../src/renderer/src/client/errors'
import { IpcEngineClient } from '../../../src/renderer/src/client/ipc-client'

describe('IPC client', () => {
  const bridge = (invoke: StreamdeskBridge['invoke']): StreamdeskBridge => ({ invoke, subscribe: () => () => {} })

  it('accepts bare results and { ok, result } envelopes', async () => {
    await expect(new IpcEngineClient(bridge(async () => ({ state: 'running' }))).invoke('pipeline.status')).resolves.toEqual({
      state: 'running'
    })
    await expect(
      new IpcEngineClient(bridge(async () => ({ ok: true, result: { state: 'stopped' } }))).invoke('pipeline.status')
    ).resolves.toEqual({ state: 'stopped' })
  })

  it('turns { ok: false, error } envelopes into ApiErrors', async () => {
    const c = new IpcEngineClient(
      bridge(async () => ({ ok: false, error: { type: 'validation', message: 'nope', fields: [{ field: 'outDir', message: 'choose a folder' }] } }))
    )
    const err = await c.invoke('lake.export', { outDir: '' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ type: 'validation', fields: [{ field: 'outDir' }] })
  })

  it('passes {} when called without arguments', async () => {
    let seen: unknown
    await new IpcEngineClient(bridge(async (_n, a) => ((seen = a), null))).invoke('pipeline.status')
    expect(seen).toEqual({})
  })
})

describe('toApiError', () => {
  it('recovers the error shape from what Electron rethrows', () => {
    const e = toApiError(new Error(`Error invoking remote method 'streamdesk:invoke': Error: {"type":"unknown-method","message":"unknown method \\"x\\""}`))
    expect(e).toMatchObject({ type: 'unknown-method', message: 'unknown method "x"' })
    const plain = toApiError(new Error("Error invoking remote method 'streamdesk:invoke': Error: disk full"))
    expect(plain).toMatchObject({ type: 'engine', message: 'disk full' })
    expect(toApiError('boom')).toMatchObject({ type: 'engine', message: 'boom' })
    expect(toApiError({ type: 'validation', message: 'm' })).toMatchObject({ type: 'validation' })
  })

  it('leaves non-envelope values alone', () => {
    expect(unwrapEnvelope([1, 2])).toEqual([1, 2])
    expect(unwrapEnvelope(null)).toBeNull()
    expect(unwrapEnvelope({ rows: [], total: 0 })).toEqual({ rows: [], total: 0 })
  })
})
