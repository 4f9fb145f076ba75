/**
 * The NATS bus: core NATS subjects, at most once, which is what live delivery wants
 * (history, where kept, lives in the cluster state, not on the bus). The official client
 * reconnects by itself, forever, and sends its subscriptions again on reconnect; this
 * class turns its status stream into up/down.
 */
import { EventEmitter } from 'node:events'
import { connect, type ConnectionOptions, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import type { Logger } from 'pino'
import type { Bus, BusStatus } from './bus.js'

type Handler = (payload: Buffer) => void

/** Options every wshub NATS connection shares: reconnect forever, notice a silent server within ~3 s. */
export function natsOptions(servers: string[], name: string): ConnectionOptions {
  return {
    servers,
    name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    pingInterval: 1000,
    maxPingOut: 2,
    timeout: 2000,
  }
}

export class NatsBus extends EventEmitter implements Bus {
  status: BusStatus = 'down'
  private nc: NatsConnection | null = null
  private readonly subs = new Map<string, Subscription>()

  /**
   * @example
   * ```ts
   * const bus = new NatsBus(['nats://127.0.0.1:4222'])
   * await bus.connect()
   * await bus.subscribe('wshub.broadcast', (bytes) => console.log(bytes.toString()))
   * ```
   */
  constructor(private readonly servers: string[], private readonly log?: Logger) {
    super()
  }

  async connect(): Promise<void> {
    try {
      this.nc = await connect(natsOptions(this.servers, 'wshub-bus'))
    } catch (err) {
      throw new Error(`could not reach NATS for the cluster bus (cluster.nats.servers): ${(err as Error).message}`)
    }
    void this.watch(this.nc)
    this.setStatus('up')
  }

  async publish(subject: string, payload: Buffer): Promise<void> {
    if (this.status !== 'up' || this.nc === null) throw new Error('nats bus is down')
    this.nc.publish(subject, payload)
  }

  async subscribe(subject: string, handler: Handler): Promise<void> {
    const nc = this.connection()
    this.subs.get(subject)?.unsubscribe()
    const sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err === null) handler(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength))
      },
    })
    this.subs.set(subject, sub)
    // Once the server has the SUB, publishes from other nodes reach it; while down, the
    // client sends it on reconnect.
    if (this.status === 'up') await nc.flush().catch(() => {})
  }

  async unsubscribe(subject: string): Promise<void> {
    const sub = this.subs.get(subject)
    if (sub === undefined) return
    this.subs.delete(subject)
    sub.unsubscribe()
  }

  async close(): Promise<void> {
    const nc = this.nc
    this.nc = null
    this.subs.clear()
    this.setStatus('down')
    if (nc !== null && !nc.isClosed()) await nc.close().catch(() => {})
  }

  private connection(): NatsConnection {
    if (this.nc === null) throw new Error('nats bus is not connected; call connect() first')
    return this.nc
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'staleConnection') this.setStatus('down')
      else if (s.type === 'reconnect') this.setStatus('up')
      else if (s.type === 'error') this.log?.debug({ err: String(s.error) }, 'nats bus error')
      else if (s.type === 'close') break
    }
    if (this.nc === nc) this.setStatus('down')
  }

  private setStatus(status: BusStatus): void {
    if (this.status === status) return
    this.status = status
    this.emit('status', status)
  }
}
