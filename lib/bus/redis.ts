/**
 * The Redis bus: PUBLISH on one connection, SUBSCRIBE on a dedicated subscriber
 * connection (a subscribed Redis connection can do nothing else). ioredis reconnects by
 * itself, forever; this class keeps the subjects it should be subscribed to and
 * subscribes them again on every reconnect, so a subscription asked for during an
 * outage is made when Redis is back. Status is up while both connections are ready and
 * the subscriptions are in place.
 *
 * On a Redis Cluster the bus uses sharded pub/sub (SPUBLISH / SSUBSCRIBE, Redis 7+): a
 * subject lives in the slot of its name, so a room's traffic stays on one shard instead
 * of being copied to every node of the cluster as PUBLISH is. ioredis's Cluster keeps one
 * subscriber connection per master (`shardedSubscribers`) and subscribes a slot's
 * subjects again on the master that owns it after a failover.
 */
import { EventEmitter } from 'node:events'
import { connectRedis, openRedis, watchSilence, type RedisClient, type RedisTarget } from './redis-client.js'
import type { Logger } from 'pino'
import type { Bus, BusStatus } from './bus.js'

type Handler = (payload: Buffer) => void

/** How often each connection is pinged, to notice a server or a link that stopped answering. */
const PING_EVERY_MS = 1000
/** A ping without an answer this long marks its connection silent: it is made again. */
const PING_TIMEOUT_MS = 2000

export class RedisBus extends EventEmitter implements Bus {
  status: BusStatus = 'down'
  private readonly pub: RedisClient
  /** The subscriber connection; the same Cluster client as `pub` in cluster mode. */
  private readonly sub: RedisClient
  /** Cluster mode: SPUBLISH / SSUBSCRIBE. */
  private readonly sharded: boolean
  /** Cluster mode: subjects asked for while the cluster was not ready, made on `ready`. */
  private readonly unmade = new Set<string>()
  private readonly handlers = new Map<string, Handler>()
  private subscribed = false
  /** The last ping went unanswered: down until the publisher is ready again. */
  private silent = false
  private closed = false
  private watches: Array<() => void> = []

  /**
   * @example
   * ```ts
   * const bus = new RedisBus('redis://127.0.0.1:6379')
   * // or a Redis Cluster, with sharded pub/sub:
   * // new RedisBus({ mode: 'cluster', url: '', nodes: ['127.0.0.1:7000', '127.0.0.1:7001'] })
   * await bus.connect()
   * await bus.subscribe('wshub.broadcast', (bytes) => console.log(bytes.toString()))
   * ```
   */
  constructor(private readonly target: RedisTarget | string, log?: Logger) {
    super()
    this.sharded = typeof target !== 'string' && target.mode === 'cluster'
    if (this.sharded) {
      this.pub = this.sub = openRedis(target, 'wshub-bus', log, { shardedSubscribers: true })
      this.pub.on('ready', () => {
        this.silent = false
        void this.resubscribe()
      })
      this.pub.on('close', () => {
        this.subscribed = false
        this.refresh()
      })
      this.pub.on('smessageBuffer', (channel: Buffer, message: Buffer) => this.deliver(channel, message, log))
      return
    }
    this.pub = openRedis(target, 'wshub-bus-pub', log)
    // This connection waits for messages, never for a command's answer: no command timeout.
    this.sub = openRedis(target, 'wshub-bus-sub', log, { commandTimeout: undefined })
    this.pub.on('ready', () => {
      this.silent = false
      this.refresh()
    })
    this.pub.on('close', () => this.refresh())
    this.sub.on('ready', () => void this.resubscribe())
    this.sub.on('close', () => {
      this.subscribed = false
      this.refresh()
    })
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.deliver(channel, message, log))
  }

  private deliver(channel: Buffer, message: Buffer, log?: Logger): void {
    const subject = channel.toString()
    try {
      this.handlers.get(subject)?.(message)
    } catch (err) {
      log?.error({ err, subject }, 'bus handler failed')
    }
  }

  async connect(): Promise<void> {
    try {
      const clients = this.sharded ? [this.pub] : [this.pub, this.sub]
      await Promise.all(clients.map((c) => connectRedis(c, 'cluster bus', this.target)))
    } catch (err) {
      this.pub.disconnect()
      this.sub.disconnect()
      throw err
    }
    if (this.status !== 'up') await this.until('up')
    // The status goes down at once: a socket to a frozen peer may take long to report its close.
    this.watches = [
      watchSilence(this.pub, PING_EVERY_MS, PING_TIMEOUT_MS, () => {
        this.silent = true
        this.refresh()
      }),
    ]
    // The subscriber too, where it is a connection of its own: on a stalled link it would wait
    // for messages (and its own SUBSCRIBE answers) forever, while the publisher, made again,
    // says all is well.
    if (this.sub !== this.pub) {
      this.watches.push(
        watchSilence(this.sub, PING_EVERY_MS, PING_TIMEOUT_MS, () => {
          this.subscribed = false
          this.refresh()
        }),
      )
    }
  }

  async publish(subject: string, payload: Buffer): Promise<void> {
    if (this.status !== 'up') throw new Error('redis bus is down')
    if (this.sharded) await this.pub.spublish(subject, payload)
    else await this.pub.publish(subject, payload)
  }

  async subscribe(subject: string, handler: Handler): Promise<void> {
    const had = this.handlers.has(subject)
    this.handlers.set(subject, handler)
    if (had) return
    if (this.sharded) return this.shardSubscribe(subject)
    if (this.sub.status !== 'ready') return
    // A failure here is repaired by the resubscribe that follows the reconnect.
    await this.sub.subscribe(subject).catch(() => {})
  }

  async unsubscribe(subject: string): Promise<void> {
    if (!this.handlers.delete(subject)) return
    this.unmade.delete(subject)
    if (this.sub.status !== 'ready') return
    await (this.sharded ? this.sub.sunsubscribe(subject) : this.sub.unsubscribe(subject)).catch(() => {})
  }

  /**
   * Cluster mode: once ioredis has taken an SSUBSCRIBE it keeps the subject and makes it
   * again on whichever master owns the slot after a failover or a reconnect; one it
   * refused (the cluster was not ready) is kept here and made on `ready`.
   */
  private async shardSubscribe(subject: string): Promise<void> {
    if (this.pub.status !== 'ready') {
      this.unmade.add(subject)
      return
    }
    try {
      // One subject per call: ioredis refuses subjects of different slots in one SSUBSCRIBE.
      await this.pub.ssubscribe(subject)
      this.unmade.delete(subject)
    } catch {
      if (this.handlers.has(subject)) this.unmade.add(subject)
    }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const stop of this.watches) stop()
    this.handlers.clear()
    this.pub.disconnect()
    this.sub.disconnect()
    this.unmade.clear()
    this.setStatus('down')
  }

  private async resubscribe(): Promise<void> {
    this.subscribed = false
    if (this.sharded) {
      // A failure leaves the subject in `unmade`, for the next `ready`.
      await Promise.all([...this.unmade].map((subject) => this.shardSubscribe(subject)))
      this.subscribed = this.pub.status === 'ready' && this.unmade.size === 0
      this.refresh()
      return
    }
    const subjects = [...this.handlers.keys()]
    try {
      if (subjects.length > 0) await this.sub.subscribe(...subjects)
      this.subscribed = this.sub.status === 'ready'
    } catch {
      // Retried on the next reconnect; the status stays down meanwhile.
    }
    this.refresh()
  }

  private refresh(): void {
    this.setStatus(!this.closed && !this.silent && this.subscribed && this.pub.status === 'ready' && this.sub.status === 'ready' ? 'up' : 'down')
  }

  private until(status: BusStatus): Promise<void> {
    return new Promise((resolve) => {
      const check = (now: BusStatus) => {
        if (now !== status) return
        this.off('status', check)
        resolve()
      }
      this.on('status', check)
    })
  }

  private setStatus(status: BusStatus): void {
    if (this.status === status) return
    this.status = status
    this.emit('status', status)
  }
}
