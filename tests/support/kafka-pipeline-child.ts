// A real Kafka pipeline process for crash tests, run with tsx:
//
//   node --import tsx tests/support/kafka-pipeline-child.ts <servers> <lake> [--until-idle]
//        [--trigger ms] [--max-batch-bytes n] [--connect-timeout ms] [--orders-topic t] [--customers-topic t]
//
// Calls runKafkaPipeline exactly like `streamdesk pipeline --mode kafka` does, with a KafkaSource
// whose batches are capped at --max-batch-bytes so a big input takes many batches. Prints
// "started" once the pipeline is wired and one line per batch on stderr; exits like the CLI.

import { runKafkaPipeline, kafkaSourceFromFlags, type PipelineFlags } from '../../src/main/cli/commands/pipeline'
import { CliError } from '../../src/main/cli/errors'
import { KafkaSource } from '../../src/main/sources/kafka-source'
import { parseKafkaFlags } from '../../src/main/cli/kafka-options'

const args = process.argv.slice(2)
const valued = /^--(trigger|max-batch-bytes|connect-timeout|orders-topic|customers-topic)$/
const positional = args.filter((a, i) => !a.startsWith('--') && !valued.test(args[i - 1] ?? ''))
const [servers, lakeDir] = positional
const flag = (name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const untilIdle = args.includes('--until-idle')
const maxBatchBytes = flag('--max-batch-bytes')

const flags: PipelineFlags = {
  mode: 'kafka',
  inputPath: '',
  lake: lakeDir,
  trigger: Number(flag('--trigger') ?? 50),
  untilIdle,
  quiet: false,
  kafkaServers: servers,
  kafkaTopic: flag('--orders-topic'),
  customersTopic: flag('--customers-topic'),
  connectTimeout: flag('--connect-timeout') ? Number(flag('--connect-timeout')) : undefined
}

try {
  const log = (line: string) => console.error(line)
  const source = maxBatchBytes
    ? new KafkaSource({
        ...parseKafkaFlags(flags),
        groupId: 'streamdesk',
        connectTimeoutMs: untilIdle ? (flags.connectTimeout ?? 30_000) : null,
        maxBatchBytes: Number(maxBatchBytes),
        log
      })
    : kafkaSourceFromFlags(flags, log)
  await runKafkaPipeline(flags, { source, onStarted: () => console.error('started') })
  console.error('done')
  process.exit(0)
} catch (err) {
  const message = err instanceof Error ? err.message : String(err)
  console.error(`streamdesk: ${message}`)
  process.exit(err instanceof CliError ? err.exitCode : 1)
}
