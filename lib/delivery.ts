/**
 * Delivery: how a frame reaches clients, whoever sends it (a handler, the server SDK, or
 * another node over the bus). A frame is encoded once and framed for the wire once
 * (`SharedFrame`), the same bytes go to every local recipient, and the rest of the
 * cluster gets one envelope.
 */
import type { BusEnvelope } from './bus/bus.js'
import type { ClusterState } from './cluster/state.js'
import type { Connection } from './connection.js'
import { nodeOfClient } from './client-id.js'
import { AppError, ErrorCode } from './errors.js'
import { encodeDelivery } from './protocol.js'
import { SharedFrame } from './shared-frame.js'
import { deliverClientsEnvelope } from './user-target.js'

/**
 * Wraps the delivery of an envelope that arrived from another node (the trace
 * middleware runs it inside a span that continues the sender's trace). It must call
 * `deliver(envelope)` exactly once.
 */
export type DeliveryWrapper = (envelope: BusEnvelope, deliver: (envelope: BusEnvelope) => void) => void

/**
 * What Delivery uses of the node (application.ts hands it the app; a test, its parts):
 * the local members of rooms, the local clients, and the bus. `state` is read at each
 * use: the app opens it at `listen()`.
 */
export interface DeliveryHost {
  readonly nodeId: string
  readonly state: ClusterState
  readonly rooms: DeliveryRooms
  readonly server: LocalClients
  readonly link: DeliveryLink
}

/** The local side of rooms (Rooms). */
export interface DeliveryRooms {
  deliverLocal(rooms: readonly string[], frame: SharedFrame, except: readonly string[]): number
  dropLocal(roomId: string, frame: SharedFrame): void
}

/** This node's clients (WsServer). */
export interface LocalClients {
  readonly connections: ReadonlyMap<string, Connection>
  sendToAll(frame: SharedFrame, except: readonly string[]): void
}

/** The way to the other nodes (ClusterLink). */
export interface DeliveryLink {
  publishRooms(rooms: readonly string[], frame: string, except: readonly string[]): Promise<void>
  publishBroadcast(frame: string, except: readonly string[]): Promise<void>
  publishDirect(nodeId: string, to: string, frame: string): Promise<void>
  publishKick(nodeId: string, to: string, code: number, reason: string): Promise<void>
}

export class Delivery {
  private wrapper: DeliveryWrapper | null = null

  constructor(private readonly app: DeliveryHost) {
    this.deliverNow = this.deliverNow.bind(this)
  }

  /** Wraps remote deliveries; wrappers added later run outside earlier ones. */
  around(wrapper: DeliveryWrapper): void {
    const inner = this.wrapper
    this.wrapper = inner === null ? wrapper : (envelope, deliver) => wrapper(envelope, (e) => inner(e, deliver))
  }

  /** Local members of the rooms now, the rest of the cluster over the bus. */
  toRooms(rooms: readonly string[], frame: string, except: readonly string[]): Promise<void> {
    this.app.rooms.deliverLocal(rooms, new SharedFrame(frame), except)
    return this.app.link.publishRooms(rooms, frame, except)
  }

  /** Every client of the cluster. */
  toAll(type: string, data: unknown): Promise<void> {
    const frame = encodeDelivery(type, data, Date.now())
    this.app.server.sendToAll(new SharedFrame(frame), [])
    return this.app.link.publishBroadcast(frame, [])
  }

  /** One client on whatever node it is; fails with 4000 when there is none. */
  async toClient(clientId: string, type: string, data: unknown): Promise<void> {
    const frame = encodeDelivery(type, data, Date.now())
    const nodeId = nodeOfClient(clientId)
    if (nodeId === this.app.nodeId) {
      this.localClient(clientId).send(frame)
      return
    }
    await this.remoteClient(clientId, nodeId)
    await this.app.link.publishDirect(nodeId!, clientId, frame)
  }

  /** Closes a client with 4000 on whatever node it is; fails with 4000 when there is none. */
  async kick(clientId: string, reason: string): Promise<void> {
    const nodeId = nodeOfClient(clientId)
    if (nodeId === this.app.nodeId) {
      this.localClient(clientId).close(4000, reason)
      return
    }
    await this.remoteClient(clientId, nodeId)
    await this.app.link.publishKick(nodeId!, clientId, 4000, reason)
  }

  private localClient(clientId: string) {
    const client = this.app.server.connections.get(clientId)
    if (client === undefined) throw new AppError(ErrorCode.ClientNotFound, `client ${clientId} not found`)
    return client
  }

  // Routing needs no lookup (the id names the node), but 4000 must be answered here, so
  // the cluster state is asked whether the client exists.
  private async remoteClient(clientId: string, nodeId: string | null): Promise<void> {
    if (nodeId === null || (await this.app.state.getClient(clientId)) === null) {
      throw new AppError(ErrorCode.ClientNotFound, `client ${clientId} not found`)
    }
  }

  /** Delivers what arrived from another node. */
  fromBus(envelope: BusEnvelope): void {
    if (this.wrapper === null) this.deliverNow(envelope)
    else this.wrapper(envelope, this.deliverNow)
  }

  private deliverNow(envelope: BusEnvelope): void {
    const { rooms, server } = this.app
    switch (envelope.kind) {
      case 'room':
        rooms.deliverLocal(envelope.rooms, new SharedFrame(envelope.frame), envelope.except)
        return
      case 'broadcast':
        server.sendToAll(new SharedFrame(envelope.frame), envelope.except)
        return
      case 'direct':
        server.connections.get(envelope.to)?.send(envelope.frame)
        return
      case 'clients':
        deliverClientsEnvelope(server.connections, envelope)
        return
      case 'kick':
        server.connections.get(envelope.to)?.close(envelope.code, envelope.reason)
        return
      case 'room_deleted':
        rooms.dropLocal(envelope.room, new SharedFrame(envelope.frame))
        return
    }
  }
}
