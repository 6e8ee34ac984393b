// An engine host as the app runs one, for tests of the API contract: its own temp folder with
// input/{orders,customers}, a folder source feeding lake/, and handlers called through dispatch,
// as both transports call them (arguments validated first); or a host over a lake a test already
// wrote, with its HTTP API served as the UI reaches it. The pipeline is not started.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createEngineHost } from '../../src/main/api/engine-host'
import { dispatch } from '../../src/main/api/dispatch'
import type { EngineHost, EngineHostOptions } from '../../src/main/api/host'
import { startHttpServer, type HttpServerHandle } from '../../src/main/api/http-server'
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

/**
 * A host over a lake already written (or not there yet) and a folder of input, its settings file,
 * with any `more` settings, in a temp folder of its own. Dispose it.
 */
export async function hostOverLake(
  lakePath: string,
  inputPath: string,
  more: Record<string, unknown> = {},
  options: Pick<EngineHostOptions, 'controller'> = {}
): Promise<EngineHost> {
  const base = makeTempDir()
  const settingsFile = join(base, 'settings.json')
  writeFileSync(settingsFile, JSON.stringify({ lakePath, source: { kind: 'folder', inputPath }, ...more }))
  return createEngineHost({ settingsFile, baseDir: base, ...options })
}

export interface HttpApi {
  server: HttpServerHandle
  /** POST /api/<name> with JSON, as the UI fetches; a refusal throws with its status and body. */
  call<T>(name: string, args?: unknown): Promise<T>
}

/** The host's HTTP API on a free port. Close `server` before disposing the host. */
export async function serveHttpApi(host: EngineHost): Promise<HttpApi> {
  const server = await startHttpServer({ handlers: host.handlers, events: host.events, port: 0 })
  return {
    server,
    async call<T>(name: string, args: unknown = {}): Promise<T> {
      const res = await fetch(`${server.url}/api/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(args)
      })
      const body = (await res.json()) as T
      if (!res.ok) throw new Error(`${name}: ${res.status} ${JSON.stringify(body)}`)
      return body
    }
  }
}
