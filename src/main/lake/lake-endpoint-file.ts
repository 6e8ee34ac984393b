import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// How another process finds the one that holds a lake: DuckDB lets a single process open a lake
// for writing, so that process answers read-only queries for the others (lake-endpoint.ts) and
// leaves this small file in the lake folder while it does. Only this machine's loopback address
// is used, and the token (readable only by the file's owner) keeps other local users out.

export const ENDPOINT_FILE_NAME = '.streamdesk-endpoint.json'

export interface LakeEndpointInfo {
  pid: number
  port: number
  token: string
}

export const newEndpointToken = (): string => randomBytes(24).toString('hex')

export function writeEndpointFile(dir: string, info: LakeEndpointInfo): void {
  const file = join(dir, ENDPOINT_FILE_NAME)
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 })
  renameSync(tmp, file)
}

/** The file's content, or null when there is none or it is not one this version wrote. */
export function readEndpointFile(dir: string): LakeEndpointInfo | null {
  let info: Partial<LakeEndpointInfo>
  try {
    info = JSON.parse(readFileSync(join(dir, ENDPOINT_FILE_NAME), 'utf8')) as Partial<LakeEndpointInfo>
  } catch {
    return null
  }
  const ok = Number.isInteger(info.pid) && Number.isInteger(info.port) && typeof info.token === 'string'
  return ok ? (info as LakeEndpointInfo) : null
}

/** Removes the file if it is still this endpoint's (a crash leaves one behind that a later holder replaces). */
export function removeEndpointFile(dir: string, token: string): void {
  if (readEndpointFile(dir)?.token === token) rmSync(join(dir, ENDPOINT_FILE_NAME), { force: true })
}
