import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import type { EngineHost } from '../../api/host'
import type { HttpServerHandle } from '../../api/http-server'
import { DEFAULT_HTTP_PORT } from '../../api/http-port'
import { LakeError } from '../../lake/lake'
import { CliError } from '../errors'
import { parsePositive } from '../options'
import { onStopSignal } from '../signals'

interface ServeFlags {
  port: number
  inputPath?: string
  lake?: string
  settings: string
  start?: boolean
}

/** out/renderer next to this bundle (out/main/cli.js or a chunk in out/main/chunks). */
function rendererDir(): string | undefined {
  for (const rel of ['../renderer', '../../renderer']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(resolve(dir, 'index.html'))) return dir
  }
  return undefined
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the dashboard and the engine API on http://127.0.0.1 (the desktop UI in your browser)')
    .option('--port <port>', 'port on 127.0.0.1 (0 = any free port)', parsePositive('--port', { integer: true, allowZero: true }), DEFAULT_HTTP_PORT)
    .option('--input-path <dir>', 'watched input folder (overrides the settings file)')
    .option('--lake <dir>', 'lake folder (overrides the settings file)')
    .option('--settings <file>', 'settings file used in browser mode', '.streamdesk/settings.json')
    .option('--start', 'start the pipeline right away')
    .action(async (flags: ServeFlags) => {
      if (flags.port > 65535) throw new CliError(`--port must be at most 65535, got ${flags.port}`)
      const overrides: Record<string, unknown> = {}
      if (flags.inputPath) overrides.source = { inputPath: flags.inputPath, kind: 'folder' }
      if (flags.lake) overrides.lakePath = flags.lake
      let host: EngineHost
      try {
        // loaded here, not at start: the server's modules (ws, prom-client…) cost every other command ~0.2 s
        const { createWorkerEngineHost } = await import('../../api/host')
        host = await createWorkerEngineHost({ settingsFile: resolve(flags.settings), baseDir: process.cwd(), overrides })
      } catch (err) {
        if (err instanceof LakeError) throw new CliError(err.message, 3)
        throw err
      }
      const staticDir = rendererDir()
      let server: HttpServerHandle
      try {
        const { startHttpServer } = await import('../../api/http-server')
        server = await startHttpServer({ handlers: host.handlers, events: host.events, staticDir, port: flags.port, metrics: host.metrics })
      } catch (err) {
        await host.dispose()
        throw new CliError((err as Error).message, 4)
      }
      if (!staticDir) console.error('note: the dashboard is not built (run `npm run build`); serving the API only')
      console.error(`StreamDesk is serving the dashboard at ${server.url}  (Ctrl+C to stop); Prometheus metrics at ${server.url}/metrics`)
      if (flags.start) await host.handlers['pipeline.start']({})
      await new Promise<void>((done) => {
        const off = onStopSignal(async () => {
          console.error('stopping…')
          off()
          await server.close()
          await host.dispose()
          done()
        })
      })
    })
}
