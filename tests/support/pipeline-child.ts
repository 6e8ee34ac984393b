// A real pipeline process for crash and locking tests, run with tsx:
//
//   node --import tsx tests/support/pipeline-child.ts <input> <lake> [--until-idle] [--trigger ms]
//                                                      [--max-batch-bytes n] [--mirror dir]
//                                                      [--settings file] [--connect-timeout ms]
//
// Without --max-batch-bytes it calls runFilePipeline exactly like `streamdesk pipeline` does;
// with it, it wires the same parts (openLake, FolderSource, Pipeline) with a smaller batch size so
// a big input takes many batches; --mirror keeps a Parquet mirror there (small batches only);
// --settings and --connect-timeout go to runFilePipeline as the CLI's do (alert sinks). Prints "started" once the lake is open and one line per batch
// on stderr; exits like the CLI (CliError → its exit code, e.g. 3 when the lake is in use).

import { BatchReporter } from '../../src/main/cli/batch-report'
import { runFilePipeline, settingsFromFlags } from '../../src/main/cli/commands/pipeline'
import { CliError } from '../../src/main/cli/errors'
import { readSettingsFile } from '../../src/main/cli/settings-file'
import { onStopSignal } from '../../src/main/cli/signals'
import { Pipeline } from '../../src/main/engine/pipeline'
import { LakeError, openLake } from '../../src/main/lake/lake'
import { FolderSource, FILE_SOURCE_KIND } from '../../src/main/sources/folder-source'
import { parseSettings } from '../../src/shared/settings'

const args = process.argv.slice(2)
const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.match(/^--(trigger|max-batch-bytes|mirror|settings|connect-timeout)$/))
const [inputPath, lakeDir] = positional
const flag = (name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const untilIdle = args.includes('--until-idle')
const trigger = Number(flag('--trigger') ?? 50)
const maxBatchBytes = flag('--max-batch-bytes')
const mirror = flag('--mirror')
const settingsFile = flag('--settings')
const connectTimeout = flag('--connect-timeout')

async function runSmallBatches(): Promise<void> {
  const settings = parseSettings({ pipeline: { maxBatchBytes: Number(maxBatchBytes) } }, settingsFromFlags({ trigger }))
  let lake
  try {
    lake = await openLake(lakeDir, { create: true })
  } catch (err) {
    if (err instanceof LakeError) throw new CliError(err.message, 3)
    throw err
  }
  const source = new FolderSource(inputPath)
  const reporter = new BatchReporter(lake, (line) => console.error(line))
  const pipeline = new Pipeline({
    lake,
    source,
    sourceKind: FILE_SOURCE_KIND,
    settings: () => settings,
    untilIdle,
    rescanMs: 200,
    ...(mirror ? { mirror: { dir: mirror, compactEveryMs: 60 * 60_000 } } : {}),
    onBatch: (b) => reporter.report(b)
  })
  const off = onStopSignal(() => void pipeline.stop())
  try {
    if (!untilIdle) source.startWatching()
    console.error('started')
    await pipeline.start()
  } finally {
    off()
    await reporter.flush()
    await source.close()
    await lake.close()
  }
}

try {
  if (maxBatchBytes) await runSmallBatches()
  else
    await runFilePipeline(
      {
        mode: 'file',
        inputPath,
        lake: lakeDir,
        trigger,
        untilIdle,
        quiet: false,
        ...(settingsFile ? { baseSettings: readSettingsFile(settingsFile) } : {}),
        ...(connectTimeout ? { connectTimeout: Number(connectTimeout) } : {})
      },
      { onStarted: () => console.error('started') }
    )
  console.error('done')
  process.exit(0)
} catch (err) {
  const message = err instanceof Error ? err.message : String(err)
  console.error(`streamdesk: ${message}`)
  process.exit(err instanceof CliError ? err.exitCode : 1)
}
