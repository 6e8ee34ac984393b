import { ApiError, type ApiErrorShape } from '../../../shared/api'

const TYPES = new Set<ApiErrorShape['type']>(['validation', 'unknown-method', 'engine'])

function isErrorShape(v: unknown): v is ApiErrorShape {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  return typeof o.message === 'string' && TYPES.has(o.type as ApiErrorShape['type'])
}

/**
 * Whatever a transport threw, as an ApiError. Electron's ipcRenderer.invoke loses custom error
 * properties and prefixes the message ("Error invoking remote method 'x': Error: ..."), so a
 * JSON error shape embedded in the message is recovered too.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (isErrorShape(err)) return ApiError.from(err)
  if (err instanceof Error) {
    const o = err as Error & { type?: unknown; fields?: unknown }
    if (TYPES.has(o.type as ApiErrorShape['type'])) {
      return new ApiError(o.type as ApiErrorShape['type'], err.message, Array.isArray(o.fields) ? o.fields : undefined)
    }
    const json = err.message.match(/\{.*\}\s*$/s)
    if (json) {
      try {
        const parsed: unknown = JSON.parse(json[0])
        if (isErrorShape(parsed)) return ApiError.from(parsed)
      } catch {
        // not JSON after all
      }
    }
    const message = err.message.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '')
    return new ApiError('engine', message)
  }
  return new ApiError('engine', String(err))
}

/** Result of an IPC call: either the bare result or the `{ ok, result | error }` envelope. */
export function unwrapEnvelope(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>
    if (o.ok === true && 'result' in o && Object.keys(o).length <= 3) return o.result
    if (o.ok === false && isErrorShape(o.error)) throw ApiError.from(o.error)
  }
  return value
}
