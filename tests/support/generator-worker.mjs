// The generator worker from source, for tests that run the app's engine in-process without a
// build: point STREAMDESK_GENERATOR_WORKER at this file (see generator/worker-client.ts).
import { register } from 'tsx/esm/api'

register()
await import('../../src/main/generator/worker.ts')
