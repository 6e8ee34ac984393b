import type { Command } from 'commander'
import { parseGenerateOptions, runGenerate } from './generate'
import { runFilePipeline, runKafkaPipeline } from './pipeline'
import { addKafkaOptions, type KafkaFlags } from '../kafka-options'
import { parseChoice, parseDuration } from '../options'
import { applySettingsFile } from '../settings-file'

// Generator and pipeline in one process: one command starts everything. Ctrl+C stops the
// generator after its current file and the pipeline after its current batch. With
// --generator-duration, the pipeline drains what was generated and exits. With --mode kafka the
// generator produces to the topics and the pipeline reads them back (offsets in the lake).
// In file mode the folder stays bounded: each generated file is removed once the lake holds it.

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
  settings?: string
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
    .option('--settings <file>', "settings file (JSON, as serve and the app use): the pipeline's pipeline, fraud and reporting settings, and the lake and input folders unless given; flags override it")
    .option('-q, --quiet', 'no per-batch lines')
  addKafkaOptions(cmd)
    .option('--kafka-compression <codec>', "kafka mode: 'gzip' or 'none'", 'gzip')
    .option('--starting-offsets <where>', 'kafka: where partitions the lake has never seen start', parseChoice('--starting-offsets', ['earliest', 'latest'] as const), 'earliest')
    .option('--kafka-group <id>', 'kafka: consumer group that gets the offsets after each lake commit (for lag tools)', 'streamdesk')
    .option('--no-kafka-group', 'kafka: do not commit offsets to a consumer group')
    .action(async (given: RunFlags, command: Command) => {
      const { flags, base: baseSettings } = applySettingsFile(given, command)
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
      process.once('SIGINT', () => genAbort.abort())
      process.once('SIGTERM', () => genAbort.abort())
      const control: { stop?: () => Promise<void>; drain?: () => Promise<void> } = {}
      // The pipeline hands over its controls once the lake is open (and, in file mode, the input
      // folder made). Only then does the generator start: a failed start (lake in use) leaves no trace.
      let markStarted!: () => void
      const started = new Promise<void>((resolve) => (markStarted = resolve))
      const onStarted = (c: Required<typeof control>) => {
        Object.assign(control, c)
        markStarted()
      }
      const pipelineDone: Promise<unknown> = kafka
        ? runKafkaPipeline(
            { ...flags, mode: 'kafka', lake: flags.lake, trigger: flags.trigger, quiet: flags.quiet, untilIdle: false, settings: flags.settings, baseSettings },
            { onStarted }
          )
        : // the folder is created once the lake is open; the generator's files go once ingested
          runFilePipeline(
            { mode: 'file', inputPath: flags.inputPath, lake: flags.lake, trigger: flags.trigger, quiet: flags.quiet, settings: flags.settings, baseSettings },
            { onStarted },
            { generatorFolder: true }
          )
      // a pipeline that fails later stops the generator too
      pipelineDone.catch(() => genAbort.abort())
      const opened = await Promise.race([started.then(() => true), pipelineDone.then(() => false, () => false)])
      if (!opened) {
        await pipelineDone // its error (e.g. exit code 3, lake in use) is run's
        return
      }
      // (a Ctrl+C while the lake was opening: no generator at all)
      if (!genAbort.signal.aborted) await runGenerate(genConfig, { log: (l) => console.error(l), signal: genAbort.signal })
      // Finished on its own: the pipeline commits what was generated, then exits.
      if (genAbort.signal.aborted) await control.stop?.()
      else await control.drain?.()
      await pipelineDone
    })
}
