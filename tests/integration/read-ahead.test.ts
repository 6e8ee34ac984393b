import { renameSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { settingsFromFlags } from '../../src/main/cli/commands/pipeline'
import { Pipeline } from '../../src/main/engine/pipeline'
import { openLake } from '../../src/main/lake/lake'
import { FILE_SOURCE_KIND, FolderSource, SMALL_FILE_BYTES } from '../../src/main/sources/folder-source'
import type { Source } from '../../src/main/sources/source'
import { parseSettings } from '../../src/shared/settings'
import { cleanupTempDirs, makeWorkspace, order, queries } from '../support/lake-fixtures'

// While a batch is written, the folder source reads the small files of its backlog that the
// next poll starts with (sources/read-ahead.ts). That poll plans them as they were when read:
// a file replaced in between is then found replaced by its identity, reported, and read again
// from byte 0. Nothing is lost, nothing is read twice.

afterAll(cleanupTempDirs)

const LINES_PER_FILE = 150

function fileOf(prefix: string): string {
  return Array.from({ length: LINES_PER_FILE }, (_, i) => JSON.stringify(order({ order_id: `${prefix}-${i}` }))).join('\n') + '\n'
}

describe('a backlog read ahead while a batch is written', () => {
  it('plans the bytes read ahead; a file replaced after its read ahead is reported and read again from byte 0', async () => {
    const ws = makeWorkspace()
    const names = ['a', 'b', 'c', 'd'].map((n) => ws.orders(`${n}.jsonl`))
    for (const [i, path] of names.entries()) writeFileSync(path, fileOf(`old-${i}`))
    const size = Buffer.byteLength(fileOf('old-0'))
    // each file is small (read whole) but two do not fit one batch: one file per batch
    expect(size).toBeLessThanOrEqual(SMALL_FILE_BYTES)
    const maxBatchBytes = 64 * 1024
    expect(2 * size).toBeGreaterThan(maxBatchBytes)
    const settings = parseSettings({ ...settingsFromFlags({ trigger: 50 }), pipeline: { ...settingsFromFlags({ trigger: 50 }).pipeline, maxBatchBytes } })

    const folder = new FolderSource(ws.input)
    let readAheads = 0
    // after the first batch's read ahead (b and c are in the backlog), b is replaced by a new file
    const source: Source = {
      description: folder.description,
      open: (c, ids) => folder.open(c, ids),
      poll: (max) => folder.poll(max),
      readAhead: (max) => {
        const stop = folder.readAhead(max)
        return async () => {
          await stop()
          if (++readAheads === 1) {
            writeFileSync(`${names[1]}.new`, fileOf('new-1'))
            renameSync(`${names[1]}.new`, names[1])
          }
        }
      },
      replan: (paths) => folder.replan(paths),
      afterCommit: (b) => folder.afterCommit(b),
      onInput: (fn) => folder.onInput(fn),
      close: () => folder.close()
    }
    const lake = await openLake(ws.lake, { create: true })
    try {
      await new Pipeline({ lake, source, sourceKind: FILE_SOURCE_KIND, settings: () => settings, untilIdle: true }).start()
    } finally {
      await folder.close()
      await lake.close()
    }

    const r = await queries(ws.lake, {
      bronze: `SELECT split_part(raw->>'order_id', '-', 1) || '-' || split_part(raw->>'order_id', '-', 2) AS file, count(*) AS n,
          count(DISTINCT raw->>'order_id') AS distinct_ids FROM bronze_orders GROUP BY ALL ORDER BY file`,
      events: `SELECT e->>'kind' AS kind, e->>'path' AS path FROM (SELECT unnest(from_json(events, '["JSON"]')) AS e FROM batches) ORDER BY ALL`
    })
    // b's first content was read ahead before it was replaced: it was in the file, and is kept
    expect(r.bronze).toEqual([
      { file: 'new-1', n: LINES_PER_FILE, distinct_ids: LINES_PER_FILE },
      { file: 'old-0', n: LINES_PER_FILE, distinct_ids: LINES_PER_FILE },
      { file: 'old-1', n: LINES_PER_FILE, distinct_ids: LINES_PER_FILE },
      { file: 'old-2', n: LINES_PER_FILE, distinct_ids: LINES_PER_FILE },
      { file: 'old-3', n: LINES_PER_FILE, distinct_ids: LINES_PER_FILE }
    ])
    expect(r.events).toEqual([{ kind: 'replaced', path: names[1] }])
  })
})
