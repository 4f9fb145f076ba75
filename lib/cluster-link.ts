/**
 * This node's link to the cluster: the bus subscriptions (its inbox, the broadcast
 * subject, and each room it has local members in), envelopes out and in with at-most-
 * once delivery, the heartbeat into the shared state and the sweep of dead nodes, and
 * the repair after an outage (the node writes its clients and memberships back).
 */
import type { Logger } from 'pino'
import { decodeEnvelope, encodeEnvelope, newEnvelopeId, SeenIds, subjects, type Bus, type BusEnvelope, type BusMessage, type BusStatus } from './bus/bus.js'
import { resyncNode, type LocalClient } from './cluster/resync.js'
import type { ClusterState, RoomRecord } from './cluster/state.js'
import { clientRecordOf } from './clients.js'
import type { WshubConfig } from './config.js'
import type { Connection } from './connection.js'
import type { AppEvents, EventSink } from './events.js'
import { encodeDelivery } from './protocol.js'
import { currentTraceparent } from './tracing.js'
import type { NodeRecord } from './cluster/state.js'

/**
 * What the link uses of the node (application.ts hands it the app; a test, a MemoryBus,
 * a MemoryState and its parts). `config`, `bus` and `state` are read at each use: the app
 * opens the bus and the state at `listen()`, and `app.reload` replaces the config
 * (`rooms.presence_events` applies at the next sweep; `cluster.*` needs a restart).
 */
export interface LinkHost extends EventSink<Pick<AppEvents, 'bus_status' | 'bus_error' | 'bus_published' | 'bus_received' | 'history_missed'>> {
  readonly nodeId: string
  readonly config: Pick<WshubConfig, 'cluster' | 'rooms'>
  readonly bus: Bus
  readonly state: ClusterState
  readonly log: Logger
  /** This node's connections, for the heartbeat's count and the write-back after an outage (WsServer). */
  readonly server: { readonly size: number; readonly framesIn: number; readonly framesOut: number; everyConnection(): Iterable<Connection> }
  /** The records of the rooms this node has members in, for the write-back (Rooms). */
  readonly rooms: { recordOf(roomId: string): RoomRecord | null }
  /** Where envelopes from other nodes go (Delivery). */
  readonly delivery: { fromBus(envelope: BusEnvelope): void }
  /** Delivers the member_left of members of dead nodes. */
  deliverToRooms(rooms: readonly string[], frame: string, except: readonly string[]): Promise<void>
}

/**
 * Dead nodes are looked for at least this often, whatever the TTL, so their members are
 * gone within the TTL plus 2 s (PROTOCOL.md section 6): a beat every third of a 15 s TTL
 * would be too seldom on its own.
 */
const MAX_SWEEP_EVERY_MS = 1000

export class ClusterLink {
  private readonly seen = new SeenIds()
  private readonly subject: ReturnType<typeof subjects>
  private timers: NodeJS.Timeout[] = []
  private readonly startedAt = Date.now()
  /** Messages that could not cross the bus since start. */
  undelivered = 0
  /** Room messages delivered without offset since start: the state was out of reach, so their room's history could not keep them. */
  unrecorded = 0
  private outageLogged = false
  private historyOutageLogged = false
  /** The state may have missed writes (an outage, a failed heartbeat): write this node back at the next beat. */
  private dirty = false
  private registered = false
  /** Clients whose identity changed while the state could not take it: their records are written at the next resync. */
  private readonly unwritten = new Set<string>()
  /** Writes missed since start: a resync clears `dirty` only if none was missed while it ran. */
  private misses = 0
  /** Per client, the last of its record writes (identity changes, its part of a resync, its removal), which run one after another. */
  private readonly writing = new Map<string, Promise<unknown>>()
  private beating: Promise<void> | null = null
  private sweeping: Promise<void> | null = null
  private stopped = false

  constructor(private readonly app: LinkHost) {
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
    try {
      await Promise.all([bus.connect(), state.connect()])
    } catch (err) {
      // Whichever did connect would keep reconnecting, and the process alive, for nothing.
      await Promise.all([bus.close().catch(() => {}), state.close().catch(() => {})])
      throw err
    }
    await bus.subscribe(this.subject.node(this.app.nodeId), this.onPayload)
    await bus.subscribe(this.subject.broadcast, this.onPayload)
    await this.beat()
    const beatEvery = Math.max(50, Math.floor(this.app.config.cluster.node_ttl_ms / 3))
    this.timers = [setInterval(() => void this.beat(), beatEvery), setInterval(() => void this.sweep(), Math.min(beatEvery, MAX_SWEEP_EVERY_MS))]
    for (const timer of this.timers) timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    await Promise.all([this.beating, this.sweeping])
    // A last beat with a TTL of 0: the others see this node gone now, not a TTL later.
    await this.app.state.heartbeat(this.nodeRecord(), 0).catch(() => {})
    this.app.bus.off('status', this.onStatus)
    await this.app.bus.close().catch(() => {})
    await this.app.state.close().catch(() => {})
  }

  /** One beat at a time: a slow state must not pile beats up. */
  private beat(): Promise<void> {
    if (this.beating !== null || this.stopped) return this.beating ?? Promise.resolve()
    this.beating = this.beatOnce().finally(() => (this.beating = null))
    return this.beating
  }

  /** Heartbeat, and write this node back if the state lost it or missed writes. */
  private async beatOnce(): Promise<void> {
    const { state, config, log } = this.app
    let known: boolean
    try {
      known = await state.heartbeat(this.nodeRecord(), config.cluster.node_ttl_ms)
    } catch (err) {
      if (!this.dirty) log.warn({ err: (err as Error).message }, 'cluster heartbeat failed; this node is written back once the state answers')
      this.dirty = true
      // The bus may be back before the state's own connection: try again soon, not a whole beat later.
      if (this.registered && this.app.bus.status === 'up') setTimeout(() => void this.beat(), 500).unref()
      return
    }
    // The state answers: a history that fails again is a new outage, worth a line of its own.
    this.historyOutageLogged = false
    try {
      // At start too: a node restarted under the same node_id finds its previous life's
      // clients still listed (nobody swept them, the id kept beating) and removes them.
      if (!this.registered || !known || this.dirty) await this.resync(known)
      this.registered = true
    } catch (err) {
      this.dirty = true
      log.warn({ err: (err as Error).message }, 'cluster state update failed; retried at the next heartbeat')
    }
  }

  /** This node as its heartbeat records it, now. */
  nodeRecord(): NodeRecord {
    const { server, bus } = this.app
    return { node_id: this.app.nodeId, started_at: this.startedAt, seen_at: Date.now(), clients: server.size, bus: bus.status, frames_in: server.framesIn, frames_out: server.framesOut }
  }

  /** A write to the cluster state failed: it is repaired when this node writes itself back at the next beat. */
  stateMissed(err: unknown): void {
    if (!this.dirty) this.app.log.warn({ err: (err as Error)?.message }, 'cluster state write failed; repaired at the next heartbeat')
    this.dirty = true
    this.misses++
  }

  /** Runs one write of a client's records after its earlier ones have settled. */
  private serially<T>(clientId: string, write: () => Promise<T>): Promise<T> {
    const before = this.writing.get(clientId)
    const run = before === undefined ? write() : before.then(write, write)
    const settled = run.catch(() => {})
    this.writing.set(clientId, settled)
    void settled.then(() => {
      if (this.writing.get(clientId) === settled) this.writing.delete(clientId)
    })
    return run
  }

  /**
   * Writes a local client's record, and its member records, into the state after its
   * identity changed; what the state could not take is written at the next resync.
   */
  async updateClient(conn: Connection): Promise<void> {
    let err: unknown
    try {
      // The record as it is when the write runs: after a resync's write of this client, if one is under way.
      if (await this.serially(conn.id, () => this.app.state.updateClient(clientRecordOf(conn)))) return
      // Gone meanwhile: nothing to write. Still open: the state missed its registration.
      if (conn.closeInfo !== null) return
      err = new Error(`the cluster state does not hold client ${conn.id}`)
    } catch (failure) {
      err = failure
    }
    this.unwritten.add(conn.id)
    this.stateMissed(err)
  }

  /** Removes a client that disconnected from the state, after its writes under way (a resync's would add it back). */
  removeClient(clientId: string): Promise<void> {
    return this.serially(clientId, () => this.app.state.removeClient(clientId))
  }

  private async resync(known: boolean): Promise<void> {
    const unwritten = [...this.unwritten]
    const misses = this.misses
    const report = await resyncNode(this.app.state, this.app.nodeId, () => this.localClients())
    // A write missed while the resync ran (an identity change the state refused) may be one
    // the resync did not cover: leave it to the next beat's resync.
    if (this.misses === misses) {
      for (const id of unwritten) this.unwritten.delete(id)
      this.dirty = false
    }
    if (!this.registered && report.removed === 0) return
    this.app.log.info({ ...report, state_lost: this.registered && !known }, 'wrote this node back into the cluster state')
  }

  private localClients(): LocalClient[] {
    const { server, rooms } = this.app
    const clients: LocalClient[] = []
    // Those still being registered too: a resync between their registration and their welcome must not remove them.
    for (const conn of server.everyConnection()) {
      if (conn.closeInfo !== null) continue
      const records = []
      for (const roomId of conn.rooms) {
        const record = rooms.recordOf(roomId)
        if (record !== null) records.push(record)
      }
      clients.push({
        id: conn.id,
        record: () => clientRecordOf(conn),
        open: () => conn.closeInfo === null,
        rooms: records,
        isIn: (roomId) => conn.rooms.has(roomId),
        updated: this.unwritten.has(conn.id),
        serially: (write) => this.serially(conn.id, write),
      })
    }
    return clients
  }

  /** One sweep at a time, once this node is registered. */
  private sweep(): Promise<void> {
    if (this.sweeping !== null || this.stopped || !this.registered) return this.sweeping ?? Promise.resolve()
    this.sweeping = this.sweepOnce()
      // A state that does not answer is already reported by the heartbeat.
      .catch((err) => this.app.log.debug({ err: (err as Error).message }, 'sweep of dead nodes failed'))
      .finally(() => (this.sweeping = null))
    return this.sweeping
  }

  /** Removes the members of nodes that stopped heartbeating, and tells their rooms where presence is on. */
  private async sweepOnce(): Promise<void> {
    const { state, config } = this.app
    const removed = await state.sweepDeadNodes(config.cluster.node_ttl_ms)
    if (removed.length === 0) return
    this.app.log.info({ removed: removed.length }, 'removed members of dead nodes')
    const presence = new Map<string, boolean>()
    for (const { room, member } of removed) {
      let on = presence.get(room)
      if (on === undefined) presence.set(room, (on = ((await state.getRoom(room))?.presence_events ?? config.rooms.presence_events) === true))
      if (!on) continue
      const frame = encodeDelivery('member_left', { room_id: room, client_id: member.client_id, user_id: member.user_id }, Date.now())
      await this.app.deliverToRooms([room], frame, [])
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

  /** One frame for several clients of one node (a user's connections there). */
  publishClients(nodeId: string, to: string[], frame: string): Promise<void> {
    return this.send(this.subject.node(nodeId), this.envelope({ kind: 'clients', to, frame }))
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
    return encodeEnvelope({ ...message, id: newEnvelopeId(), origin: this.app.nodeId, traceparent: currentTraceparent(), sent_at: Date.now() } as BusEnvelope)
  }

  private async send(subject: string, payload: Buffer): Promise<void> {
    if (this.app.bus.status !== 'up') return this.failed(new Error('bus is down'))
    try {
      await this.app.bus.publish(subject, payload)
      if (this.app.listenerCount('bus_published') !== 0) this.app.emit('bus_published')
    } catch (err) {
      this.failed(err)
    }
  }

  /** Counts a room message its room's history could not keep (the state out of reach); logs once per outage, not once per message. */
  historyMissed(err: unknown): void {
    this.unrecorded++
    this.app.emit('history_missed', err)
    if (this.historyOutageLogged) return
    this.historyOutageLogged = true
    this.app.log.warn({ err: (err as Error)?.message }, 'room history unavailable: room messages are delivered without offset and kept in no history until the cluster state answers and this node has written itself back')
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
    this.app.emit('bus_status', status)
    if (!this.registered) return
    if (status === 'up') {
      this.app.log.info({ undelivered: this.undelivered, unrecorded: this.unrecorded }, 'bus up')
      this.outageLogged = false
      // Whatever failed during the outage is repaired now, not at the next scheduled beat.
      this.dirty = true
      void this.beat()
    } else this.app.log.warn('bus down: cross-node delivery paused, local delivery goes on')
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
      this.app.delivery.fromBus(envelope)
    } catch (err) {
      // Bus handlers run outside any request: a throw here (an envelope with a field
      // missing, from a stranger on a shared server or a mismatched version) would crash the node.
      this.app.log.warn({ err: (err as Error).message, kind: envelope.kind }, 'dropped a bus envelope that could not be delivered')
    }
  }
}
