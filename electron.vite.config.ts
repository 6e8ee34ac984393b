import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'

// Main-process bundle has two entries: the Electron shell (index) and the plain-Node CLI (cli),
// which also hosts `streamdesk serve`. Both externalize node_modules, so @duckdb/node-api's
// native binding is loaded from node_modules at run time, never bundled.
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          cli: resolve(__dirname, 'src/main/cli/main.ts'),
          'generator-worker': resolve(__dirname, 'src/main/generator/worker.ts'),
          'engine-worker': resolve(__dirname, 'src/main/api/engine-worker.ts')
        }
      }
    }
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: {
      rollupOptions: { input: resolve(__dirname, 'src/renderer/index.html') }
    },
    plugins: [react()]
  }
})
