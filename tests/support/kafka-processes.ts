// Real processes for the Kafka tests: the CLI itself (src/main/cli/main.ts) and the crash-test
// child (kafka-pipeline-child.ts), both run from source with tsx.

import { spawnTsx, type Child } from './bulk-input'

/** `streamdesk <args>` as a process (the CLI from source). */
export function spawnCli(args: string[]): Child {
  return spawnTsx('src/main/cli/main.ts', args)
}

/** The Kafka pipeline crash-test child: <servers> <lake> [--until-idle] [--max-batch-bytes n] ... */
export function spawnKafkaPipeline(servers: string, lake: string, extra: string[] = []): Child {
  return spawnTsx('tests/support/kafka-pipeline-child.ts', [servers, lake, ...extra])
}

/** Rows read per batch line ("batch N: R rows in: ...") printed so far. */
export function rowsRead(stderr: string): number {
  let n = 0
  for (const m of stderr.matchAll(/^batch \d+: (\d+) rows? in:/gm)) n += Number(m[1])
  return n
}
