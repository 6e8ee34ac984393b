import { shell, type App, type Session, type WebContents } from 'electron'
import { isExternalWebUrl, type AppUrlCheck } from './app-url'

// Renderer hardening beyond the BrowserWindow webPreferences (window.ts):
//  * a strict Content-Security-Policy header on the app's own pages,
//  * no navigation away from the app, no new windows (http(s) links open in the OS browser),
//  * no <webview>, and every permission request denied.

/** The policy for the built app; the dev variant allows what Vite's dev server needs. */
export function buildCsp(devServerUrl?: string | null): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    // React and ECharts set inline style attributes; scripts stay strict.
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    // Desktop mode talks to the engine over IPC only; nothing goes to the network.
    'connect-src': ["'self'"],
    'worker-src': ["'self'", 'blob:'],
    'object-src': ["'none'"],
    'frame-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"]
  }
  if (devServerUrl) {
    try {
      const u = new URL(devServerUrl)
      // @vitejs/plugin-react injects an inline refresh preamble; HMR uses a WebSocket.
      directives['script-src'].push("'unsafe-inline'")
      directives['connect-src'].push(`ws://${u.host}`, `wss://${u.host}`)
    } catch {
      // not a URL: keep the strict policy
    }
  }
  return Object.entries(directives)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ')
}

/** Permissions the app's own pages get; everything else (camera, geolocation, …) is denied. */
const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write'])

export function installSessionSecurity(ses: Session, isAppUrl: AppUrlCheck, devServerUrl?: string | null): void {
  const csp = buildCsp(devServerUrl)
  ses.webRequest.onHeadersReceived((details, callback) => {
    const isDocument = details.resourceType === 'mainFrame' || details.resourceType === 'subFrame'
    if (!isDocument || !isAppUrl(details.url)) {
      callback({})
      return
    }
    const headers = { ...(details.responseHeaders ?? {}) }
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === 'content-security-policy') delete headers[key]
    }
    headers['Content-Security-Policy'] = [csp]
    callback({ responseHeaders: headers })
  })

  ses.setPermissionRequestHandler((contents, permission, callback, details) => {
    const url = details.requestingUrl || contents.getURL()
    callback(ALLOWED_PERMISSIONS.has(permission) && isAppUrl(url))
  })
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) => {
    const url = details.requestingUrl || requestingOrigin
    return ALLOWED_PERMISSIONS.has(permission) && isAppUrl(url)
  })
  ses.setDevicePermissionHandler(() => false)
}

function openExternally(url: string): void {
  if (!isExternalWebUrl(url)) return
  shell.openExternal(url).catch((err: unknown) => {
    console.warn(`streamdesk: could not open ${url}: ${err instanceof Error ? err.message : String(err)}`)
  })
}

function hardenContents(contents: WebContents, isAppUrl: AppUrlCheck): void {
  const blockNavigation = (event: { preventDefault(): void }, url: string): void => {
    if (isAppUrl(url)) return
    event.preventDefault()
    openExternally(url)
  }
  contents.on('will-navigate', (event) => blockNavigation(event, event.url))
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame && !isAppUrl(event.url)) event.preventDefault()
  })
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault()
  })
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url)
    return { action: 'deny' }
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

/** Applies the navigation/window/webview rules to every web contents the app ever creates. */
export function installContentsHardening(app: App, isAppUrl: AppUrlCheck): void {
  app.on('web-contents-created', (_event, contents) => hardenContents(contents, isAppUrl))
}
