import { closeSync, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs'

// An input file open for reading, with the three calls the source and the lake make on it.
// Backed by synchronous system calls on purpose: an async FileHandle call is a round trip
// through libuv's thread pool (~35 µs here), a sync one ~5 µs, and planning or reading 10,000
// small files makes ~7 calls each. The engine runs on its own thread (the app's engine worker,
// or the CLI), local-file calls return in microseconds, and a read is at most one chunk.

/** What planning and the lake look at in a file's stat (exact, as BigInts). */
export type InputStat = Pick<BigIntStats, 'dev' | 'ino' | 'size' | 'mtimeMs'>

export interface InputFile {
  stat(opts: { bigint: true }): Promise<InputStat>
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>
  close(): Promise<void>
  /** Bytes [from, to) without a copy, when the file's bytes are in memory (null when it has fewer). */
  slice?(from: number, to: number): Buffer | null
}

export async function openInputFile(path: string): Promise<InputFile> {
  const fd = openSync(path, 'r')
  let closed = false
  return {
    stat: async () => fstatSync(fd, { bigint: true }),
    read: async (buffer, offset, length, position) => ({ bytesRead: readSync(fd, buffer, offset, length, position) }),
    close: async () => {
      if (closed) return
      closed = true
      closeSync(fd)
    }
  }
}

/**
 * A view of a small file's bytes read in one call: the same three calls, served from memory.
 * Planning a one-line file takes several reads (last newline, head and tail fingerprints) and
 * the lake one more; with 100,000 such files the system calls were most of the time.
 */
export function inputFileFromBytes(bytes: Buffer, stat: InputStat): InputFile {
  return {
    stat: async () => stat,
    read: async (buffer, offset, length, position) => {
      const n = Math.max(0, Math.min(length, bytes.length - position))
      bytes.copy(buffer, offset, position, position + n)
      return { bytesRead: n }
    },
    close: async () => undefined,
    slice: (from, to) => (to <= bytes.length ? bytes.subarray(from, to) : null)
  }
}

/**
 * Bytes [from, to) of the file open as `fh`, or null when it no longer has them all. Served from
 * memory, without a copy, when the file's bytes are there.
 */
export async function readRange(fh: InputFile, from: number, to: number): Promise<Buffer | null> {
  if (fh.slice) return fh.slice(from, to)
  const buf = Buffer.allocUnsafe(to - from)
  let off = 0
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, from + off)
    if (bytesRead === 0) return null
    off += bytesRead
  }
  return buf
}
