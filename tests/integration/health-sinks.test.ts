import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FileSink } from '../../src/main/alerts/file-sink'
import { healthKey } from '../../src/main/alerts/sink'
import { slackHealthText } from '../../src/main/alerts/slack-sink'
import { signature, WebhookSink } from '../../src/main/alerts/webhook-sink'
import type { HealthEvent } from '../../src/shared/health'
import { AlertReceiver } from '../support/alert-receiver'
import { cleanupTempDirs, makeTempDir } from '../support/lake-fixtures'

// Health events as each sink writes them: apart from the fraud alert contract, with their key,
// and once in a file even when re-sent after an attempt that may have reached it.

afterAll(cleanupTempDirs)

const stuck: HealthEvent = {
  condition: 'stuck',
  state: 'firing',
  since: '2026-12-02T05:00:00.000Z',
  at: '2026-12-02T05:00:00.000Z',
  cause: '2 files, 1.0 KiB waiting to be read, and no batch committed for 120 s; this is not idle: there is input',
  action: 'Look at the log.',
  value: 120,
  threshold: 120,
  source: '/data/in'
}

describe('health events in the sinks', () => {
  it('a key per sink, condition, state and episode', () => {
    const k = healthKey('hook', stuck)
    expect(k).toMatch(/^[0-9a-f]{32}$/)
    expect(healthKey('hook', { ...stuck, cause: 'other figures' } as HealthEvent)).toBe(k)
    expect(healthKey('hook', { ...stuck, state: 'resolved' })).not.toBe(k)
    expect(healthKey('hook', { ...stuck, since: '2026-12-02T06:00:00.000Z' })).not.toBe(k)
    expect(healthKey('other', stuck)).not.toBe(k)
  })

  it('the file sink appends one line per event, and a re-send of a line it holds adds nothing', async () => {
    const path = join(makeTempDir(), 'health.ndjson')
    const sink = new FileSink('file', path)
    const key = healthKey(sink.id, stuck)
    await sink.sendHealth(stuck, key, false)
    await sink.sendHealth(stuck, key, true)
    const resolved = { ...stuck, state: 'resolved' as const, resolution: 'clear for 60 s' }
    await sink.sendHealth(resolved, healthKey(sink.id, resolved), true)
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(lines).toEqual([
      { health: stuck, idempotency_key: key },
      { health: resolved, idempotency_key: healthKey(sink.id, resolved) }
    ])
  })

  it('the webhook posts {"health": …}, signed like alerts, never an "alerts" key', async () => {
    const receiver = new AlertReceiver()
    await receiver.listen()
    try {
      await new WebhookSink('hook', receiver.url, 's3cret').sendHealth(stuck, 'k1')
      const [req] = receiver.requests
      expect(JSON.parse(req.body)).toEqual({ health: stuck })
      expect(req.key).toBe('k1')
      expect(req.signature).toBe(signature('s3cret', req.body))
    } finally {
      await receiver.stop()
    }
  })

  it('Slack gets the cause and what to do, and a resolution says so', () => {
    expect(slackHealthText(stuck)).toBe(`:warning: *StreamDesk pipeline stuck* — ${stuck.cause}\nWhat to do: Look at the log.`)
    expect(slackHealthText({ ...stuck, state: 'resolved', resolution: 'the pipeline stopped' })).toBe(
      `:white_check_mark: *StreamDesk pipeline stuck resolved* (the pipeline stopped) — was: ${stuck.cause}`
    )
  })
})
