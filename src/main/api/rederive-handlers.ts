import { ApiError, type Handlers } from '../../shared/api'
import type { Settings } from '../../shared/settings'
import type { PipelineController } from '../engine/pipeline-controller'
import { replayScoring } from '../lake/active-scoring'
import { transformSettings, type TransformSettings } from '../lake/batch-transform'
import { LakeError, type Lake } from '../lake/lake'
import { replayLake } from '../lake/replay'
import { adoptReportingCurrency, ReportingCurrencyError } from '../lake/reporting-currency'
import { revalidateQuarantine } from '../lake/revalidate'
import { RewindError, rewindSource } from '../lake/rewind'
import { RulesStoreError } from '../lake/rules-store'
import { rebuildWindowsIfResized } from '../lake/window-maintenance'
import type { EventBus } from './event-bus'

// Replay, re-validation and rewind from the app, with its settings and the active ruleset
// version; only while the pipeline is stopped (the controller keeps it stopped until they are
// done): replay and re-validation write silver, alerts and windows outside a batch, and a running
// batch would commit its offset over a rewind's.

export function rederiveHandlers(
  controller: PipelineController,
  settings: () => Settings,
  events: EventBus
): Pick<Handlers, 'lake.replay' | 'quarantine.revalidate' | 'lake.rewind'> {
  const whileStopped = async <T>(work: (lake: Lake, s: TransformSettings) => Promise<T>): Promise<T> => {
    try {
      return await controller.whileStopped(async (lake) => {
        const s = settings()
        await adoptReportingCurrency(lake, s.reporting.currency)
        await rebuildWindowsIfResized(lake, s.pipeline.windowMinutes)
        return work(lake, transformSettings(s, await replayScoring(lake.writer)))
      })
    } catch (err) {
      if (err instanceof RulesStoreError || err instanceof ReportingCurrencyError || (err instanceof LakeError && err.code !== 'closing')) {
        throw new ApiError('validation', err.message)
      }
      throw err
    }
  }
  return {
    'lake.replay': ({ from, to }) =>
      whileStopped((lake, s) => replayLake(lake, { from, to, settings: s, onChunk: (c) => events.emit('replay.progress', c) })),
    'quarantine.revalidate': (selector) => whileStopped((lake, s) => revalidateQuarantine(lake, selector, s)),
    'lake.rewind': async ({ source, offset, toTime, confirm }) => {
      try {
        return await controller.whileStopped((lake) =>
          rewindSource(lake, source, offset !== undefined ? { offset } : { toTime: toTime! }, { confirm, by: 'the app (lake.rewind)' })
        )
      } catch (err) {
        if (err instanceof RewindError || (err instanceof LakeError && err.code !== 'closing')) throw new ApiError('validation', err.message)
        throw err
      }
    }
  }
}
