import { setTimeout as sleep } from 'node:timers/promises'

// Waiting in tests: for a condition, never for a clock. The timeout below only turns a hang into
// a failure with a message; it is generous on purpose, so that how fast or how loaded the machine
// is never decides whether a test passes.

export const HANG_GUARD_MS = 90_000

/** Polls `check` until it holds; `detail` says what was seen when it never does. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number; detail?: () => unknown } = {}
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? HANG_GUARD_MS
  const t0 = Date.now()
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) {
      const seen = opts.detail ? `; last seen: ${JSON.stringify(await opts.detail())}` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen}`)
    }
    await sleep(50)
  }
}
