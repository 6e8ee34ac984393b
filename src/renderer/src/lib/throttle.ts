// Rate limiter for pushed updates: however often the engine pushes, the UI commits at most once
// per interval (the dashboard refresh setting). The first request after a quiet period runs at
// once; requests inside the interval coalesce into one trailing run.

export interface Throttle {
  /** Asks for a run; runs now or at the end of the current interval. */
  request(): void
  /** Runs a pending request immediately. */
  flush(): void
  /** Drops a pending request. */
  cancel(): void
  /** Changes the interval; a pending run is rescheduled against the new one. */
  setInterval(ms: number): void
  readonly pending: boolean
}

type Timer = ReturnType<typeof setTimeout>

export function createThrottle(run: () => void, intervalMs: number, now: () => number = Date.now): Throttle {
  let interval = Math.max(0, intervalMs)
  let last = -Infinity
  let timer: Timer | null = null

  const fire = () => {
    timer = null
    last = now()
    run()
  }
  const schedule = () => {
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(fire, Math.max(0, last + interval - now()))
  }

  return {
    request() {
      if (timer !== null) return
      if (now() - last >= interval) fire()
      else schedule()
    },
    flush() {
      if (timer === null) return
      clearTimeout(timer)
      fire()
    },
    cancel() {
      if (timer !== null) clearTimeout(timer)
      timer = null
    },
    setInterval(ms: number) {
      interval = Math.max(0, ms)
      if (timer !== null) schedule()
    },
    get pending() {
      return timer !== null
    }
  }
}
