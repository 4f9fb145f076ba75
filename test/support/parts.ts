/**
 * For unit tests of one part of lib/ without an Application: connections over a socket
 * that records what it is sent, and a node's event emitter.
 */
import { EventEmitter } from 'node:events'
import type { WebSocket } from 'ws'
import { Connection, type ConnectionHost, type Identity } from '../../lib/connection.js'
import { RecordingSocket } from '../../lib/testing.js'
import type { SharedFrame } from '../../lib/shared-frame.js'
import type { AppEvents } from '../../lib/events.js'
import { pino } from 'pino'
import { MemoryBus, type MemoryHub } from '../../lib/bus/memory.js'
import type { ClusterState } from '../../lib/cluster/state.js'
import { ClusterLink } from '../../lib/cluster-link.js'
import { Clients, clientRecordOf } from '../../lib/clients.js'
import { resolveConfig, type WshubConfig } from '../../lib/config.js'
import { Delivery } from '../../lib/delivery.js'
import { Rooms } from '../../lib/rooms.js'

export { RecordingSocket }

const host: ConnectionHost = { maxBufferedBytes: Number.POSITIVE_INFINITY, onSlowConsumer() {} }

/** A connection of `nodeId` with the given permissions (every one by default), over a RecordingSocket. */
export function fakeConnection(id: string, nodeId: string, identity: Partial<Identity> = {}): { conn: Connection; socket: RecordingSocket } {
  const socket = new RecordingSocket()
  const full: Identity = { userId: null, username: null, permissions: ['*'], claims: null, expiresAt: null, ...identity }
  const conn = new Connection(id, nodeId, socket as unknown as WebSocket, '127.0.0.1', host, full)
  return { conn, socket }
}

/** The app's events on a plain emitter, as a part emits them. */
export function eventEmitter(): EventEmitter<AppEvents> {
  return new EventEmitter<AppEvents>()
}

/**
 * A node put together by hand from lib/'s parts, as application.ts does but with no
 * Application (no server, no chain): this object is the host each part declares
 * (RoomsHost, LinkHost, DeliveryHost, ClientsHost), and its connections are fake ones a
 * test adds. Two of them on one MemoryHub and one state are a cluster of two.
 */
export class PartsNode extends EventEmitter<AppEvents> {
  readonly bus: MemoryBus
  readonly log = pino({ level: 'silent' })
  readonly debug = false
  readonly connections = new Map<string, Connection>()
  readonly server = {
    connections: this.connections as ReadonlyMap<string, Connection>,
    size: 0,
    framesIn: 0,
    framesOut: 0,
    everyConnection: () => this.connections.values(),
    sendToAll: (frame: SharedFrame, except: readonly string[]) => {
      for (const conn of this.connections.values()) if (!except.includes(conn.id)) conn.sendShared(frame)
    },
  }
  readonly link: ClusterLink
  readonly rooms: Rooms
  readonly delivery: Delivery
  readonly clients: Clients

  constructor(
    readonly nodeId: string,
    hub: MemoryHub,
    readonly state: ClusterState,
    public config: WshubConfig = resolveConfig({}),
  ) {
    super()
    this.bus = new MemoryBus(hub)
    this.link = new ClusterLink(this)
    this.rooms = new Rooms(this)
    this.delivery = new Delivery(this)
    this.clients = new Clients(this)
  }

  deliverToRooms(rooms: readonly string[], frame: string, except: readonly string[]): Promise<void> {
    return this.delivery.toRooms(rooms, frame, except)
  }

  kick(clientId: string, reason: string): Promise<void> {
    return this.delivery.kick(clientId, reason)
  }

  /** A connection of this node, registered in the state as a welcomed one is. */
  async connect(name: string, identity: Partial<Identity> = {}): Promise<{ conn: Connection; socket: RecordingSocket }> {
    const made = fakeConnection(`${this.nodeId}.${name}`, this.nodeId, identity)
    this.connections.set(made.conn.id, made.conn)
    this.server.size = this.connections.size
    await this.state.addClient(clientRecordOf(made.conn))
    return made
  }
}
