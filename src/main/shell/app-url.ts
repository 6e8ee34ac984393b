import { resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

// Which URLs are "the app itself": the built renderer under out/renderer (file://) or, in
// development, the electron-vite dev server. Used for the IPC sender check, navigation
// blocking and the Content-Security-Policy. No electron import: unit-testable in plain Node.

export interface AppLocation {
  /** Absolute folder of the built renderer (…/out/renderer); file:// URLs inside it are the app. */
  rendererDir: string
  /** ELECTRON_RENDERER_URL in `electron-vite dev`; its origin is the app. */
  devServerUrl?: string | null
}

export type AppUrlCheck = (url: string) => boolean

/** Windows paths compare case-insensitively (drive letters in file URLs vary in case). */
const normalizeCase = (p: string): string => (process.platform === 'win32' ? p.toLowerCase() : p)

export function createAppUrlCheck(location: AppLocation): AppUrlCheck {
  const root = normalizeCase(resolve(location.rendererDir))
  let devOrigin: string | null = null
  if (location.devServerUrl) {
    try {
      const u = new URL(location.devServerUrl)
      if (u.protocol === 'http:' || u.protocol === 'https:') devOrigin = u.origin
    } catch {
      devOrigin = null
    }
  }
  return (url: string): boolean => {
    let u: URL
    try {
      u = new URL(url)
    } catch {
      return false
    }
    if (u.protocol === 'file:') {
      if (u.host !== '') return false
      let path: string
      try {
        path = normalizeCase(resolve(fileURLToPath(u)))
      } catch {
        return false
      }
      return path === root || path.startsWith(root + sep)
    }
    if (devOrigin !== null && (u.protocol === 'http:' || u.protocol === 'https:')) {
      return u.origin === devOrigin
    }
    return false
  }
}

/** Links the app may hand to the operating system's browser. */
export function isExternalWebUrl(url: string): boolean {
  try {
    const u = new URL(url)
    return u.protocol === 'https:' || u.protocol === 'http:'
  } catch {
    return false
  }
}
