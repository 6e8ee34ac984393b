#!/usr/bin/env node
// Thin launcher: the CLI is bundled by `npm run build` (run automatically by `npm install`).
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url))
if (!existsSync(cli)) {
  console.error('streamdesk: the CLI is not built yet. Run `npm run build` (or `npm install`) in the project folder first.')
  process.exit(1)
}
await import(pathToFileURL(cli).href)
