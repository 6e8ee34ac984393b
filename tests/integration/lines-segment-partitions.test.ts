import { afterAll, describe, expect, it } from 'vitest'
import { defaultSettings } from '../../src/shared/settings'
import { openLake } from '../../src/main/lake/lake'
import { writeBatch } from '../../src/main/lake/batch-writer'
import { transformSettings } from '../../src/main/lake/batch-transform'
import { ActiveScoring } from '../../src/main/lake/active-scoring'
import { seedRuleset } from '../../src/main/lake/rules-store'
import type { LinesSegment } from '../../src/main/sources/source'
import { cleanupTempDirs, makeWorkspace, order, query } from '../support/lake-fixtures'

afterAll(cleanupTempDirs)

describe('a lines segment holding several Kafka partitions', () => {
  it('orders records by partition then offset, so duplicates and counts stay right', async () => {
    const ws = makeWorkspace()
    const lake = await openLake(ws.lake, { create: true })
    const msg = (partition: number, offset: number, id: string) => ({
      raw: JSON.stringify(order({ order_id: id })),
      kafka: { topic: 'orders', partition, offset: String(offset), key: null, timestamp: null }
    })
    // Offsets 0..2 exist in both partitions; 'dup' appears in each.
    const seg: LinesSegment = {
      type: 'lines',
      stream: 'orders',
      source: 'orders',
      lines: [msg(0, 0, 'a'), msg(0, 1, 'dup'), msg(0, 2, 'b'), msg(1, 0, 'c'), msg(1, 1, 'dup'), msg(1, 2, 'd')]
    }
    const s = defaultSettings()
    try {
      await seedRuleset(lake.writer, s.fraud)
      const b = await writeBatch(
        lake,
        { segments: [seg], offsets: [], bytes: 0, newestInputAt: null },
        transformSettings(s, await new ActiveScoring().current(lake.writer))
      )
      expect(b.valid).toBe(5)
      expect(b.duplicates).toBe(1)
    } finally {
      await lake.close()
    }
    const rows = await query(ws.lake, `SELECT order_id, source_position FROM silver_orders ORDER BY order_id`)
    expect(rows).toContainEqual({ order_id: 'dup', source_position: 'partition 0 offset 1' })
    expect(rows).toHaveLength(5)
  })
})
