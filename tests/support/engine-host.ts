// An engine host as the app runs one, for tests of the API contract: its own temp folder with
// input/{orders,customers}, a folder source feeding lake/, and handlers called through dispatch,
// as both transports call them (arguments validated first). The pipeline is not started.

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createEngineHost } from '../../src/main/api/engine-host'
import { dispatch } from '../../src/main/api/dispatch'
import type { EngineHost } from '../../src/main/api/host'
import { makeTempDir } from './lake-fixtures'

export interface FolderEngine {
  /** The temp folder holding settings.json, input/ and lake/. */
  base: string
  host: EngineHost
  /** A handler by name, as a client would call it; answers are loosely typed for test reading. */
  call(name: string, args?: unknown): Promise<any>
  /** Absolute path of an orders input file. */
  orders(name: string): string
}

/** Triggers every 50 ms so that batches follow the input closely. Dispose `host` in afterAll. */
export async function startFolderEngine(): Promise<FolderEngine> {
  const base = makeTempDir()
  mkdirSync(join(base, 'input', 'orders'), { recursive: true })
  mkdirSync(join(base, 'input', 'customers'), { recursive: true })
  const host = await createEngineHost({ settingsFile: join(base, 'settings.json'), baseDir: base })
  const call = (name: string, args?: unknown) => dispatch(host.handlers, name, args) as Promise<any>
  try {
    await call('settings.update', { patch: { source: { kind: 'folder', inputPath: 'input' }, lakePath: 'lake', pipeline: { triggerMs: 50 } } })
  } catch (err) {
    // the caller never gets the host to dispose
    await host.dispose()
    throw err
  }
  return { base, host, call, orders: (name) => join(base, 'input', 'orders', name) }
}
