// The built CLI as a user runs it (bin/streamdesk.js → out/main/cli.js): generate, pipeline and
// sql, one after another on real files. The integration tests run the commands from source; the
// bundle has its own failure modes (chunking once made `generate` load the generator worker's
// entry, which refuses to run outside a worker thread), and only this catches them.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, test } from 'node:test'
import { BIN } from './helpers.js'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'streamdesk-cli-built-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('generate, pipeline --until-idle and sql from the built CLI agree on the orders', async () => {
  const input = join(dir, 'input')
  const lake = join(dir, 'lake')
  await run(process.execPath, [BIN, 'generate', '--output', input, '--rate', 'max', '--count', '1500', '--seed', '11', '--fraud-rate', '0', '--late-rate', '0', '--quiet'])
  assert.ok(readdirSync(join(input, 'orders')).length > 0, 'generate wrote order files')

  const { stderr } = await run(process.execPath, [BIN, 'pipeline', '--input-path', input, '--lake', lake, '--until-idle', '--quiet'])
  assert.match(stderr, /idle: all input committed/)

  const answer = await run(process.execPath, [BIN, 'sql', '--lake', lake, '--format', 'json', 'SELECT count(*)::INTEGER AS n FROM silver_orders'])
  assert.deepEqual(JSON.parse(answer.stdout), [{ n: 1500 }])
})
