import { describe, expect, it } from 'vitest'
import { sinkHealth } from '../../../src/renderer/src/features/pipeline/sink-health'
import type { AlertSinkStatus } from '../../../src/shared/dto'

const sink = (over: Partial<AlertSinkStatus>): AlertSinkStatus => ({
  id: 'hook',
  kind: 'webhook',
  orphaned: false,
  backlog: 0,
  lastError: null,
  lastErrorAt: null,
  lastSuccessAt: null,
  ...over
})

describe('the alert sink badge', () => {
  it('is amber before any attempt, saying whether alerts wait', () => {
    expect(sinkHealth(sink({}))).toEqual({ tone: 'starting', label: 'no alerts yet' })
    expect(sinkHealth(sink({ backlog: 3 }))).toEqual({ tone: 'starting', label: 'waiting' })
  })

  it('is red when the last attempt failed, green once a later one succeeded', () => {
    const failed = { lastError: 'HTTP 503', lastErrorAt: '2026-12-02T01:00:05.000Z' }
    expect(sinkHealth(sink({ ...failed, backlog: 2 })).tone).toBe('error')
    expect(sinkHealth(sink({ ...failed, backlog: 2, lastSuccessAt: '2026-12-02T01:00:00.000Z' })).tone).toBe('error')
    expect(sinkHealth(sink({ ...failed, lastSuccessAt: '2026-12-02T01:00:09.000Z' }))).toEqual({ tone: 'running', label: 'ok' })
    expect(sinkHealth(sink({ ...failed, backlog: 4, lastSuccessAt: '2026-12-02T01:00:09.000Z' }))).toEqual({ tone: 'running', label: 'delivering' })
  })

  it('calls a sink no longer configured orphaned, whatever its last attempt was', () => {
    expect(sinkHealth(sink({ orphaned: true, kind: null, backlog: 3, lastSuccessAt: '2026-12-02T01:00:09.000Z' }))).toEqual({ tone: 'orphaned', label: 'orphaned' })
  })
})
