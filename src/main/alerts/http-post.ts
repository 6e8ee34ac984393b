import { describeFailure, SinkError } from './sink'

// POST for the webhook and Slack sinks. Errors say what happened without the URL, which may
// itself be a secret.

const REQUEST_TIMEOUT_MS = 10_000

export async function postJson(url: string, body: string, headers: Record<string, string>): Promise<void> {
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    })
  } catch (err) {
    throw new SinkError(`request failed: ${describeFailure(err)}`)
  }
  // the body is not needed; reading it lets the connection be reused
  await res.arrayBuffer().catch(() => undefined)
  if (!res.ok) throw new SinkError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`)
}
