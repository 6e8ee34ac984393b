import type { ApiErrorShape, EventName, Handlers, ServerEvents } from '../../shared/api'
import { ApiError, IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../../shared/api'
import { dispatch, toErrorShape } from '../api/dispatch'
import type { AppUrlCheck } from './app-url'

// Binds the engine's handler map to Electron IPC. Everything here is written against small
// structural interfaces (ipcMain-like, frame-like, webContents-like) instead of importing
// 'electron', so the whole binding runs under vitest with fakes; app.ts passes the real ipcMain
// and the main window.
//
// Wire format:
//   renderer → main  ipcRenderer.invoke(IPC_INVOKE_CHANNEL, { name, args })
//   main → renderer  { ok: true, result } | { ok: false, error: ApiErrorShape }   (never a throw)
//   main → renderer  webContents.send(IPC_EVENT_CHANNEL, { event, payload })

/** The parts of Electron's WebFrameMain the sender check reads. */
export interface FrameLike {
  readonly url: string
  readonly parent: FrameLike | null
  readonly processId?: number
  readonly frameToken?: string
  readonly detached?: boolean
}

/** The parts of Electron's IpcMainInvokeEvent the binding reads. */
export interface InvokeEventLike {
  readonly senderFrame: FrameLike | null
}

export type InvokeListener = (event: InvokeEventLike, ...args: unknown[]) => unknown

/** The parts of Electron's ipcMain the binding uses. */
export interface IpcMainLike {
  handle(channel: string, listener: InvokeListener): void
  removeHandler(channel: string): void
}

/** The parts of Electron's WebContents events are pushed to. */
export interface EventTargetLike {
  send(channel: string, ...args: unknown[]): void
  isDestroyed(): boolean
}

/** The part of the EventBus the binding needs. */
export interface EventSourceLike {
  subscribeAll(listener: <E extends EventName>(event: E, payload: ServerEvents[E]) => void): () => void
}

export type IpcReply = { ok: true; result: unknown } | { ok: false; error: ApiErrorShape }

/** An extra shell-level channel (folder picker, show in folder): one argument in, a result out. */
export type ShellChannelHandler = (arg: unknown) => Promise<unknown>

export type SenderCheck = (event: InvokeEventLike) => { ok: true } | { ok: false; reason: string }

/**
 * Accepts only calls from the main window's top-level frame while it shows the app's own page.
 * `getMainFrame` returns the window's current main frame (webContents.mainFrame), or null when
 * there is no window.
 */
export function createSenderCheck(getMainFrame: () => FrameLike | null, isAppUrl: AppUrlCheck): SenderCheck {
  return (event) => {
    const frame = event.senderFrame
    if (!frame) return { ok: false, reason: 'the sending frame is gone' }
    const main = getMainFrame()
    if (!main) return { ok: false, reason: 'there is no main window' }
    if (frame.detached) return { ok: false, reason: 'the sending frame is detached' }
    if (frame.parent !== null) return { ok: false, reason: 'the sender is a sub-frame' }
    const sameFrame =
      frame === main ||
      (frame.processId !== undefined &&
        frame.frameToken !== undefined &&
        frame.processId === main.processId &&
        frame.frameToken === main.frameToken)
    if (!sameFrame) return { ok: false, reason: "the sender is not the main window's frame" }
    if (!isAppUrl(frame.url)) return { ok: false, reason: `the sender's page is not the app (${describeUrl(frame.url)})` }
    return { ok: true }
  }
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url)
    return u.protocol === 'file:' ? 'a file:// page outside the app' : u.origin
  } catch {
    return 'an invalid URL'
  }
}

export interface IpcBindingOptions {
  ipcMain: IpcMainLike
  handlers: Handlers
  events: EventSourceLike
  checkSender: SenderCheck
  /** Where events go: the main window's webContents, or null while there is none. */
  getEventTarget: () => EventTargetLike | null
  /** Additional invoke channels, guarded by the same sender check and reply envelope. */
  shellChannels?: Record<string, ShellChannelHandler>
  /** Where refused calls and failed sends are reported (default console.warn). */
  warn?: (message: string) => void
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

async function reply(run: () => Promise<unknown>): Promise<IpcReply> {
  try {
    return { ok: true, result: await run() }
  } catch (err) {
    return { ok: false, error: toErrorShape(err) }
  }
}

/**
 * Registers the invoke handler(s) and forwards every engine event to the window.
 * Returns a disposer that removes the handlers and stops forwarding; calling it twice is harmless.
 */
export function bindIpc(options: IpcBindingOptions): () => void {
  const { ipcMain, handlers, events, checkSender, getEventTarget } = options
  const warn = options.warn ?? ((m: string) => console.warn(m))
  const shellChannels = options.shellChannels ?? {}
  let disposed = false

  const guard = (channel: string, event: InvokeEventLike): IpcReply | null => {
    if (disposed) return { ok: false, error: { type: 'engine', message: 'the engine is shutting down' } }
    const verdict = checkSender(event)
    if (verdict.ok) return null
    warn(`streamdesk: refused IPC call on ${channel}: ${verdict.reason}`)
    return { ok: false, error: { type: 'engine', message: `IPC call refused: ${verdict.reason}` } }
  }

  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event, request) => {
    const refused = guard(IPC_INVOKE_CHANNEL, event)
    if (refused) return refused
    const name = isRecord(request) ? request.name : undefined
    const args = isRecord(request) ? request.args : undefined
    return reply(() => dispatch(handlers, name, args))
  })

  for (const [channel, handler] of Object.entries(shellChannels)) {
    ipcMain.handle(channel, async (event, arg) => {
      const refused = guard(channel, event)
      if (refused) return refused
      return reply(() => handler(arg))
    })
  }

  const unsubscribe = events.subscribeAll((event, payload) => {
    if (disposed) return
    const target = getEventTarget()
    if (!target || target.isDestroyed()) return
    try {
      target.send(IPC_EVENT_CHANNEL, { event, payload })
    } catch (err) {
      warn(`streamdesk: could not forward ${event} to the window: ${err instanceof Error ? err.message : String(err)}`)
    }
  })

  return () => {
    if (disposed) return
    disposed = true
    unsubscribe()
    ipcMain.removeHandler(IPC_INVOKE_CHANNEL)
    for (const channel of Object.keys(shellChannels)) ipcMain.removeHandler(channel)
  }
}

/**
 * Validates the showInFolder argument: an absolute path to something that exists; throws the
 * wire-level validation error otherwise. `exists`/`isAbsolute` are injected (node:fs / node:path).
 */
export function parseExistingPath(
  arg: unknown,
  exists: (path: string) => boolean,
  isAbsolute: (path: string) => boolean
): string {
  const invalid = (message: string): never => {
    throw new ApiError('validation', `invalid arguments for showInFolder: path: ${message}`, [{ field: 'path', message }])
  }
  if (typeof arg !== 'string' || arg.length === 0) return invalid('expected a non-empty string')
  if (arg.includes('\0')) return invalid('contains a NUL character')
  if (!isAbsolute(arg)) return invalid('expected an absolute path')
  if (!exists(arg)) return invalid('no such file or folder')
  return arg
}

/** Validates the pickFolder argument: {} or { defaultPath: absolute path } (a missing folder is fine). */
export function parsePickFolderArgs(arg: unknown, isAbsolute: (path: string) => boolean): { defaultPath?: string } {
  if (arg === undefined || arg === null) return {}
  if (!isRecord(arg)) {
    throw new ApiError('validation', 'invalid arguments for pickFolder: expected an object', [
      { field: '(arguments)', message: 'expected an object' }
    ])
  }
  const extra = Object.keys(arg).filter((k) => k !== 'defaultPath')
  if (extra.length) {
    throw new ApiError(
      'validation',
      `invalid arguments for pickFolder: unrecognized key(s) ${extra.join(', ')}`,
      extra.map((k) => ({ field: k, message: 'unrecognized key' }))
    )
  }
  const p = arg.defaultPath
  if (p === undefined) return {}
  if (typeof p !== 'string' || !isAbsolute(p) || p.includes('\0')) {
    throw new ApiError('validation', 'invalid arguments for pickFolder: defaultPath: expected an absolute path', [
      { field: 'defaultPath', message: 'expected an absolute path' }
    ])
  }
  return { defaultPath: p }
}
