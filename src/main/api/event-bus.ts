import { EVENT_NAMES, type EventName, type ServerEvents } from '../../shared/api'

type Listener<E extends EventName> = (payload: ServerEvents[E]) => void

/** Typed fan-out of engine events to every transport; subscribe returns its own disposer. */
export class EventBus {
  private listeners = new Map<EventName, Set<Listener<EventName>>>()

  subscribe<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as Listener<EventName>)
    return () => set.delete(listener as Listener<EventName>)
  }

  /** Subscribes to every event; used by transports that forward all of them. */
  subscribeAll(listener: <E extends EventName>(event: E, payload: ServerEvents[E]) => void): () => void {
    const offs = EVENT_NAMES.map((n) => this.subscribe(n, (p) => listener(n, p)))
    return () => offs.forEach((off) => off())
  }

  emit<E extends EventName>(event: E, payload: ServerEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        l(payload)
      } catch (err) {
        console.error(`listener for ${event} failed:`, err)
      }
    }
  }
}
