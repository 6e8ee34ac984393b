import { describe, expect, it } from 'vitest'
import type { PipelineStatus } from '../../../src/shared/dto'
import { defaultSettings, parseSettings } from '../../../src/shared/settings'
import { waitingHint } from '../../../src/renderer/src/features/metrics/waiting-hint'

const status = (state: PipelineStatus['state'], kind: PipelineStatus['source']['kind'] = 'generator', generatorRunning = true): PipelineStatus => ({
  state,
  message: state === 'error' ? 'input folder missing' : null,
  source: { kind, label: kind === 'folder' ? '/data/in' : 'gen' },
  startedAt: null,
  lastBatchId: null,
  lastBatchAt: null,
  totals: { orders: 0, alerts: 0, quarantined: 0, late: 0, duplicates: 0 },
  lagSeconds: null,
  generator: { running: generatorRunning, produced: 0 }
})

describe('empty dashboard hint', () => {
  it('says to press Start when stopped', () => {
    const h = waitingHint(status('stopped'), defaultSettings())
    expect(h.title).toBe('Waiting for the first batch…')
    expect(h.body).toMatch(/Press Start/)
  })

  it('points at the input folder when running on a folder with nothing arriving', () => {
    const s = parseSettings({ source: { kind: 'folder', inputPath: '/data/in' } })
    expect(waitingHint(status('running', 'folder'), s).body).toMatch(/Check the input folder.*\/data\/in\/orders/)
  })

  it('points at Kafka for a Kafka source', () => {
    const s = parseSettings({ source: { kind: 'kafka', kafka: { servers: ['k:9092'] } } })
    expect(waitingHint(status('running', 'kafka'), s).body).toMatch(/Kafka at k:9092.*ecommerce_orders/)
  })

  it('explains a switched-off generator and an error', () => {
    const off = parseSettings({ generator: { enabled: false } })
    expect(waitingHint(status('running', 'generator', false), off).body).toMatch(/generator is turned off/)
    expect(waitingHint(status('error'), off).body).toMatch(/input folder missing\. Fix the cause/)
    expect(waitingHint(null, null).title).toMatch(/Connecting/)
  })
})
