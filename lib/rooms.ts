/**
 * Rooms: the local registry of which connections of this node are in which room, kept
 * in step with the cluster state and the bus. A node subscribes to a room's subject
 * only while it has local members there. Delivery converts a frame to bytes once and
 * writes the same bytes to every local recipient.
 */
import type { Connection } from './connection.js'
import { SharedFrame } from './shared-frame.js'
import { AppError, ErrorCode } from './errors.js'
import { checkRoomId, encodeDelivery } from './protocol.js'
import type { WshubConfig } from './config.js'
import type { ClusterState, HistoryReplay, JoinResult, MemberRecord, RoomRecord } from './cluster/state.js'
import { clientEventInfo, type AppEvents, type EventSink, type RoomLeftReason } from './events.js'

export type { JoinResult } from './cluster/state.js'

/**
 * What Rooms uses of the node (application.ts hands it the app; a test, a MemoryState and
 * a few stubs). `config` and `state` are read at each use: `app.reload` replaces the
 * config (room defaults apply from the next join) and the app opens the state at `listen()`.
 */
export interface RoomsHost extends EventSink<Pick<AppEvents, 'room_created' | 'room_joined' | 'room_left' | 'room_deleted'>> {
  readonly config: { readonly rooms: WshubConfig['rooms'] }
  readonly state: ClusterState
  readonly link: RoomsLink
  /** Delivers presence frames: local members now, the rest over the bus. */
  deliverToRooms(rooms: readonly string[], frame: string, except: readonly string[]): Promise<void>
}

/** The bus side of a room (ClusterLink): its subject while it has local members here, and writes the state missed. */
export interface RoomsLink {
  watchRoom(room: string): Promise<void>
  unwatchRoom(room: string): Promise<void>
  publishRoomDeleted(room: string, frame: string): Promise<void>
  stateMissed(err: unknown): void
}

/** Options of a room made through the API or the server SDK. */
export interface RoomOptions {
  id: string
  name?: string
  max_clients?: number
  presence_events?: boolean | null
}

interface LocalRoom {
  members: Set<Connection>
  presence: boolean
  /** Live frames held for members whose `since` replay is being read; null when none is. */
  held: Map<Connection, Buffer[]> | null
  /** The room as the cluster knew it at the first local join: what a resync recreates if the state lost it. */
  record: RoomRecord
  /** Settles once the room's bus subject is subscribed. */
  watched: Promise<void>
}

export class Rooms {
  private readonly local = new Map<string, LocalRoom>()

  constructor(private readonly app: RoomsHost) {}

  /** Number of rooms with members on this node. */
  get localCount(): number {
    return this.local.size
  }

  /** Checks a room id, failing with 1001. */
  static check(roomId: unknown): string {
    return checkRoomId(roomId)
  }

  /** A new room record with the configured defaults. */
  record(options: RoomOptions): RoomRecord {
    return {
      id: options.id,
      name: options.name ?? options.id,
      max_clients: options.max_clients ?? this.app.config.rooms.default_max_clients,
      presence_events: options.presence_events ?? null,
      created_at: Date.now(),
    }
  }

  private presenceOn(room: RoomRecord): boolean {
    return room.presence_events ?? this.app.config.rooms.presence_events
  }

  /** Joins a connection to a room with every check of `join_room`. */
  async join(conn: Connection, roomId: string, since: number | null): Promise<JoinResult> {
    Rooms.check(roomId)
    if (!conn.can(`join:room:${roomId}`)) throw new AppError(ErrorCode.Forbidden, `missing permission join:room:${roomId}`)
    if (conn.rooms.has(roomId)) throw new AppError(ErrorCode.AlreadyInRoom, `already in room ${roomId}`)
    const autoCreate = this.app.config.rooms.auto_create && conn.can(`create:room:${roomId}`) ? this.record({ id: roomId }) : null
    const outcome = await this.app.state.join(roomId, memberOf(conn), autoCreate)
    if (outcome.status === 'not_found') throw new AppError(ErrorCode.RoomNotFound, `room ${roomId} does not exist`)
    if (outcome.status === 'full') throw new AppError(ErrorCode.RoomFull, `room ${roomId} is full`)
    if (outcome.status === 'already_member') throw new AppError(ErrorCode.AlreadyInRoom, `already in room ${roomId}`)
    if (outcome.created) this.app.emit('room_created', { room: roomId, record: outcome.room, clientId: conn.id, userId: conn.userId, time: Date.now() })
    if (!conn.isOpen) {
      // It left while the state answered: undo, so no ghost member stays behind.
      await this.app.state.leave(roomId, conn.id)
      throw new AppError(ErrorCode.ClientOffline, 'connection closed during join')
    }
    conn.rooms.add(roomId)
    const replaying = since !== null && this.app.config.rooms.history_size > 0
    await this.addLocal(roomId, conn, outcome.room, replaying)
    let recovered: boolean | null = null
    if (since !== null) {
      if (!replaying) recovered = false
      else {
        let replay: HistoryReplay | null = null
        try {
          replay = await this.app.state.history(roomId, since)
          recovered = replay.recovered
        } finally {
          this.replay(roomId, conn, since, replay)
        }
      }
    }
    if (this.presenceOn(outcome.room)) {
      await this.presence(roomId, 'member_joined', conn)
    }
    this.app.emit('room_joined', { room: roomId, ...clientEventInfo(conn) })
    return { members: outcome.members, recovered }
  }

  /** Removes a connection from a room; fails with 3003 when it was not in it. */
  async leave(conn: Connection, roomId: string): Promise<void> {
    Rooms.check(roomId)
    if (!conn.rooms.has(roomId)) throw new AppError(ErrorCode.NotInRoom, `not in room ${roomId}`)
    const presence = this.local.get(roomId)?.presence ?? false
    conn.rooms.delete(roomId)
    await this.removeLocal(roomId, conn)
    await this.leaveState(roomId, conn)
    if (presence) await this.presence(roomId, 'member_left', conn)
    this.emitLeft(roomId, conn, 'left')
  }

  /** Removes a closed connection from every room, locally and in the cluster state. */
  async leaveAll(conn: Connection): Promise<void> {
    const rooms = [...conn.rooms]
    conn.rooms.clear()
    for (const roomId of rooms) {
      const presence = this.local.get(roomId)?.presence ?? false
      await this.removeLocal(roomId, conn)
      await this.leaveState(roomId, conn)
      if (presence) await this.presence(roomId, 'member_left', conn).catch(() => {})
      this.emitLeft(roomId, conn, 'disconnect')
    }
  }

  // The member has left here whatever the state says; one it could not hear (an outage)
  // is repaired when the node writes itself back.
  private async leaveState(roomId: string, conn: Connection): Promise<void> {
    try {
      await this.app.state.leave(roomId, conn.id)
    } catch (err) {
      this.app.link.stateMissed(err)
    }
  }

  private emitLeft(room: string, conn: Connection, reason: RoomLeftReason): void {
    if (this.app.listenerCount('room_left') > 0) this.app.emit('room_left', { room, reason, ...clientEventInfo(conn) })
  }

  private async presence(roomId: string, type: 'member_joined' | 'member_left', conn: Connection): Promise<void> {
    const frame = encodeDelivery(type, { room_id: roomId, client_id: conn.id, user_id: conn.userId }, Date.now())
    await this.app.deliverToRooms([roomId], frame, [conn.id])
  }

  /**
   * Adds a local member. With `hold`, its live frames are held from this moment until
   * `replay` has sent the history, so nothing arrives twice or before older messages:
   * the member must receive live frames from the moment it counts as one, but the
   * history read takes a while.
   */
  private async addLocal(roomId: string, conn: Connection, record: RoomRecord, hold: boolean): Promise<void> {
    let room = this.local.get(roomId)
    if (room === undefined) {
      const watched = this.app.link.watchRoom(roomId)
      this.local.set(roomId, (room = { members: new Set(), presence: this.presenceOn(record), held: null, record, watched }))
    }
    room.members.add(conn)
    if (hold) (room.held ??= new Map()).set(conn, [])
    // A join that lands while the first one subscribes must not answer before it.
    await room.watched
  }

  /** The record of a room this node has members in, or null. */
  recordOf(roomId: string): RoomRecord | null {
    return this.local.get(roomId)?.record ?? null
  }

  /** Sends the history entries after `since`, then the live frames held meanwhile that are newer. */
  private replay(roomId: string, conn: Connection, since: number, replay: HistoryReplay | null): void {
    const room = this.local.get(roomId)
    const held = room?.held?.get(conn) ?? []
    if (room?.held) {
      room.held.delete(conn)
      if (room.held.size === 0) room.held = null
    }
    let last = since
    if (replay !== null) {
      for (const entry of replay.entries) {
        conn.send(entry.frame)
        last = entry.offset
      }
    }
    // Held frames are few and this runs once per recovering join: parsing them here keeps the hot path free.
    for (const frame of held) {
      const offset = (JSON.parse(frame.toString()) as { data?: { offset?: unknown } }).data?.offset
      if (typeof offset !== 'number' || offset > last) conn.send(frame)
    }
  }

  private async removeLocal(roomId: string, conn: Connection): Promise<void> {
    const room = this.local.get(roomId)
    if (room === undefined) return
    room.members.delete(conn)
    room.held?.delete(conn)
    if (room.members.size > 0) return
    this.local.delete(roomId)
    await this.app.link.unwatchRoom(roomId)
  }

  /** Writes the same bytes to every local member of the rooms, each once, except the excluded. */
  deliverLocal(rooms: readonly string[], frame: SharedFrame, except: readonly string[]): number {
    let sent = 0
    if (rooms.length === 1) {
      const room = this.local.get(rooms[0]!)
      if (room === undefined) return 0
      const held = room.held
      for (const conn of room.members) {
        if (except.length !== 0 && except.includes(conn.id)) continue
        if (held !== null && held.has(conn)) held.get(conn)!.push(frame.payload)
        else if (conn.sendShared(frame)) sent++
      }
      return sent
    }
    const seen = new Set<Connection>()
    for (const roomId of rooms) {
      const room = this.local.get(roomId)
      if (room === undefined) continue
      for (const conn of room.members) {
        if (seen.has(conn) || except.includes(conn.id)) continue
        seen.add(conn)
        if (room.held !== null && room.held.has(conn)) room.held.get(conn)!.push(frame.payload)
        else if (conn.sendShared(frame)) sent++
      }
    }
    return sent
  }

  /** Drops a deleted room's local members, sending each `frame` (a `room_left`). */
  dropLocal(roomId: string, frame: SharedFrame): void {
    const room = this.local.get(roomId)
    if (room === undefined) return
    this.local.delete(roomId)
    for (const conn of room.members) {
      conn.rooms.delete(roomId)
      conn.sendShared(frame)
      this.emitLeft(roomId, conn, 'deleted')
    }
    void this.app.link.unwatchRoom(roomId)
  }

  // Server SDK: cluster-wide.

  /** Creates a room; fails with 3001 when it exists. */
  async create(options: RoomOptions): Promise<RoomRecord> {
    Rooms.check(options.id)
    const record = this.record(options)
    if (!(await this.app.state.createRoom(record))) throw new AppError(ErrorCode.RoomExists, `room ${options.id} already exists`)
    this.app.emit('room_created', { room: record.id, record, clientId: null, userId: null, time: Date.now() })
    return record
  }

  /** Deletes a room; its members get `room_left` with `reason: "deleted"`. Fails with 3000 when there is none. */
  async delete(roomId: string): Promise<void> {
    Rooms.check(roomId)
    const members = await this.app.state.deleteRoom(roomId)
    if (members === null) throw new AppError(ErrorCode.RoomNotFound, `room ${roomId} does not exist`)
    const frame = encodeDelivery('room_left', { room_id: roomId, status: 'left', reason: 'deleted' }, Date.now())
    this.dropLocal(roomId, new SharedFrame(frame))
    await this.app.link.publishRoomDeleted(roomId, frame)
    this.app.emit('room_deleted', { room: roomId, time: Date.now() })
  }

  get(roomId: string): Promise<RoomRecord | null> {
    return this.app.state.getRoom(roomId)
  }

  list(): Promise<Array<RoomRecord & { members: number }>> {
    return this.app.state.listRooms()
  }

  /** The members across the cluster, or null when the room does not exist. */
  members(roomId: string): Promise<MemberRecord[] | null> {
    return this.app.state.members(roomId)
  }
}

/** A connection as a room member record. */
export function memberOf(conn: Connection): MemberRecord {
  return { client_id: conn.id, user_id: conn.userId, node_id: conn.nodeId }
}
