/**
 * The in-process bus: the embedded default, and the way several nodes in one process
 * (tests, examples) share a cluster. Nodes that pass the same `MemoryHub` are joined.
 */
import { EventEmitter } from 'node:events'
import type { Bus, BusStatus } from './bus.js'

type Handler = (payload: Buffer) => void

/** Subjects shared by the memory buses of one process that pass it. */
export class MemoryHub {
  readonly subjects = new Map<string, Set<Handler>>()
}

export class MemoryBus extends EventEmitter implements Bus {
  status: BusStatus = 'down'
  private readonly own = new Map<string, Handler>()

  constructor(private readonly hub: MemoryHub = new MemoryHub()) {
    super()
  }

  async connect(): Promise<void> {
    this.setStatus('up')
  }

  async publish(subject: string, payload: Buffer): Promise<void> {
    if (this.status !== 'up') throw new Error('memory bus is closed')
    const handlers = this.hub.subjects.get(subject)
    if (handlers === undefined) return
    // Delivered on a later tick, as a network bus would: a publisher never re-enters itself.
    for (const handler of handlers) setImmediate(handler, payload)
  }

  async subscribe(subject: string, handler: Handler): Promise<void> {
    this.unsubscribeNow(subject)
    this.own.set(subject, handler)
    let set = this.hub.subjects.get(subject)
    if (set === undefined) this.hub.subjects.set(subject, (set = new Set()))
    set.add(handler)
  }

  async unsubscribe(subject: string): Promise<void> {
    this.unsubscribeNow(subject)
  }

  async close(): Promise<void> {
    for (const subject of [...this.own.keys()]) this.unsubscribeNow(subject)
    this.setStatus('down')
  }

  private unsubscribeNow(subject: string): void {
    const handler = this.own.get(subject)
    if (handler === undefined) return
    this.own.delete(subject)
    const set = this.hub.subjects.get(subject)
    set?.delete(handler)
    if (set?.size === 0) this.hub.subjects.delete(subject)
  }

  private setStatus(status: BusStatus): void {
    if (this.status === status) return
    this.status = status
    this.emit('status', status)
  }
}
