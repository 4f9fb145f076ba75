/**
 * Users as targets: every connection of one user, on every node. The cluster state keeps
 * each user's clients (`clientsOfUser`); a delivery reaches this node's connections at
 * once and each other node holding some with one envelope to its inbox naming them, the
 * frame encoded once for all.
 */
import type { Logger } from 'pino'
import type { BusEnvelope } from './bus/bus.js'
import { nodeOfClient } from './client-id.js'
import type { ClientRecord, ClusterState } from './cluster/state.js'
import { StateUnavailableError } from './cluster/state.js'
import type { Connection } from './connection.js'
import { encodeDelivery } from './protocol.js'
import { SharedFrame } from './shared-frame.js'

/**
 * What a user target uses of the node (application.ts hands it the app): the state's
 * index of a user's clients, this node's connections, and the link's inbox publishes.
 */
export interface UserTargetHost {
  readonly nodeId: string
  readonly debug: boolean
  readonly log: Logger
  readonly state: Pick<ClusterState, 'clientsOfUser'>
  readonly server: { readonly connections: ReadonlyMap<string, Connection> }
  readonly link: {
    publishClients(nodeId: string, ids: readonly string[], frame: string): Promise<void>
    publishKick(nodeId: string, clientId: string, code: number, reason: string): Promise<void>
  }
}

/** Options of {@link UserTarget.send}. */
export interface UserSendOptions {
  /** A client id, or several, to leave out. */
  except?: string | readonly string[]
}

/**
 * Every connection of one user, cluster-wide. Immutable, as a room target is.
 *
 * @example
 * ```ts
 * const reached = await app.toUser('alice').send('notification', { text: 'your order shipped' })
 * if (reached === 0) await queueForLater('alice')      // no connection anywhere
 * ```
 */
export class UserTarget {
  constructor(
    private readonly app: UserTargetHost,
    readonly userId: string,
    readonly excluded: readonly string[] = [],
  ) {
    if (typeof userId !== 'string') throw new TypeError(`toUser(userId): userId must be a string (got ${typeof userId})`)
  }

  /** Leaves one connection out (the sender's, as `ctx.toUser` does). */
  except(clientId: string): UserTarget {
    return new UserTarget(this.app, this.userId, [...this.excluded, clientId])
  }

  /**
   * Sends `{message_type: type, data, timestamp}` to every connection of the user;
   * resolves to how many connections it was sent to (0: none anywhere), once the bus took it.
   *
   * @example
   * ```ts
   * await app.toUser(userId).send('notice', { text: 'hi' }, { except: ctx.client.id })
   * ```
   */
  send(type: string, data: unknown, options?: UserSendOptions): Promise<number> {
    const more = options?.except
    return deliverToUser(this.app, this.userId, encodeDelivery(type, data, Date.now()), more === undefined ? this.excluded : this.excluded.concat(more))
  }
}

/** Sends an encoded frame to every connection of a user but `except`; resolves to how many it was sent to. */
export async function deliverToUser(app: UserTargetHost, userId: string, frame: string, except: readonly string[]): Promise<number> {
  const byNode = await clientsByNode(app, userId, except)
  let reached = 0
  const remote: Array<Promise<void>> = []
  for (const [nodeId, ids] of byNode) {
    if (nodeId === app.nodeId) reached += deliverToClients(app.server.connections, ids, frame)
    else {
      reached += ids.length
      remote.push(app.link.publishClients(nodeId, ids, frame))
    }
  }
  await Promise.all(remote)
  return reached
}

/** Closes every connection of a user with 4000, on every node; resolves to how many. */
export async function kickUser(app: UserTargetHost, userId: string, reason: string): Promise<number> {
  const byNode = await clientsByNode(app, userId, [])
  let kicked = 0
  const remote: Array<Promise<void>> = []
  for (const [nodeId, ids] of byNode) {
    for (const id of ids) {
      if (nodeId !== app.nodeId) remote.push(app.link.publishKick(nodeId, id, 4000, reason))
      else {
        const conn = app.server.connections.get(id)
        if (conn === undefined) continue
        conn.close(4000, reason)
      }
      kicked++
    }
  }
  await Promise.all(remote)
  return kicked
}

/**
 * The user's clients by node. While the cluster state is out of reach only this node's
 * connections are known: they still get the frame, the other nodes' do not.
 */
async function clientsByNode(app: UserTargetHost, userId: string, except: readonly string[]): Promise<Map<string, string[]>> {
  let clients: ClientRecord[]
  try {
    clients = await app.state.clientsOfUser(userId)
  } catch (err) {
    if (!(err instanceof StateUnavailableError)) throw err
    // The heartbeat already reports the outage; a line per message would flood the log.
    if (app.debug) app.log.debug({ user_id: userId, err: err.message }, 'cluster state out of reach: only this node\'s connections of the user are reached')
    clients = localClientsOf(app, userId)
  }
  const byNode = new Map<string, string[]>()
  for (const client of clients) {
    if (except.length !== 0 && except.includes(client.client_id)) continue
    const nodeId = nodeOfClient(client.client_id) ?? client.node_id
    const ids = byNode.get(nodeId)
    if (ids === undefined) byNode.set(nodeId, [client.client_id])
    else ids.push(client.client_id)
  }
  return byNode
}

function localClientsOf(app: UserTargetHost, userId: string): ClientRecord[] {
  const found: ClientRecord[] = []
  for (const conn of app.server.connections.values()) {
    if (conn.userId === userId) found.push({ client_id: conn.id, user_id: userId, node_id: conn.nodeId, connected_at: conn.connectedAt })
  }
  return found
}

/** Writes a frame to some of this node's connections, framed once when there are several; resolves to how many were open. */
export function deliverToClients(connections: ReadonlyMap<string, Connection>, ids: readonly string[], frame: string): number {
  if (ids.length === 1) {
    const conn = connections.get(ids[0]!)
    return conn !== undefined && conn.send(frame) ? 1 : 0
  }
  const shared = new SharedFrame(frame)
  let sent = 0
  for (const id of ids) if (connections.get(id)?.sendShared(shared)) sent++
  return sent
}

/** Delivers a `clients` envelope from another node. */
export function deliverClientsEnvelope(connections: ReadonlyMap<string, Connection>, envelope: Extract<BusEnvelope, { kind: 'clients' }>): void {
  deliverToClients(connections, envelope.to, envelope.frame)
}
