import { describe, expect, it } from 'vitest'
import { shareSummary } from '../../../src/renderer/src/features/pipeline/share-summary'
import type { KafkaShareState } from '../../../src/shared/dto'

const base: KafkaShareState = { groupId: 'fraud-eu', memberId: 'm-1', generation: 4, members: 2, owned: ['orders/0', 'orders/2'], error: null }

describe('shareSummary (the Kafka lag card with a shared consumer group)', () => {
  it('names the group, generation, pipelines and the partitions owned', () => {
    expect(shareSummary(base)).toBe(
      "Shared through consumer group fraud-eu (generation 4, 2 pipelines): this pipeline owns orders/0, orders/2; the other partitions are in the other pipelines' lakes."
    )
  })

  it('says when it is still joining, owns nothing, or the group reported an error', () => {
    expect(shareSummary({ ...base, memberId: null, generation: null, members: null, owned: [] })).toBe('Joining consumer group fraud-eu…')
    expect(shareSummary({ ...base, members: 1, owned: [] })).toContain('(generation 4, 1 pipeline): this pipeline owns no partition')
    expect(shareSummary({ ...base, error: 'Connection timeout' })).toMatch(/Last group error: Connection timeout$/)
  })
})
