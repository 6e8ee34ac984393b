import { closeSync, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs'

// An input file open for reading, with the three calls the source and the lake make on it.
// Backed by synchronous system calls on purpose: an async FileHandle call is a round trip
// through libuv's thread pool (~35 µs here), a sync one ~5 µs, and planning or reading 10,000
// small files makes ~7 calls each. The engine runs on its own thread (the app's engine worker,
// or the CLI), local-file calls return in microseconds, and a read is at most one chunk.

export interface InputFile {
  stat(opts: { bigint: true }): Promise<BigIntStats>
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>
  close(): Promise<void>
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
