import { dialog, type BrowserWindow, type OpenDialogOptions } from 'electron'

export interface PickFolderOptions {
  title?: string
  buttonLabel?: string
  defaultPath?: string
}

/** Native folder picker (modal to `parent` when given). Resolves to the folder, or null if cancelled. */
export async function pickFolder(parent: BrowserWindow | null, options: PickFolderOptions = {}): Promise<string | null> {
  const dialogOptions: OpenDialogOptions = {
    title: options.title ?? 'Choose a folder',
    buttonLabel: options.buttonLabel ?? 'Choose',
    properties: ['openDirectory', 'createDirectory', 'promptToCreate'],
    ...(options.defaultPath ? { defaultPath: options.defaultPath } : {})
  }
  const result =
    parent && !parent.isDestroyed()
      ? await dialog.showOpenDialog(parent, dialogOptions)
      : await dialog.showOpenDialog(dialogOptions)
  if (result.canceled) return null
  return result.filePaths[0] ?? null
}

/** A modal message with buttons; resolves to the index of the button clicked. */
export async function ask(
  parent: BrowserWindow | null,
  options: { type?: 'info' | 'error' | 'warning'; message: string; detail?: string; buttons?: string[] }
): Promise<number> {
  const opts = {
    type: options.type ?? 'info',
    message: options.message,
    detail: options.detail,
    buttons: options.buttons ?? ['OK'],
    defaultId: 0,
    cancelId: (options.buttons ?? ['OK']).length - 1,
    noLink: true
  }
  const { response } =
    parent && !parent.isDestroyed() ? await dialog.showMessageBox(parent, opts) : await dialog.showMessageBox(opts)
  return response
}
