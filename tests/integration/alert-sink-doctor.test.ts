import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runDoctor } from '../../src/main/engine/doctor'
import { parseSettings } from '../../src/shared/settings'
import { AlertReceiver } from '../support/alert-receiver'
import { freePort } from '../support/kafka-broker'
import { cleanupTempDirs, makeTempDir } from '../support/lake-fixtures'

// doctor looks at each alert sink without sending anything: a webhook that accepts connections
// gets no request, a file sink's folder is left as it was.

afterAll(cleanupTempDirs)

describe('doctor and alert sinks', () => {
  it('passes reachable sinks without sending, and fails unreachable ones with the fix', { timeout: 60_000 }, async () => {
    const dir = makeTempDir()
    const receiver = new AlertReceiver()
    await receiver.listen()
    const deadPort = await freePort()
    const blocker = join(dir, 'not-a-folder')
    writeFileSync(blocker, '')
    const { alerts } = parseSettings({
      alerts: {
        sinks: [
          { kind: 'webhook', name: 'up', url: receiver.url },
          { kind: 'webhook', name: 'down', url: `http://127.0.0.1:${deadPort}/hook` },
          { kind: 'kafka', name: 'bus', servers: [`127.0.0.1:${deadPort}`], topic: 'fraud-alerts' },
          { kind: 'file', name: 'log', path: 'alerts.ndjson' },
          { kind: 'file', name: 'nowhere', path: join(blocker, 'alerts.ndjson') }
        ]
      }
    })
    try {
      const results = await runDoctor({
        lakeDir: join(dir, 'lake'),
        inputDir: dir,
        sourceKind: 'folder',
        maxFutureSkewMinutes: 5,
        sinks: alerts.sinks,
        resolvePath: (p) => resolve(dir, p)
      })
      const sinkChecks = results.filter((r) => r.name.startsWith('alert sink '))
      expect(sinkChecks.map((r) => [r.name, r.status])).toEqual([
        ['alert sink up', 'ok'],
        ['alert sink down', 'fail'],
        ['alert sink bus', 'fail'],
        ['alert sink log', 'ok'],
        ['alert sink nowhere', 'fail']
      ])
      expect(sinkChecks[1].message).toBe(`cannot connect to 127.0.0.1:${deadPort}: ECONNREFUSED`)
      expect(sinkChecks[1].fix).toMatch(/start the receiver/)
      expect(sinkChecks[2].message).toMatch(new RegExp(`^cannot reach Kafka at 127\\.0\\.0\\.1:${deadPort}`))
      expect(sinkChecks[4].message).toBe(`${blocker} is a file, not a folder`)
      // nothing sent, nothing left behind
      expect(receiver.requests).toEqual([])
      expect(existsSync(join(dir, 'alerts.ndjson'))).toBe(false)
      expect(readdirSync(dir).sort()).toEqual(['not-a-folder'])
    } finally {
      await receiver.stop()
    }
  })
})
