#!/usr/bin/env node
// End-to-end tests: the dashboard in Debian's Chromium against `streamdesk serve` (every
// tests/e2e/*.e2e.js, one file at a time), then the Electron smoke test. A smoke test that could
// not run is reported as such, never as a pass.
//
//   node tests/e2e/run.js        (after `npm run build`)
//
// Exit code: non-zero when a dashboard test or the Electron smoke test failed.

import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ROOT } from './helpers.js'
import { runElectronSmoke } from './electron-smoke.js'

const CLI = join(ROOT, 'out', 'main', 'cli.js')
if (!existsSync(CLI)) {
  console.error(`e2e: ${relative(ROOT, CLI)} is missing; run \`npm run build\` first`)
  process.exit(1)
}

const files = readdirSync(join(ROOT, 'tests', 'e2e'))
  .filter((f) => f.endsWith('.e2e.js'))
  .sort()
  .map((f) => join('tests', 'e2e', f))

if (files.length === 0) {
  console.error('e2e: no tests/e2e/*.e2e.js files found')
  process.exit(1)
}

const started = Date.now()
console.log(`e2e: dashboard tests in Chromium: ${files.join(', ')}`)
const dashboardCode = await new Promise((done) => {
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
    cwd: ROOT,
    stdio: 'inherit'
  })
  const forward = (signal) => child.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  child.on('exit', (code, signal) => {
    process.off('SIGINT', forward)
    process.off('SIGTERM', forward)
    done(code ?? (signal ? 1 : 0))
  })
})
console.log(`e2e: dashboard tests ${dashboardCode === 0 ? 'passed' : `FAILED (exit code ${dashboardCode})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`)

let smokeFailed = false
try {
  const smoke = await runElectronSmoke()
  if (smoke.status === 'passed') console.log('e2e: electron smoke test passed')
  // runElectronSmoke prints its own "did NOT run" line too; say it once more in the summary.
  else console.log(`e2e: electron smoke test did NOT run: ${smoke.reason}`)
} catch (err) {
  smokeFailed = true
  console.error(`e2e: electron smoke test FAILED: ${err instanceof Error ? err.message : err}`)
}

process.exit(dashboardCode !== 0 ? dashboardCode : smokeFailed ? 1 : 0)
