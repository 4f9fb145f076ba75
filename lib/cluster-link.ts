/**
 * This node's link to the cluster: the bus subscriptions (its inbox, the broadcast
 * subject, and each room it has local members in), envelopes out and in with at-most-
 * once delivery, the heartbeat into the shared state and the sweep of dead nodes.
 */
import type { Application } from './application.js'
import { decodeEnvelope, encodeEnvelope, newEnvelopeId, SeenIds, subjects, type BusEnvelope, type BusMessage, type BusStatus } from './bus/bus.js'
import { encodeDelivery } from './protocol.js'
import { currentTraceparent } from './tracing.js'

export class ClusterLink {
  private readonly seen = new SeenIds()
  private readonly subject: ReturnType<typeof subjects>
  private timer: NodeJS.Timeout | null = null
  private readonly startedAt = Date.now()
  /** Messages that could not cross the bus since start. */
  undelivered = 0
  private outageLogged = false

  constructor(private readonly app: Application) {
    this.subject = subjects(app.config.cluster.prefix)
    this.onPayload = this.onPayload.bind(this)
    this.onStatus = this.onStatus.bind(this)
  }

  get status(): BusStatus {
    return this.app.bus.status
  }

  async start(): Promise<void> {
    const { bus, state } = this.app
    bus.on('status', this.onStatus)
    await Promise.all([bus.connect(), state.connect()])
    await bus.subscribe(this.subject.node(this.app.nodeId), this.onPayload)
    await bus.subscribe(this.subject.broadcast, this.onPayload)
    await this.beat()
    const every = Math.max(50, Math.floor(this.app.config.cluster.node_ttl_ms / 3))
    this.timer = setInterval(() => void this.beat(), every)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.app.bus.off('status', this.onStatus)
    await this.app.bus.close().catch(() => {})
    await this.app.state.close().catch(() => {})
  }

  /** Heartbeat, then sweep the members of nodes that stopped heartbeating. */
  private async beat(): Promise<void> {
    const { state, config } = this.app
    try {
      await state.heartbeat({ node_id: this.app.nodeId, started_at: this.startedAt, seen_at: Date.now(), clients: this.app.server.size }, config.cluster.node_ttl_ms)
      const removed = await state.sweepDeadNodes(config.cluster.node_ttl_ms)
      for (const { room, member } of removed) {
        const roomRecord = await state.getRoom(room)
        if ((roomRecord?.presence_events ?? config.rooms.presence_events) === true) {
          const frame = encodeDelivery('member_left', { room_id: room, client_id: member.client_id, user_id: member.user_id }, Date.now())
          await this.app.deliverToRooms([room], frame, [])
        }
      }
      if (removed.length > 0) this.app.log.info({ removed: removed.length }, 'removed members of dead nodes')
    } catch (err) {
      this.app.log.warn({ err: (err as Error).message }, 'cluster heartbeat failed')
    }
  }

  watchRoom(room: string): Promise<void> {
    return this.app.bus.subscribe(this.subject.room(room), this.onPayload).catch((err) => this.failed(err))
  }

  unwatchRoom(room: string): Promise<void> {
    return this.app.bus.unsubscribe(this.subject.room(room)).catch((err) => this.failed(err))
  }

  publishRooms(rooms: readonly string[], frame: string, except: readonly string[]): Promise<void> {
    const payload = this.envelope({ kind: 'room', rooms: rooms as string[], except: except as string[], frame })
    if (rooms.length === 1) return this.send(this.subject.room(rooms[0]!), payload)
    return Promise.all(rooms.map((room) => this.send(this.subject.room(room), payload))).then(() => {})
  }

  publishDirect(nodeId: string, to: string, frame: string): Promise<void> {
    return this.send(this.subject.node(nodeId), this.envelope({ kind: 'direct', to, frame }))
  }

  publishKick(nodeId: string, to: string, code: number, reason: string): Promise<void> {
    return this.send(this.subject.node(nodeId), this.envelope({ kind: 'kick', to, code, reason }))
  }

  publishBroadcast(frame: string, except: readonly string[]): Promise<void> {
    return this.send(this.subject.broadcast, this.envelope({ kind: 'broadcast', except: except as string[], frame }))
  }

  publishRoomDeleted(room: string, frame: string): Promise<void> {
    return this.send(this.subject.room(room), this.envelope({ kind: 'room_deleted', room, frame }))
  }

  private envelope(message: BusMessage): Buffer {
    return encodeEnvelope({ ...message, id: newEnvelopeId(), origin: this.app.nodeId, traceparent: currentTraceparent() } as BusEnvelope)
  }

  private async send(subject: string, payload: Buffer): Promise<void> {
    try {
      await this.app.bus.publish(subject, payload)
      if (this.app.listenerCount('bus_published') !== 0) this.app.emit('bus_published')
    } catch (err) {
      this.failed(err)
    }
  }

  /** Counts what could not cross the bus; logs once per outage, not once per message. */
  private failed(err: unknown): void {
    this.undelivered++
    this.app.emit('bus_error', err)
    if (this.outageLogged) return
    this.outageLogged = true
    this.app.log.warn({ err: (err as Error)?.message }, 'bus unavailable: cross-node delivery paused, local delivery goes on')
  }

  private onStatus(status: BusStatus): void {
    if (status === 'up') {
      if (this.outageLogged) this.app.log.info({ undelivered: this.undelivered }, 'bus is back')
      this.outageLogged = false
    } else this.app.log.warn('bus down')
    this.app.emit('bus_status', status)
  }

  private onPayload(payload: Buffer): void {
    let envelope: BusEnvelope
    try {
      envelope = decodeEnvelope(payload)
    } catch (err) {
      this.app.log.warn({ err: (err as Error).message }, 'dropped a malformed bus envelope')
      return
    }
    if (envelope.origin === this.app.nodeId || !this.seen.firstTime(envelope.id)) return
    if (this.app.listenerCount('bus_received') !== 0) this.app.emit('bus_received', envelope)
    try {
      this.app.deliverEnvelope(envelope)
    } catch (err) {
      // Bus handlers run outside any request: a throw here (an envelope with a field
      // missing, from a stranger on a shared server or a mismatched version) would crash the node.
      this.app.log.warn({ err: (err as Error).message, kind: envelope.kind }, 'dropped a bus envelope that could not be delivered')
    }
  }
}
