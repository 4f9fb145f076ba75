/**
 * A minimal typed event emitter that runs in browsers and Node alike (node:events is
 * not available in browsers). A listener that throws does not stop the others nor the
 * client: its error is rethrown on a microtask, where the runtime reports it.
 */
type Listener = (...args: any[]) => void

export class Emitter {
  private readonly listeners = new Map<string, Listener[]>()

  /** Adds a listener. */
  protected addListener(name: string, listener: Listener): void {
    const list = this.listeners.get(name)
    if (list === undefined) this.listeners.set(name, [listener])
    else list.push(listener)
  }

  /** Removes one listener, or every listener of `name` when none is given. */
  protected removeListener(name: string, listener?: Listener): void {
    if (listener === undefined) {
      this.listeners.delete(name)
      return
    }
    const list = this.listeners.get(name)
    if (list === undefined) return
    const i = list.indexOf(listener)
    if (i !== -1) list.splice(i, 1)
    if (list.length === 0) this.listeners.delete(name)
  }

  /** Calls the listeners of `name`; true when there was one. */
  protected emit(name: string, ...args: unknown[]): boolean {
    const list = this.listeners.get(name)
    if (list === undefined) return false
    // A copy, so a listener that removes itself does not make the next one skipped.
    for (const listener of list.slice()) {
      try {
        listener(...args)
      } catch (err) {
        queueMicrotask(() => {
          throw err
        })
      }
    }
    return true
  }
}
