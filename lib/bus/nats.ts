/**
 * The NATS bus: core NATS subjects, at most once, which is what live delivery wants
 * (history, where kept, lives in the cluster state, not on the bus). The official client
 * reconnects by itself, forever, and sends its subscriptions again on reconnect; this
 * class turns its status stream into up/down.
 */
import { EventEmitter } from 'node:events'
import { openNats, watchConnection, type NatsConnection, type Subscription } from './nats-client.js'
import type { Logger } from 'pino'
import type { Bus, BusStatus } from './bus.js'

type Handler = (payload: Buffer) => void

/** How long a subscribe waits for the server to confirm it. */
const FLUSH_WAIT_MS = 2000

/**
 * In a NATS cluster the server that took the SUB tells the others over its routes after
 * it confirmed it; no client call waits for that. A publish through another server
 * within that moment finds no interest and is dropped, so a subscribe waits this long
 * more (route gossip takes well under a millisecond on one network).
 */
const ROUTE_GOSSIP_MS = 20

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

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
    const nc = (this.nc = await openNats(this.servers, 'wshub-bus', 'cluster bus'))
    void watchConnection(
      nc,
      (connected) => this.nc === nc && this.setStatus(connected ? 'up' : 'down'),
      (err) => this.log?.debug({ err: String(err) }, 'nats bus error'),
    )
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
        if (err !== null) return
        try {
          handler(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength))
        } catch (failure) {
          this.log?.error({ err: failure, subject }, 'bus handler failed')
        }
      },
    })
    this.subs.set(subject, sub)
    // Once the server has the SUB, publishes from other nodes reach it; while down, the
    // client sends it on reconnect, so waiting longer would only hold the caller up.
    if (this.status !== 'up') return
    await Promise.race([nc.flush().catch(() => {}), sleep(FLUSH_WAIT_MS)])
    if (nc.info?.cluster !== undefined) await sleep(ROUTE_GOSSIP_MS)
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

  private setStatus(status: BusStatus): void {
    if (this.status === status) return
    this.status = status
    this.emit('status', status)
  }
}
