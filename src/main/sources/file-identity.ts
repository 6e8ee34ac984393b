import { createHash } from 'node:crypto'
import { readRange, type InputFile, type InputStat } from './input-file'
import type { FileSegment } from './source'

// A path is not a file. Between two looks a file can be renamed (its state must follow it, or it
// is read again), deleted and created again (the old offset must not skip the new file's first
// lines) or truncated and written again (copytruncate rotation). Log shippers key their state on
// device + inode (Filebeat's native identity, Fluent Bit) or on a checksum of the first bytes
// (Vector, Filebeat's fingerprint identity), because inodes are reused as soon as a file is
// deleted. StreamDesk keeps both, and a checksum of the bytes just before the committed offset:
// the first bytes tell a new file from the old one, the last ones a file rewritten from a
// point before the offset (a copytruncate whose new first line equals the old one), and the
// inode tells which file moved where. docs/EVENTS.md states the rules.

/** Bytes hashed at the start of a file, and before its offset: one page, one read each. */
export const FINGERPRINT_BYTES = 4096

/** What a committed offset belongs to; stored as JSON in `source_offsets.identity`. */
export interface FileIdentity {
  dev: string
  ino: string
  /** Hash of bytes [0, headBytes), headBytes = min(FINGERPRINT_BYTES, offset). */
  headBytes: number
  head: string
  /** Hash of bytes [offset − tailBytes, offset), tailBytes = min(FINGERPRINT_BYTES, offset). */
  tailBytes: number
  tail: string
}

export interface FileStat {
  dev: string
  ino: string
  size: number
  mtimeMs: number
}

export async function statHandle(fh: InputFile): Promise<FileStat> {
  return fileStatOf(await fh.stat({ bigint: true }))
}

export function fileStatOf(st: InputStat): FileStat {
  return { dev: String(st.dev), ino: String(st.ino), size: Number(st.size), mtimeMs: Number(st.mtimeMs) }
}

const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest().toString('hex', 0, 16)

/** The hash of no bytes: a file's identity at offset 0 (every new file has one). */
const EMPTY = digest(Buffer.alloc(0))

/** Hex SHA-256 (128 bits) of bytes [from, to), or null when the file no longer has them all. */
export async function hashRange(fh: InputFile, from: number, to: number): Promise<string | null> {
  if (to === 0) return EMPTY
  const bytes = await readRange(fh, from, to)
  // toString of the first 16 bytes: a slice of the 64-digit hex would keep the whole one alive,
  // and the folder source holds two of these per file it tracks (100,000 files: ~19 MiB)
  return bytes && digest(bytes)
}

/** The identity of the file open as `fh` when `offset` bytes of it are committed. */
export async function identityAt(fh: InputFile, st: FileStat, offset: number): Promise<FileIdentity | null> {
  const n = Math.min(FINGERPRINT_BYTES, offset)
  const head = await hashRange(fh, 0, n)
  // up to FINGERPRINT_BYTES in, head and tail are the same bytes (a small file: hashed once)
  const tail = n === offset ? head : await hashRange(fh, offset - n, offset)
  if (head === null || tail === null) return null
  return { dev: st.dev, ino: st.ino, headBytes: n, head, tailBytes: n, tail }
}

/** True when the file open as `fh` still holds the committed bytes `id` describes, up to `offset`. */
export async function holdsCommittedBytes(fh: InputFile, id: FileIdentity, offset: number, size: number): Promise<boolean> {
  if (size < offset || id.headBytes > offset || id.tailBytes > offset) return false
  const head = await hashRange(fh, 0, id.headBytes)
  if (head !== id.head) return false
  if (id.tailBytes === offset && id.headBytes === offset) return head === id.tail
  return (await hashRange(fh, offset - id.tailBytes, offset)) === id.tail
}

export const sameInode = (a: { dev: string; ino: string }, b: { dev: string; ino: string }): boolean => a.dev === b.dev && a.ino === b.ino

export function encodeIdentity(id: FileIdentity): string {
  return JSON.stringify(id)
}

/** The identity stored with an offset, or null when there is none or it is not one of ours. */
export function decodeIdentity(text: string | null | undefined): FileIdentity | null {
  if (!text) return null
  try {
    const v = JSON.parse(text) as Partial<FileIdentity>
    const ok =
      typeof v.dev === 'string' &&
      typeof v.ino === 'string' &&
      Number.isSafeInteger(v.headBytes) &&
      Number.isSafeInteger(v.tailBytes) &&
      typeof v.head === 'string' &&
      typeof v.tail === 'string'
    return ok ? (v as FileIdentity) : null
  } catch {
    return null
  }
}

/**
 * For the lake's reader: null when the file open as `fh` is still the one `seg` was planned for
 * (same device and inode, at least `end` bytes, the same first bytes), else why it is not —
 * throw InputChangedError(seg.path, reason) then. Call it after opening and again after reading
 * the segment's last byte, so a change during the read is caught too. A segment without identity
 * fields (planned by an older source) passes.
 */
export async function checkFileIdentity(fh: InputFile, seg: FileSegment): Promise<string | null> {
  const st = await statHandle(fh)
  if (seg.dev !== undefined && seg.ino !== undefined && !sameInode(st, { dev: seg.dev, ino: seg.ino })) {
    return 'it is another file now (device and inode changed since the batch was planned)'
  }
  if (st.size < seg.end) return `it has ${st.size} bytes now, fewer than the ${seg.end} planned (it shrank)`
  if (seg.fingerprint !== undefined && seg.fingerprintBytes !== undefined) {
    if ((await hashRange(fh, 0, seg.fingerprintBytes)) !== seg.fingerprint) {
      return `its first ${seg.fingerprintBytes} bytes changed since the batch was planned (rewritten)`
    }
  }
  return null
}
