import { runFilePipeline } from '../../src/main/cli/commands/pipeline'
const t = Date.now()
await runFilePipeline({ mode: 'file', inputPath: process.argv[2], lake: process.argv[3], trigger: 100, untilIdle: true })
console.log('took', Date.now() - t)
