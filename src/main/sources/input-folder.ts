import { statSync } from 'node:fs'
import { join, resolve } from 'node:path'

// A watched folder must exist before anything starts: a run that fails this check creates no
// lake and writes nothing.

export class InputFolderError extends Error {}

export function checkInputFolder(dir: string): void {
  const abs = resolve(dir)
  let isDir = false
  try {
    isDir = statSync(abs).isDirectory()
  } catch {
    throw new InputFolderError(`input folder ${abs} does not exist (expected ${join(abs, 'orders')} and ${join(abs, 'customers')})`)
  }
  if (!isDir) throw new InputFolderError(`input folder ${abs} is a file, not a folder`)
}
