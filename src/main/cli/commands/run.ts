import type { Command } from 'commander'
import { parseGenerateOptions, runGenerate } from './generate'
import { runFilePipeline, runKafkaPipeline } from './pipeline'
import { addKafkaOptions, type KafkaFlags } from '../kafka-options'
import { parseChoice, parseDuration } from '../options'

// Generator and pipeline in one process: one command starts everything. Ctrl+C stops the
// generator after its current file and the pipeline after its current batch. With
// --generator-duration, the pipeline drains what was generated and exits. With --mode kafka the
// generator produces to the topics and the pipeline reads them back (offsets in the lake).

interface RunFlags extends KafkaFlags {
  mode: 'file' | 'kafka'
  kafkaCompression?: string
  startingOffsets?: 'earliest' | 'latest'
  kafkaGroup?: string | false
  inputPath: string
  lake: string
  trigger: number
  generatorInterval?: string
  generatorRate?: string
  generatorDuration?: string
  fraudRate?: string
  seed?: string
  quiet?: boolean
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('Run the generator and the pipeline together (Ctrl+C stops both cleanly)')
    .option('--mode <mode>', "'file' (through --input-path) or 'kafka' (through --kafka-servers)", parseChoice('--mode', ['file', 'kafka'] as const), 'file')
    .option('--input-path <dir>', 'folder the generator writes and the pipeline reads', 'data/streaming')
    .option('--lake <dir>', 'lake folder', 'lake')
    .option('--trigger <duration>', 'minimum time between micro-batches', parseDuration('--trigger'), 500)
    .option('--generator-interval <seconds>', 'one order every S seconds (default 2.0)')
    .option('--generator-rate <n>', 'N orders per second instead of an interval')
    .option('--generator-duration <seconds>', 'stop generating after S seconds, then drain and exit')
    .option('--fraud-rate <share>', 'share of orders from fraud scenarios', '0.03')
    .option('--seed <n>', 'seed for reproducible events')
    .option('-q, --quiet', 'no per-batch lines')
  addKafkaOptions(cmd)
    .option('--kafka-compression <codec>', "kafka mode: 'gzip' or 'none'", 'gzip')
    .option('--starting-offsets <where>', 'kafka: where partitions the lake has never seen start', parseChoice('--starting-offsets', ['earliest', 'latest'] as const), 'earliest')
    .option('--kafka-group <id>', 'kafka: consumer group that gets the offsets after each lake commit (for lag tools)', 'streamdesk')
    .option('--no-kafka-group', 'kafka: do not commit offsets to a consumer group')
    .action(async (flags: RunFlags) => {
      const kafka = flags.mode === 'kafka'
      const genConfig = parseGenerateOptions({
        ...(kafka ? flags : {}),
        mode: flags.mode,
        output: flags.inputPath,
        interval: flags.generatorInterval,
        rate: flags.generatorRate,
        duration: flags.generatorDuration,
        fraudRate: flags.fraudRate,
        seed: flags.seed,
        quiet: flags.quiet
      })
      const genAbort = new AbortController()
      const control: { stop?: () => Promise<void>; drain?: () => Promise<void> } = {}
      // The pipeline hands over its controls once the lake is open; the generator can finish
      // before that, so stopping or draining waits for them.
      let markStarted!: () => void
      const started = new Promise<void>((resolve) => (markStarted = resolve))
      const onStarted = (c: Required<typeof control>) => {
        Object.assign(control, c)
        markStarted()
      }
      let pipelineDone: Promise<unknown>
      if (kafka) {
        pipelineDone = runKafkaPipeline(
          { ...flags, mode: 'kafka', lake: flags.lake, trigger: flags.trigger, quiet: flags.quiet, untilIdle: false },
          { onStarted }
        )
      } else {
        const { mkdirSync } = await import('node:fs')
        for (const sub of ['orders', 'customers']) mkdirSync(`${genConfig.output}/${sub}`, { recursive: true })
        pipelineDone = runFilePipeline(
          { mode: 'file', inputPath: flags.inputPath, lake: flags.lake, trigger: flags.trigger, quiet: flags.quiet },
          { onStarted }
        )
      }
      // a pipeline that fails early (lake in use, bad flags) stops the generator too
      pipelineDone.catch(() => genAbort.abort())
      process.once('SIGINT', () => genAbort.abort())
      process.once('SIGTERM', () => genAbort.abort())
      await runGenerate(genConfig, { log: (l) => console.error(l), signal: genAbort.signal })
      await Promise.race([started, pipelineDone.catch(() => undefined)])
      // Finished on its own: the pipeline commits what was generated, then exits.
      if (genAbort.signal.aborted) await control.stop?.()
      else await control.drain?.()
      await pipelineDone
    })
}
