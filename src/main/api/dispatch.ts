import { ApiError, handlerArgs, type ApiErrorShape, type HandlerName, type Handlers } from '../../shared/api'
import { SettingsError } from '../../shared/settings'

// Both transports (IPC and WebSocket) funnel every call through here: name check, argument
// validation against the shared schemas, then the handler. The caller is untrusted.

export function isHandlerName(name: unknown): name is HandlerName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(handlerArgs, name)
}

export async function dispatch(handlers: Handlers, name: unknown, args: unknown): Promise<unknown> {
  if (!isHandlerName(name)) {
    throw new ApiError('unknown-method', `unknown method ${JSON.stringify(name)}`)
  }
  const parsed = handlerArgs[name].safeParse(args ?? undefined)
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => ({
      field: i.path.join('.') || '(arguments)',
      message: i.message
    }))
    throw new ApiError(
      'validation',
      `invalid arguments for ${name}: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`,
      fields
    )
  }
  const handler = handlers[name] as ((a: unknown) => Promise<unknown>) | undefined
  // A host may implement only part of the contract; calling a hole would surface as the cryptic
  // "handler is not a function" engine error.
  if (typeof handler !== 'function') {
    throw new ApiError('unknown-method', `method ${name} is not available on this server`)
  }
  return handler(parsed.data)
}

/**
 * Turns anything thrown by a handler (`name`, when known) into the wire error shape. Only a
 * message crosses the wire, never a stack: callers are untrusted and a stack names this machine's
 * files. It must not throw itself, because it runs in the transports' last-resort catch blocks.
 */
export function toErrorShape(err: unknown, name?: string): ApiErrorShape {
  try {
    if (err instanceof ApiError) return { ...err.toJSON(), message: withoutStack(err.message) }
    if (err instanceof SettingsError) return { type: 'validation', message: withoutStack(err.message), fields: err.fields }
    return { type: 'engine', message: withoutStack(describeThrown(err, name)) }
  } catch {
    return { type: 'engine', message: `${name ?? 'the call'} failed with a value that cannot be described` }
  }
}

const MAX_DESCRIBED = 300

function describeThrown(err: unknown, name: string | undefined): string {
  const what = `${name ?? 'the call'} failed`
  if (err instanceof Error) return typeof err.message === 'string' && err.message.trim() !== '' ? err.message : `${what} (${err.name})`
  if (typeof err === 'string') return err.trim() !== '' ? err : `${what} without saying why`
  if (err === null || err === undefined) return `${what} without saying why`
  let text: string | undefined
  try {
    text = JSON.stringify(err)
  } catch {
    text = undefined
  }
  if (text === undefined || text === '{}') {
    // Objects without a prototype have no toString; String() would throw on them.
    text = typeof err === 'object' ? Object.prototype.toString.call(err) : String(err)
  }
  return `${what}: ${text.length > MAX_DESCRIBED ? `${text.slice(0, MAX_DESCRIBED)}…` : text}`
}

/** Drops stack-frame lines from a message that embeds a stack (some libraries build them so). */
function withoutStack(message: string): string {
  return message
    .split('\n')
    .filter((line) => !/^\s+at\s/.test(line))
    .join('\n')
    .trimEnd()
}
