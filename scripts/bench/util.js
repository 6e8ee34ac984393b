// Small helpers shared by scripts/bench.js and its sections.
import { spawn } from 'node:child_process'
import { createReadStream, readdirSync } from 'node:fs'
import { join } from 'node:path'

/** Children still running; killed (by pid) if the benchmark itself is interrupted. */
export const liveChildren = new Set()

export const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : String(n)

/** Linear interpolation between closest ranks (same definition as DuckDB's quantile_cont). */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo] + (s[hi] - s[lo]) * (pos - lo)
}
export const median = (values) => quantile(values, 0.5)

/** Number of '\n' in every *.jsonl file of a folder. */
export async function countLines(dir) {
  let lines = 0
  let files = 0
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.jsonl') || name.startsWith('.')) continue
    files++
    for await (const chunk of createReadStream(join(dir, name))) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
    }
  }
  return { lines, files }
}

/**
 * Runs a command to completion and measures its wall clock (spawn → exit).
 * Resolves { code, signal, ms, stdout, stderr }; never rejects on a non-zero exit.
 */
export function timeProcess(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
    liveChildren.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', (err) => {
      liveChildren.delete(child)
      reject(err)
    })
    child.on('close', (code, signal) => {
      liveChildren.delete(child)
      resolve({ code, signal, ms: performance.now() - t0, stdout, stderr })
    })
  })
}

export function killLiveChildren() {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}
