import { canonicalDir } from './lake-folder'
import { openLake, type Lake, type OpenLakeOptions } from './lake'
import { withQueryEndpoint } from './lake-endpoint'

// One owner per lake file in this process. DuckDB's file lock is per process, so nothing but
// this registry stops two instances of the same file in one process — and two instances of one
// file lose commits and corrupt its WAL. Every open goes through acquireLake(): callers for the
// same folder (found by its real path) share one Lake, opened once; the last release closes it.
// An open that starts while the same lake is closing waits for the close. The process holding a
// lake answers other processes' read-only queries while it does (lake-endpoint.ts).

interface Entry {
  opening: Promise<Lake>
  refs: number
}

const entries = new Map<string, Entry>()
const closingByKey = new Map<string, Promise<void>>()

/** A shared Lake whose close() releases this caller's hold. */
export async function acquireLake(dir: string, opts: OpenLakeOptions): Promise<Lake> {
  const key = canonicalDir(dir)
  for (;;) {
    const closing = closingByKey.get(key)
    if (closing) {
      await closing
      continue
    }
    let entry = entries.get(key)
    if (!entry) {
      const opening = openLake(key, opts).then(withQueryEndpoint)
      entry = { opening, refs: 0 }
      entries.set(key, entry)
      const mine = entry
      opening.catch(() => {
        if (entries.get(key) === mine) entries.delete(key)
      })
    }
    entry.refs++
    let lake: Lake
    try {
      lake = await entry.opening
    } catch (err) {
      entry.refs--
      throw err
    }
    return lease(key, entry, lake)
  }
}

function lease(key: string, entry: Entry, lake: Lake): Lake {
  let released = false
  const held: Lake = {
    dir: lake.dir,
    file: lake.file,
    writer: lake.writer,
    reader: lake.reader,
    stage: lake.stage,
    connect: () => lake.connect(),
    use: (work) => lake.use(() => work(held)),
    onClosing: (listener) => lake.onClosing(listener),
    async close() {
      if (released) return
      released = true
      if (--entry.refs > 0) return
      if (entries.get(key) === entry) entries.delete(key)
      const closing = lake.close().finally(() => {
        if (closingByKey.get(key) === closing) closingByKey.delete(key)
      })
      closingByKey.set(key, closing)
      await closing
    }
  }
  return held
}

/** Lakes this process holds open (for tests and diagnostics). */
export function openLakeCount(): number {
  return entries.size
}
