import type { KafkaShareState } from '../../../../shared/dto'

/** Which partitions this pipeline owns in a group it shares with other pipelines (docs/SCALING.md). */
export function shareSummary(share: KafkaShareState): string {
  if (share.generation === null) return `Joining consumer group ${share.groupId}…`
  const members = share.members ?? 0
  const owned = share.owned.length ? share.owned.join(', ') : 'no partition'
  return `Shared through consumer group ${share.groupId} (generation ${share.generation}, ${members} pipeline${members === 1 ? '' : 's'}): this pipeline owns ${owned}; the other partitions are in the other pipelines' lakes.${share.error ? ` Last group error: ${share.error}` : ''}`
}
