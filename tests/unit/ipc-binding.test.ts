import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type Handlers } from '../../src/shared/api'
import type { AlertRow, PipelineStatus } from '../../src/shared/dto'
import { defaultSettings, SettingsError } from '../../src/shared/settings'
import { EventBus } from '../../src/main/api/event-bus'
import { createAppUrlCheck } from '../../src/main/shell/app-url'
import {
  bindIpc,
  createSenderCheck,
  parseExistingPath,
  parsePickFolderArgs,
  type EventTargetLike,
  type FrameLike,
  type InvokeEventLike,
  type InvokeListener,
  type IpcMainLike
} from '../../src/main/shell/ipc-binding'
import { AlertBatcher, formatAlertNotice, type Clock } from '../../src/main/shell/alert-batcher'
import { createBridge, type IpcRendererLike } from '../../src/preload/bridge'
import {
  EVENT_CHANNEL,
  INVOKE_CHANNEL,
  PICK_FOLDER_CHANNEL,
  SHOW_IN_FOLDER_CHANNEL
} from '../../src/preload/channels'

// The IPC binding and the preload bridge, exercised with fakes of ipcMain / webContents /
// ipcRenderer. Nothing here imports 'electron'.

const ROOT = resolve(__dirname, '../..')
const RENDERER_DIR = join(ROOT, 'out', 'renderer')
const APP_URL = pathToFileURL(join(RENDERER_DIR, 'index.html')).href

class FakeIpcMain implements IpcMainLike {
  readonly listeners = new Map<string, InvokeListener>()
  handle(channel: string, listener: InvokeListener): void {
    if (this.listeners.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
    this.listeners.set(channel, listener)
  }
  removeHandler(channel: string): void {
    this.listeners.delete(channel)
  }
  /** What ipcRenderer.invoke does: reject when no handler, else the handler's (awaited) value. */
  async invoke(channel: string, event: InvokeEventLike, ...args: unknown[]): Promise<unknown> {
    const listener = this.listeners.get(channel)
    if (!listener) throw new Error(`No handler registered for '${channel}'`)
    return listener(event, ...args)
  }
}

class FakeWebContents implements EventTargetLike {
  readonly sent: { channel: string; args: unknown[] }[] = []
  destroyed = false
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args })
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
}

function frame(url: string, extra: Partial<FrameLike> = {}): FrameLike {
  return { url, parent: null, processId: 4, frameToken: 'main-token', detached: false, ...extra }
}

const status: PipelineStatus = {
  state: 'running',
  message: null,
  source: { kind: 'generator', label: 'data/streaming' },
  startedAt: '2026-01-01T00:00:00.000Z',
  lastBatchId: 3,
  lastBatchAt: '2026-01-01T00:00:05.000Z',
  totals: { orders: 10, alerts: 1, quarantined: 0, late: 0, duplicates: 0 },
  lagSeconds: 0.5,
  generator: { running: true, produced: 10 }
}

function alert(orderId: string, fraudScore: number): AlertRow {
  return {
    orderId,
    customerId: 'C-1',
    orderTs: '2026-01-01T00:00:00.000Z',
    amount: 5400,
    currency: 'USD',
    reportingAmount: 5400,
    reportingCurrency: 'USD',
    fxRate: 1,
    status: 'paid',
    fraudScore,
    fraudReasons: ['amount>5000', 'country_mismatch'],
    shippingCountry: 'US',
    billingCountry: 'DE',
    detectedAt: '2026-01-01T00:00:01.000Z',
    rulesetVersion: 1
  }
}

function fakeHandlers(): { handlers: Handlers; calls: { name: string; args: unknown }[] } {
  const calls: { name: string; args: unknown }[] = []
  const record =
    (name: string, result: (args: unknown) => unknown) =>
    async (args: unknown): Promise<unknown> => {
      calls.push({ name, args })
      return result(args)
    }
  const handlers = {
    'pipeline.status': record('pipeline.status', () => status),
    'pipeline.start': record('pipeline.start', () => {
      throw new Error('source folder is not readable')
    }),
    'settings.get': record('settings.get', () => defaultSettings()),
    'settings.update': record('settings.update', () => {
      throw new SettingsError([{ field: 'pipeline.triggerMs', message: 'Too small: expected number to be >=50' }])
    }),
    'query.kpis': record('query.kpis', (args) => ({ minutes: (args as { minutes: number }).minutes, orders: 42 })),
    'query.alerts': record('query.alerts', () => [alert('O-1', 5)])
  } as unknown as Handlers
  return { handlers, calls }
}

interface Harness {
  ipcMain: FakeIpcMain
  bus: EventBus
  contents: FakeWebContents
  mainFrame: FrameLike | null
  calls: { name: string; args: unknown }[]
  warnings: string[]
  dispose: () => void
  /** Calls the invoke channel as the main window's top frame (or as `from`). */
  invoke: (request: unknown, from?: FrameLike | null) => Promise<unknown>
}

function setup(opts: { devServerUrl?: string; shellChannels?: Record<string, (arg: unknown) => Promise<unknown>> } = {}): Harness {
  const ipcMain = new FakeIpcMain()
  const bus = new EventBus()
  const contents = new FakeWebContents()
  const { handlers, calls } = fakeHandlers()
  const warnings: string[] = []
  const h: Harness = {
    ipcMain,
    bus,
    contents,
    mainFrame: frame(opts.devServerUrl ?? APP_URL),
    calls,
    warnings,
    dispose: () => {},
    invoke: (request, from) =>
      ipcMain.invoke(IPC_INVOKE_CHANNEL, { senderFrame: from === undefined ? h.mainFrame : from }, request)
  }
  const isAppUrl = createAppUrlCheck({ rendererDir: RENDERER_DIR, devServerUrl: opts.devServerUrl })
  h.dispose = bindIpc({
    ipcMain,
    handlers,
    events: bus,
    checkSender: createSenderCheck(() => h.mainFrame, isAppUrl),
    getEventTarget: () => contents,
    shellChannels: opts.shellChannels,
    warn: (m) => warnings.push(m)
  })
  return h
}

describe('ipc binding: calls', () => {
  it('runs a valid call and returns { ok: true, result } with the parsed arguments', async () => {
    const h = setup()
    await expect(h.invoke({ name: 'query.kpis', args: { minutes: 5 } })).resolves.toEqual({
      ok: true,
      result: { minutes: 5, orders: 42 }
    })
    expect(h.calls).toEqual([{ name: 'query.kpis', args: { minutes: 5 } }])
  })

  it('applies schema defaults when args are omitted', async () => {
    const h = setup()
    await expect(h.invoke({ name: 'query.alerts' })).resolves.toMatchObject({ ok: true })
    expect(h.calls).toEqual([{ name: 'query.alerts', args: { limit: 100 } }])
  })

  it('rejects a bad payload with a validation error naming the field, without calling the handler', async () => {
    const h = setup()
    const reply = (await h.invoke({ name: 'query.kpis', args: { minutes: 0 } })) as {
      ok: false
      error: { type: string; message: string; fields: { field: string; message: string }[] }
    }
    expect(reply.ok).toBe(false)
    expect(reply.error.type).toBe('validation')
    expect(reply.error.fields.map((f) => f.field)).toEqual(['minutes'])
    expect(h.calls).toEqual([])

    const extra = (await h.invoke({ name: 'query.kpis', args: { minutes: 1, evil: true } })) as {
      ok: false
      error: { type: string }
    }
    expect(extra).toMatchObject({ ok: false, error: { type: 'validation' } })
  })

  it('answers an unknown method (or a malformed request) with unknown-method', async () => {
    const h = setup()
    await expect(h.invoke({ name: 'fs.readFile', args: { path: '/etc/passwd' } })).resolves.toMatchObject({
      ok: false,
      error: { type: 'unknown-method' }
    })
    await expect(h.invoke({ name: 'constructor' })).resolves.toMatchObject({ ok: false, error: { type: 'unknown-method' } })
    await expect(h.invoke('query.kpis')).resolves.toMatchObject({ ok: false, error: { type: 'unknown-method' } })
    await expect(h.invoke(null)).resolves.toMatchObject({ ok: false, error: { type: 'unknown-method' } })
    expect(h.calls).toEqual([])
  })

  it('turns handler failures into error envelopes instead of throwing across IPC', async () => {
    const h = setup()
    await expect(h.invoke({ name: 'pipeline.start' })).resolves.toEqual({
      ok: false,
      error: { type: 'engine', message: 'source folder is not readable' }
    })
    await expect(h.invoke({ name: 'settings.update', args: { patch: { pipeline: { triggerMs: 1 } } } })).resolves.toEqual({
      ok: false,
      error: {
        type: 'validation',
        message: 'pipeline.triggerMs: Too small: expected number to be >=50',
        fields: [{ field: 'pipeline.triggerMs', message: 'Too small: expected number to be >=50' }]
      }
    })
  })
})

describe('ipc binding: sender check', () => {
  const refused = { ok: false, error: { type: 'engine' } }

  it('refuses a sub-frame of the main window', async () => {
    const h = setup()
    const sub = frame(APP_URL, { parent: h.mainFrame, frameToken: 'sub-token' })
    await expect(h.invoke({ name: 'pipeline.status' }, sub)).resolves.toMatchObject(refused)
    expect(h.calls).toEqual([])
    expect(h.warnings.join('\n')).toMatch(/sub-frame/)
  })

  it("refuses a top frame that is not the main window's", async () => {
    const h = setup()
    const other = frame(APP_URL, { frameToken: 'another-window' })
    await expect(h.invoke({ name: 'pipeline.status' }, other)).resolves.toMatchObject(refused)
    const otherProcess = frame(APP_URL, { processId: 99 })
    await expect(h.invoke({ name: 'pipeline.status' }, otherProcess)).resolves.toMatchObject(refused)
    expect(h.calls).toEqual([])
  })

  it('refuses the main frame once it shows a foreign page', async () => {
    const h = setup()
    for (const url of [
      'https://evil.example/index.html',
      'http://127.0.0.1:8502/',
      pathToFileURL(join(ROOT, 'out', 'rendererX', 'index.html')).href,
      pathToFileURL('/etc/passwd').href,
      'file://remote-host/share/index.html',
      'data:text/html,<script>1</script>',
      'not a url'
    ]) {
      h.mainFrame = frame(url)
      await expect(h.invoke({ name: 'pipeline.status' })).resolves.toMatchObject(refused)
    }
    expect(h.calls).toEqual([])
  })

  it('refuses a call whose frame is gone or when there is no main window', async () => {
    const h = setup()
    await expect(h.invoke({ name: 'pipeline.status' }, null)).resolves.toMatchObject(refused)
    await expect(h.invoke({ name: 'pipeline.status' }, frame(APP_URL, { detached: true }))).resolves.toMatchObject(refused)
    h.mainFrame = null
    await expect(h.invoke({ name: 'pipeline.status' }, frame(APP_URL))).resolves.toMatchObject(refused)
    expect(h.calls).toEqual([])
  })

  it('accepts an equal frame object (same process and frame token) on the app page, including deep links', async () => {
    const h = setup()
    await expect(h.invoke({ name: 'pipeline.status' }, frame(`${APP_URL}#/settings`))).resolves.toEqual({
      ok: true,
      result: status
    })
  })

  it('accepts the dev server origin in development and nothing else over http', async () => {
    const h = setup({ devServerUrl: 'http://localhost:5173/' })
    await expect(h.invoke({ name: 'pipeline.status' })).resolves.toMatchObject({ ok: true })
    h.mainFrame = frame('http://localhost:5174/')
    await expect(h.invoke({ name: 'pipeline.status' })).resolves.toMatchObject(refused)
    h.mainFrame = frame(APP_URL)
    await expect(h.invoke({ name: 'pipeline.status' })).resolves.toMatchObject({ ok: true })
  })
})

describe('ipc binding: events and disposal', () => {
  it('forwards every engine event to the window as { event, payload }', () => {
    const h = setup()
    h.bus.emit('pipeline.state', status)
    h.bus.emit('alerts.new', [alert('O-7', 7)])
    expect(h.contents.sent).toEqual([
      { channel: IPC_EVENT_CHANNEL, args: [{ event: 'pipeline.state', payload: status }] },
      { channel: IPC_EVENT_CHANNEL, args: [{ event: 'alerts.new', payload: [alert('O-7', 7)] }] }
    ])
  })

  it('does not send to a destroyed window', () => {
    const h = setup()
    h.contents.destroyed = true
    h.bus.emit('pipeline.state', status)
    expect(h.contents.sent).toEqual([])
  })

  it('stops forwarding events after dispose', () => {
    const h = setup()
    h.dispose()
    h.bus.emit('pipeline.state', status)
    expect(h.contents.sent).toEqual([])
  })

  it('the disposer removes every handler it registered, and is idempotent', async () => {
    const shellChannels = { [PICK_FOLDER_CHANNEL]: async () => '/tmp' }
    const h = setup({ shellChannels })
    expect([...h.ipcMain.listeners.keys()].sort()).toEqual([IPC_INVOKE_CHANNEL, PICK_FOLDER_CHANNEL].sort())
    h.dispose()
    expect(h.ipcMain.listeners.size).toBe(0)
    h.dispose()
    await expect(h.invoke({ name: 'pipeline.status' })).rejects.toThrow(/No handler registered/)
    // A new binding can take the channel again (e.g. after a reload of the shell).
    expect(() =>
      bindIpc({
        ipcMain: h.ipcMain,
        handlers: fakeHandlers().handlers,
        events: h.bus,
        checkSender: () => ({ ok: true }),
        getEventTarget: () => null
      })()
    ).not.toThrow()
  })
})

describe('ipc binding: shell channels', () => {
  let dir: string | null = null
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
    dir = null
  })

  it('validates the showInFolder path: a string, absolute, existing', () => {
    dir = mkdtempSync(join(tmpdir(), 'streamdesk-ipc-'))
    expect(parseExistingPath(dir, existsSync, isAbsolute)).toBe(dir)
    for (const bad of [42, '', 'relative/path', join(dir, 'missing'), `${dir}\0x`, null, { path: dir }]) {
      let caught: unknown
      try {
        parseExistingPath(bad, existsSync, isAbsolute)
      } catch (err) {
        caught = err
      }
      expect(caught).toMatchObject({ type: 'validation', fields: [{ field: 'path' }] })
    }
  })

  it('validates the pickFolder argument', () => {
    expect(parsePickFolderArgs(undefined, isAbsolute)).toEqual({})
    expect(parsePickFolderArgs({}, isAbsolute)).toEqual({})
    expect(parsePickFolderArgs({ defaultPath: '/data' }, isAbsolute)).toEqual({ defaultPath: '/data' })
    for (const bad of ['x', 1, [], { defaultPath: 'rel' }, { defaultPath: 3 }, { defaultPath: '/a', title: 'x' }]) {
      expect(() => parsePickFolderArgs(bad, isAbsolute)).toThrow(expect.objectContaining({ type: 'validation' }))
    }
  })

  it('guards shell channels with the same sender check and envelope', async () => {
    dir = mkdtempSync(join(tmpdir(), 'streamdesk-ipc-'))
    const shown: string[] = []
    const h = setup({
      shellChannels: {
        [SHOW_IN_FOLDER_CHANNEL]: async (arg) => {
          shown.push(parseExistingPath(arg, existsSync, isAbsolute))
          return null
        }
      }
    })
    const call = (arg: unknown, from: FrameLike | null = h.mainFrame) =>
      h.ipcMain.invoke(SHOW_IN_FOLDER_CHANNEL, { senderFrame: from }, arg)
    await expect(call(dir)).resolves.toEqual({ ok: true, result: null })
    await expect(call('relative')).resolves.toMatchObject({ ok: false, error: { type: 'validation' } })
    await expect(call(dir, frame('https://evil.example/'))).resolves.toMatchObject({ ok: false, error: { type: 'engine' } })
    expect(shown).toEqual([dir])
  })
})

describe('preload bridge over the binding', () => {
  /** Wires createBridge() to the binding as if the main window's top frame were calling. */
  function connect(h: Harness): ReturnType<typeof createBridge> {
    let onEvent: ((event: unknown, ...args: unknown[]) => void) | null = null
    const ipcRenderer: IpcRendererLike = {
      invoke: (channel, ...args) => h.ipcMain.invoke(channel, { senderFrame: h.mainFrame }, ...args),
      on: (channel, listener) => {
        expect(channel).toBe(EVENT_CHANNEL)
        onEvent = listener
      }
    }
    h.contents.send = (channel, ...args) => {
      expect(channel).toBe(EVENT_CHANNEL)
      onEvent?.({ sender: 'ipc' }, ...args)
    }
    return createBridge(ipcRenderer)
  }

  it('uses the same channel names as the shared contract', () => {
    expect(INVOKE_CHANNEL).toBe(IPC_INVOKE_CHANNEL)
    expect(EVENT_CHANNEL).toBe(IPC_EVENT_CHANNEL)
  })

  it('invoke resolves with the unwrapped result', async () => {
    const bridge = connect(setup())
    await expect(bridge.invoke('query.kpis', { minutes: 3 })).resolves.toEqual({ minutes: 3, orders: 42 })
  })

  it('invoke rejects with { name, type, message, fields } on a validation error', async () => {
    const bridge = connect(setup())
    const err = await bridge.invoke('query.kpis', { minutes: -1 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'ApiError', type: 'validation', fields: [{ field: 'minutes' }] })
    expect(typeof (err as { message: unknown }).message).toBe('string')
    const unknown = await (bridge.invoke as (n: string) => Promise<unknown>)('nope').catch((e: unknown) => e)
    expect(unknown).toMatchObject({ name: 'ApiError', type: 'unknown-method' })
  })

  it('invoke rejects with an engine error when no handler is bound', async () => {
    const h = setup()
    const bridge = connect(h)
    h.dispose()
    const err = await bridge.invoke('pipeline.status').catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'ApiError', type: 'engine' })
  })

  it('subscribe delivers payloads only to listeners of that event, until unsubscribed', () => {
    const h = setup()
    const bridge = connect(h)
    const states: unknown[] = []
    const alerts: unknown[] = []
    const off = bridge.subscribe('pipeline.state', (p) => states.push(p))
    const off2 = bridge.subscribe('alerts.new', (p) => alerts.push(p))
    h.bus.emit('pipeline.state', status)
    off()
    off()
    h.bus.emit('pipeline.state', { ...status, state: 'stopped' })
    h.bus.emit('alerts.new', [alert('O-2', 4)])
    off2()
    expect(states).toEqual([status])
    expect(alerts).toEqual([[alert('O-2', 4)]])
  })

  it('a throwing listener does not stop the others', () => {
    const h = setup()
    const bridge = connect(h)
    const got: unknown[] = []
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    bridge.subscribe('pipeline.state', () => {
      throw new Error('boom')
    })
    bridge.subscribe('pipeline.state', (p) => got.push(p))
    h.bus.emit('pipeline.state', status)
    spy.mockRestore()
    expect(got).toEqual([status])
  })

  it('exposes exactly invoke, subscribe, pickFolder and showInFolder (no ipcRenderer)', () => {
    const bridge = createBridge({ invoke: async () => ({ ok: true, result: null }), on: () => {} })
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'pickFolder', 'showInFolder', 'subscribe'])
    expect(Object.values(bridge).every((v) => typeof v === 'function')).toBe(true)
  })

  it('pickFolder and showInFolder go through their own channels', async () => {
    const picked: unknown[] = []
    const h = setup({
      shellChannels: {
        [PICK_FOLDER_CHANNEL]: async (arg) => {
          picked.push(parsePickFolderArgs(arg, isAbsolute))
          return '/home/user/exports'
        },
        [SHOW_IN_FOLDER_CHANNEL]: async (arg) => parseExistingPath(arg, existsSync, isAbsolute) && null
      }
    })
    const bridge = connect(h)
    await expect(bridge.pickFolder()).resolves.toBe('/home/user/exports')
    await expect(bridge.pickFolder('/home/user')).resolves.toBe('/home/user/exports')
    await expect(bridge.pickFolder('relative')).rejects.toMatchObject({ type: 'validation', fields: [{ field: 'defaultPath' }] })
    expect(picked).toEqual([{}, { defaultPath: '/home/user' }])
    await expect(bridge.showInFolder(ROOT)).resolves.toBeUndefined()
    await expect(bridge.showInFolder('nope')).rejects.toMatchObject({ type: 'validation', fields: [{ field: 'path' }] })
  })
})

describe('alert notifications (batching, rate limit, setting)', () => {
  function fakeClock(): Clock & { advance(ms: number): Promise<void> } {
    let now = 1_000_000
    let timers: { at: number; fn: () => void; id: number }[] = []
    let next = 1
    return {
      now: () => now,
      setTimeout: (fn, ms) => {
        const id = next++
        timers.push({ at: now + ms, fn, id })
        return id
      },
      clearTimeout: (id) => {
        timers = timers.filter((t) => t.id !== id)
      },
      async advance(ms) {
        now += ms
        const due = timers.filter((t) => t.at <= now)
        timers = timers.filter((t) => t.at > now)
        for (const t of due) t.fn()
        await new Promise((r) => setTimeout(r, 0))
      }
    }
  }

  it('formats one alert and a batch', () => {
    expect(formatAlertNotice([alert('O-1', 5)])).toMatchObject({
      title: 'New fraud alert',
      body: 'Order O-1: score 5, $5,400.00 (amount>5000, country_mismatch)'
    })
    expect(formatAlertNotice([alert('O-1', 5), alert('O-123', 7), alert('O-3', 4)])).toMatchObject({
      body: '3 new fraud alerts, highest score 7 — order O-123',
      count: 3
    })
    expect(formatAlertNotice([])).toBeNull()
  })

  it('gathers close alerts into one notification and rate-limits the next', async () => {
    const clock = fakeClock()
    const shown: string[] = []
    const b = new AlertBatcher({ isEnabled: async () => true, show: (n) => shown.push(n.body), clock, batchMs: 1000, minIntervalMs: 30_000 })
    b.add([alert('O-1', 4)])
    b.add([alert('O-2', 6), alert('O-3', 5)])
    await clock.advance(999)
    expect(shown).toEqual([])
    await clock.advance(1)
    expect(shown).toEqual(['3 new fraud alerts, highest score 6 — order O-2'])
    b.add([alert('O-4', 3)])
    await clock.advance(5_000)
    b.add([alert('O-5', 9)])
    await clock.advance(20_000)
    expect(shown).toHaveLength(1)
    await clock.advance(5_000)
    expect(shown).toEqual(['3 new fraud alerts, highest score 6 — order O-2', '2 new fraud alerts, highest score 9 — order O-5'])
  })

  it('shows nothing while settings.dashboard.notifications is off, and nothing after dispose', async () => {
    const clock = fakeClock()
    const shown: string[] = []
    let enabled = false
    const b = new AlertBatcher({ isEnabled: async () => enabled, show: (n) => shown.push(n.body), clock, batchMs: 10, minIntervalMs: 10 })
    b.add([alert('O-1', 4)])
    await clock.advance(10)
    expect(shown).toEqual([])
    enabled = true
    b.add([alert('O-2', 4)])
    b.dispose()
    await clock.advance(100)
    expect(shown).toEqual([])
  })
})

describe('built preload bundle', () => {
  const bundle = join(ROOT, 'out', 'preload', 'index.cjs')
  it.skipIf(!existsSync(bundle))('requires nothing but electron (sandboxed preload)', () => {
    const source = readFileSync(bundle, 'utf8')
    const required = [...source.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1])
    expect(new Set(required)).toEqual(new Set(['electron']))
    expect(source).not.toMatch(/\bimport\s*\(/)
    expect(source).toContain('exposeInMainWorld')
  })
})
