import { writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { settingsFromFlags } from '../../src/main/cli/commands/pipeline'
import { Pipeline } from '../../src/main/engine/pipeline'
import { openLake } from '../../src/main/lake/lake'
import { FILE_SOURCE_KIND, FolderSource } from '../../src/main/sources/folder-source'
import { parseSettings } from '../../src/shared/settings'
import { cleanupTempDirs, makeWorkspace, order, query } from '../support/lake-fixtures'

// pipeline.memoryLimitMB bounds DuckDB's working memory (it spills beyond it). A batch that
// cannot fit even so gets more room for that batch instead of stopping the engine.

afterAll(cleanupTempDirs)

describe('DuckDB memory limit', () => {
  it('is set from pipeline.memoryLimitMB before a batch', async () => {
    const ws = makeWorkspace()
    writeFileSync(ws.orders('a.jsonl'), JSON.stringify(order({ order_id: 'one' })) + '\n')
    const lake = await openLake(ws.lake, { create: true })
    const settings = parseSettings({ pipeline: { memoryLimitMB: 300 } }, settingsFromFlags({ trigger: 50 }))
    try {
      await new Pipeline({ lake, source: new FolderSource(ws.input), sourceKind: FILE_SOURCE_KIND, settings: () => settings, untilIdle: true }).start()
      expect((await lake.reader.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0][0]).toBe('300.0 MiB')
    } finally {
      await lake.close()
    }
  })

  it('applies the setting to the lake, and a batch that runs out of memory is retried with more', async () => {
    const ws = makeWorkspace()
    writeFileSync(ws.orders('a.jsonl'), Array.from({ length: 20_000 }, (_, i) => JSON.stringify(order({ order_id: `m-${i}` }))).join('\n') + '\n')
    const lake = await openLake(ws.lake, { create: true })
    // 2 MB is far too little for 20,000 orders: DuckDB fails with "Out of Memory" at first
    let settings = parseSettings({ pipeline: { memoryLimitMB: 256 } }, settingsFromFlags({ trigger: 50 }))
    settings = { ...settings, pipeline: { ...settings.pipeline, memoryLimitMB: 2 } }
    const limits: string[] = []
    const pipeline = new Pipeline({
      lake,
      source: new FolderSource(ws.input),
      sourceKind: FILE_SOURCE_KIND,
      settings: () => settings,
      untilIdle: true,
      onBatch: () => undefined
    })
    try {
      await pipeline.start()
      limits.push(String((await lake.reader.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0][0]))
    } finally {
      await lake.close()
    }
    expect((await query(ws.lake, 'SELECT count(*) AS n FROM silver_orders'))[0].n).toBe(20_000)
    // the retry lifted the limit for that batch
    expect(limits[0]).not.toMatch(/^\d(\.\d+)? MiB$/)
  })
})
