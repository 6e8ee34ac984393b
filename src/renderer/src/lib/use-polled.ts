import { useEffect, useState, type DependencyList } from 'react'

export interface Polled<T> {
  /** The latest answer (null until the first). */
  data: T | null
  /** Why the latest look failed (null after a good one). */
  error: string | null
}

/**
 * Calls `load` at once and every `everyMs` while `enabled`, keeping the latest answer and error;
 * starts over when `deps` change. A look answered after the effect ended is dropped.
 */
export function usePolled<T>(load: () => Promise<T>, everyMs: number, enabled: boolean, deps: DependencyList): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ data: null, error: null })
  useEffect(() => {
    if (!enabled) return
    let alive = true
    const look = async () => {
      try {
        const data = await load()
        if (alive) setState({ data, error: null })
      } catch (err) {
        if (alive) setState((s) => ({ data: s.data, error: err instanceof Error ? err.message : String(err) }))
      }
    }
    void look()
    const timer = setInterval(() => void look(), everyMs)
    return () => {
      alive = false
      clearInterval(timer)
    }
    // not `load`: it is a new closure on every render; `deps` say when what it reads changes
  }, [enabled, everyMs, ...deps])
  return state
}
