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
  const handler = handlers[name] as (a: unknown) => Promise<unknown>
  return handler(parsed.data)
}

/** Turns anything thrown by a handler into the wire error shape. */
export function toErrorShape(err: unknown): ApiErrorShape {
  if (err instanceof ApiError) return err.toJSON()
  if (err instanceof SettingsError) return { type: 'validation', message: err.message, fields: err.fields }
  return { type: 'engine', message: err instanceof Error ? err.message : String(err) }
}
