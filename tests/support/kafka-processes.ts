// Real processes for the Kafka tests: the CLI itself (src/main/cli/main.ts) and the crash-test
// child (kafka-pipeline-child.ts), both run from source with tsx.

import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { Child } from './bulk-input'
import { REPO_ROOT } from './lake-fixtures'

function spawnTsx(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' }
  })
  let err = ''
  const waiters: { text: string; resolve: () => void }[] = []
  proc.stderr!.setEncoding('utf8')
  proc.stderr!.on('data', (d: string) => {
    err += d
    for (const w of waiters.splice(0)) {
      if (err.includes(w.text)) w.resolve()
      else waiters.push(w)
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal }))
  )
  return {
    proc,
    stderr: () => err,
    exited,
    waitFor(text, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        if (err.includes(text)) return resolve()
        const timer = setTimeout(() => reject(new Error(`child did not print "${text}" in ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs)
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          }
        })
        void exited.then(({ code, signal }) => {
          clearTimeout(timer)
          if (!err.includes(text)) reject(new Error(`child exited (${code ?? signal}) before printing "${text}"; stderr:\n${err}`))
        })
      })
    }
  }
}

/** `streamdesk <args>` as a process (the CLI from source). */
export function spawnCli(args: string[]): Child {
  return spawnTsx('src/main/cli/main.ts', args)
}

/** The Kafka pipeline crash-test child: <servers> <lake> [--until-idle] [--max-batch-bytes n] ... */
export function spawnKafkaPipeline(servers: string, lake: string, extra: string[] = []): Child {
  return spawnTsx('tests/support/kafka-pipeline-child.ts', [servers, lake, ...extra])
}

/** Rows read per batch line ("batch N: R read, ...") printed so far. */
export function rowsRead(stderr: string): number {
  let n = 0
  for (const m of stderr.matchAll(/^batch \d+: (\d+) read/gm)) n += Number(m[1])
  return n
}
