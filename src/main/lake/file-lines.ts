import { isUtf8 } from 'node:buffer'
import { MAX_LINE_BYTES } from '../../shared/events'
import { checkFileIdentity } from '../sources/file-identity'
import { openInputFile } from '../sources/input-file'
import { InputChangedError, type FileSegment, type InputLine } from '../sources/source'

// Reads the lines of a file segment [start, end) in JavaScript, in chunks, so a large segment
// never sits in memory whole. Every line keeps its exact byte offset. The file must still be the
// one the segment was planned for, before and after the read; otherwise InputChangedError (the
// engine plans again, nothing is lost).

/** Bytes read per step; a line longer than this grows the step until it ends. */
export const READ_CHUNK_BYTES = 8 * 1024 * 1024

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function isBlank(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 32 && buf[i] !== 9 && buf[i] !== 13) return false
  return true
}

/** Splits complete lines of a byte range into input lines with exact byte offsets; blank lines are left out. */
export function splitLines(buf: Buffer, baseOffset: number): InputLine[] {
  const lines: InputLine[] = []
  const allUtf8 = isUtf8(buf)
  let pos = 0
  while (pos < buf.length) {
    let nl = buf.indexOf(10, pos)
    if (nl < 0) nl = buf.length
    let end = nl
    if (end > pos && buf[end - 1] === 13) end--
    if (end > pos && !isBlank(buf, pos, end)) {
      const line: InputLine = { raw: null, byteOffset: baseOffset + pos }
      if (allUtf8) line.raw = buf.toString('utf8', pos, end)
      else {
        const bytes = buf.subarray(pos, end)
        if (isUtf8(bytes)) line.raw = strictUtf8.decode(bytes)
        else {
          line.raw = bytes.toString('utf8')
          line.error = 'line is not valid UTF-8 (invalid bytes shown as U+FFFD)'
        }
      }
      if (!line.error && end - pos > MAX_LINE_BYTES) line.error = `line over 1 MiB (${end - pos} bytes)`
      lines.push(line)
    }
    pos = nl + 1
  }
  return lines
}

/**
 * Calls `take` with the lines of `seg`, chunk by chunk, in file order. Throws InputChangedError
 * when the file is not the planned one, shrank, or ends a chunk without the planned newline.
 */
export async function readSegmentLines(
  seg: FileSegment,
  take: (lines: InputLine[]) => Promise<void> | void,
  chunkBytes = READ_CHUNK_BYTES
): Promise<void> {
  let fh
  try {
    fh = await openInputFile(seg.path)
  } catch (err) {
    throw new InputChangedError(seg.path, `it cannot be opened any more (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  try {
    const before = await checkFileIdentity(fh, seg)
    if (before) throw new InputChangedError(seg.path, before)
    let buf = Buffer.allocUnsafe(Math.min(chunkBytes, seg.end - seg.start))
    let pos = seg.start
    let filled = 0 // bytes at the front of buf carried over from the previous step (a line not yet ended)
    while (pos + filled < seg.end) {
      const want = Math.min(buf.length - filled, seg.end - pos - filled)
      const { bytesRead } = await fh.read(buf, filled, want, pos + filled)
      if (bytesRead === 0) throw new InputChangedError(seg.path, `it ended at byte ${pos + filled}, before the planned ${seg.end} (it shrank)`)
      filled += bytesRead
      const atEnd = pos + filled === seg.end
      const cut = atEnd ? filled : buf.lastIndexOf(10, filled - 1) + 1
      if (cut === 0) {
        // one line longer than the buffer: keep it and read on into a bigger buffer
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, seg.end - pos))
        buf.copy(bigger, 0, 0, filled)
        buf = bigger
        continue
      }
      if (atEnd && buf[filled - 1] !== 10) {
        throw new InputChangedError(seg.path, `byte ${seg.end - 1} is no longer the end of a line (rewritten)`)
      }
      await take(splitLines(buf.subarray(0, cut), pos))
      buf.copy(buf, 0, cut, filled)
      filled -= cut
      pos += cut
    }
    const after = await checkFileIdentity(fh, seg)
    if (after) throw new InputChangedError(seg.path, after)
  } finally {
    await fh.close()
  }
}
