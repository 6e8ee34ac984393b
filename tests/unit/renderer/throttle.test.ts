import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createThrottle } from '../../../src/renderer/src/lib/throttle'

describe('createThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(0)
  })
  afterEach(() => vi.useRealTimers())

  it('runs at once after a quiet period, then at most once per interval', () => {
    const run = vi.fn()
    const t = createThrottle(run, 1000)
    t.request()
    expect(run).toHaveBeenCalledTimes(1)
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(10)
      t.request()
    }
    expect(run).toHaveBeenCalledTimes(1)
    expect(t.pending).toBe(true)
    vi.advanceTimersByTime(1000)
    expect(run).toHaveBeenCalledTimes(2)
    expect(t.pending).toBe(false)
    // 20 pushes per second for 10 s -> about 10 runs
    for (let i = 0; i < 200; i++) {
      vi.advanceTimersByTime(50)
      t.request()
    }
    vi.advanceTimersByTime(1000)
    expect(run.mock.calls.length).toBeGreaterThanOrEqual(10)
    expect(run.mock.calls.length).toBeLessThanOrEqual(13)
  })

  it('flushes a pending run and cancels', () => {
    const run = vi.fn()
    const t = createThrottle(run, 1000)
    t.request()
    t.request()
    t.flush()
    expect(run).toHaveBeenCalledTimes(2)
    t.request()
    t.cancel()
    vi.advanceTimersByTime(5000)
    expect(run).toHaveBeenCalledTimes(2)
  })

  it('reschedules a pending run when the interval changes', () => {
    const run = vi.fn()
    const t = createThrottle(run, 10_000)
    t.request()
    t.request()
    t.setInterval(500)
    vi.advanceTimersByTime(500)
    expect(run).toHaveBeenCalledTimes(2)
  })
})
