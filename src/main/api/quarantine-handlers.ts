import { ApiError, type Handlers } from '../../shared/api'
import type { Settings } from '../../shared/settings'
import type { PipelineController } from '../engine/pipeline-controller'
import { replayScoring } from '../lake/active-scoring'
import { transformSettings } from '../lake/batch-transform'
import { LakeError } from '../lake/lake'
import { revalidateQuarantine } from '../lake/revalidate'
import { adoptReportingCurrency, ReportingCurrencyError } from '../lake/reporting-currency'
import { RulesStoreError } from '../lake/rules-store'

// Re-validation from the quarantine browser, with the app's settings and the active ruleset
// version; only while the pipeline is stopped (the controller keeps it stopped until done).

export function quarantineHandlers(controller: PipelineController, settings: () => Settings): Pick<Handlers, 'quarantine.revalidate'> {
  return {
    'quarantine.revalidate': async (selector) => {
      try {
        return await controller.whileStopped(async (lake) => {
          await adoptReportingCurrency(lake, settings().reporting.currency)
          return revalidateQuarantine(lake, selector, transformSettings(settings(), await replayScoring(lake.writer)))
        })
      } catch (err) {
        if (err instanceof RulesStoreError || err instanceof ReportingCurrencyError || (err instanceof LakeError && err.code !== 'closing')) throw new ApiError('validation', err.message)
        throw err
      }
    }
  }
}
