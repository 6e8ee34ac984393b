import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { app, Menu, shell, type BrowserWindow, type MenuItemConstructorOptions } from 'electron'
import type { DoctorCheck, Handlers } from '../../shared/api'
import type { ExportResult } from '../../shared/dto'
import { dispatch, toErrorShape } from '../api/dispatch'
import type { AppPaths } from './app-paths'
import { ask, pickFolder } from './dialogs'

// Native application menu. File: export a lake snapshot, open the lake folder, quit.
// View: reload, devtools, zoom, fullscreen. Help: documentation, the setup check, about.

export interface MenuContext {
  getWindow(): BrowserWindow | null
  handlers: Handlers
  /** Relative settings paths (lakePath) resolve against this folder (userData). */
  baseDir: string
  /** The app's files: package.json (for "homepage") and, in a source checkout, docs/. */
  paths: AppPaths
}

function errorMessage(err: unknown): string {
  return toErrorShape(err).message
}

async function exportSnapshot(ctx: MenuContext): Promise<void> {
  const win = ctx.getWindow()
  const outDir = await pickFolder(win, { title: 'Export lake snapshot to…', buttonLabel: 'Export here' })
  if (!outDir) return
  let result: ExportResult
  try {
    result = (await dispatch(ctx.handlers, 'lake.export', { outDir, format: 'parquet' })) as ExportResult
  } catch (err) {
    await ask(ctx.getWindow(), { type: 'error', message: 'The snapshot could not be exported', detail: errorMessage(err) })
    return
  }
  const rows = result.tables.reduce((sum, t) => sum + t.rows, 0)
  const lines = result.tables.map((t) => `  ${t.name}: ${t.rows.toLocaleString('en-US')} rows`)
  const choice = await ask(ctx.getWindow(), {
    type: 'info',
    message: 'Snapshot exported',
    detail: [
      `${result.tables.length} tables, ${rows.toLocaleString('en-US')} rows (${result.format}) in`,
      result.outDir,
      '',
      ...lines
    ].join('\n'),
    buttons: ['Show in folder', 'OK']
  })
  if (choice === 0) {
    if (existsSync(result.manifestPath)) shell.showItemInFolder(result.manifestPath)
    else await shell.openPath(result.outDir)
  }
}

async function openLakeFolder(ctx: MenuContext): Promise<void> {
  try {
    const settings = await ctx.handlers['settings.get']({})
    const lake = isAbsolute(settings.lakePath) ? settings.lakePath : resolve(ctx.baseDir, settings.lakePath)
    if (!existsSync(lake)) {
      await ask(ctx.getWindow(), {
        message: 'There is no lake yet',
        detail: `The lake folder is created when the pipeline first runs:\n${lake}`
      })
      return
    }
    const failure = await shell.openPath(lake)
    if (failure) throw new Error(failure)
  } catch (err) {
    await ask(ctx.getWindow(), { type: 'error', message: 'The lake folder could not be opened', detail: errorMessage(err) })
  }
}

/** `streamdesk doctor`'s checks on the app's own settings and lake, in a dialog. */
async function checkSetup(ctx: MenuContext): Promise<void> {
  let checks: DoctorCheck[]
  try {
    checks = (await dispatch(ctx.handlers, 'ops.doctor', {})) as DoctorCheck[]
  } catch (err) {
    await ask(ctx.getWindow(), { type: 'error', message: 'The setup could not be checked', detail: errorMessage(err) })
    return
  }
  const count = (status: DoctorCheck['status']) => checks.filter((c) => c.status === status).length
  const failed = count('fail')
  const warned = count('warn')
  const mark = { ok: '✓', warn: '!', fail: '✗' }
  await ask(ctx.getWindow(), {
    type: failed ? 'error' : warned ? 'warning' : 'info',
    message: failed ? `${failed} check${failed > 1 ? 's' : ''} failed` : warned ? `No check failed (${warned} warning${warned > 1 ? 's' : ''})` : 'All checks passed',
    detail: checks.map((c) => `${mark[c.status]} ${c.name}: ${c.message}${c.fix ? `\n    fix: ${c.fix}` : ''}`).join('\n\n')
  })
}

/** package.json "homepage" if the project declares one, else the docs/ folder of a source checkout. */
function docsTarget(paths: AppPaths): { kind: 'url' | 'folder'; target: string } | null {
  try {
    const pkg = JSON.parse(readFileSync(paths.packageJson, 'utf8')) as { homepage?: unknown }
    if (typeof pkg.homepage === 'string' && /^https?:\/\//.test(pkg.homepage)) return { kind: 'url', target: pkg.homepage }
  } catch {
    // fall through
  }
  const docs = join(paths.root, 'docs')
  return existsSync(docs) ? { kind: 'folder', target: docs } : null
}

function run(task: Promise<void>): void {
  task.catch((err: unknown) => console.error('streamdesk: menu action failed:', err))
}

export function buildMenuTemplate(ctx: MenuContext): MenuItemConstructorOptions[] {
  const isMac = process.platform === 'darwin'
  let exporting = false
  const docs = docsTarget(ctx.paths)

  const template: MenuItemConstructorOptions[] = []
  if (isMac) template.push({ role: 'appMenu' })
  template.push({
    label: 'File',
    submenu: [
      {
        label: 'Export snapshot…',
        accelerator: 'CmdOrCtrl+E',
        click: () => {
          if (exporting) return
          exporting = true
          run(exportSnapshot(ctx).finally(() => (exporting = false)))
        }
      },
      { label: 'Open lake folder', click: () => run(openLakeFolder(ctx)) },
      { type: 'separator' },
      isMac ? { role: 'close' } : { role: 'quit' }
    ]
  })
  template.push({
    label: 'View',
    submenu: [
      { role: 'reload' },
      { role: 'forceReload' },
      { role: 'toggleDevTools' },
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' }
    ]
  })
  if (isMac) template.push({ role: 'windowMenu' })
  const help: MenuItemConstructorOptions[] = []
  if (docs) {
    help.push({
      label: 'Documentation',
      click: () => {
        if (docs.kind === 'url') run(shell.openExternal(docs.target))
        else run(shell.openPath(docs.target).then(() => undefined))
      }
    })
  }
  help.push({ label: 'Check setup…', click: () => run(checkSetup(ctx)) })
  if (!isMac) {
    help.push({ type: 'separator' })
    help.push({ label: 'About StreamDesk', click: () => app.showAboutPanel() })
  }
  template.push({ role: 'help', submenu: help })
  return template
}

export function installMenu(ctx: MenuContext): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(buildMenuTemplate(ctx)))
}
