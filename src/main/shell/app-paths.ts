import { join, resolve } from 'node:path'

// Where the app's own files are, derived from the folder of the main bundle (out/main) rather
// than app.getAppPath(), so the app works whether Electron was pointed at the project folder
// (`electron .`, electron-vite preview), at out/main/index.js (Playwright), or runs packaged
// (…/resources/app.asar/out/main).

export interface AppPaths {
  /** The app root: holds package.json, out/ and resources/ (app.asar when packaged). */
  root: string
  rendererDir: string
  rendererHtml: string
  preload: string
  icon: string
  packageJson: string
}

export function appPathsFrom(mainDir: string): AppPaths {
  const out = resolve(mainDir, '..')
  const root = resolve(out, '..')
  return {
    root,
    rendererDir: join(out, 'renderer'),
    rendererHtml: join(out, 'renderer', 'index.html'),
    preload: join(out, 'preload', 'index.cjs'),
    icon: join(root, 'resources', 'icon.png'),
    packageJson: join(root, 'package.json')
  }
}
