/**
 * The server SDK's view of the clients of the whole cluster (`app.clients`): count, list
 * page by page, look one up, kick one on whatever node it is. Every method reads or
 * writes the cluster state, so the answers are cluster-wide on every node.
 */
import type { ClientRecord, ClusterState } from './cluster/state.js'
import type { Connection, Identity } from './connection.js'
import { kickUser, type UserTargetHost } from './user-target.js'

/**
 * What Clients uses of the node (application.ts hands it the app). `state` is read at
 * each use: the app opens it at `listen()`.
 */
export interface ClientsHost extends UserTargetHost {
  readonly state: ClusterState
  /** Writes a local client's new identity into the state (ClusterLink.updateClient), and reaches a user's clients (`kickUser`). */
  readonly link: { updateClient(conn: Connection): Promise<void> } & UserTargetHost['link']
  /** Closes a client with 4000 on whatever node it is (the app's delivery). */
  kick(clientId: string, reason: string): Promise<void>
}

/** A client as the cluster knows it, with the rooms it is in. */
export type ClientInfo = ClientRecord & { rooms: string[] }

/** One page of {@link Clients.list}. */
export interface ClientPage {
  clients: ClientInfo[]
  /** Pass it as `cursor` to get the next page; null on the last page. */
  next: string | null
}

/** The largest page `list` returns. */
export const MAX_PAGE = 1000

/**
 * @example
 * ```ts
 * const total = await app.clients.count()
 * let page = await app.clients.list({ limit: 500 })
 * while (page.next !== null) page = await app.clients.list({ limit: 500, cursor: page.next })
 * await app.clients.kick(clientId, 'banned')   // close 4000 on whatever node it is
 * ```
 */
export class Clients {
  constructor(private readonly app: ClientsHost) {}

  /** Connected clients across the cluster. */
  count(): Promise<number> {
    return this.app.state.countClients()
  }

  /** One page of clients ordered by id, after `cursor`; `limit` defaults to 100 and is capped at 1000. */
  async list(options: { limit?: number; cursor?: string | null } = {}): Promise<ClientPage> {
    const limit = Math.min(options.limit ?? 100, MAX_PAGE)
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer (got ${options.limit})`)
    const page = await this.app.state.listClients(limit, options.cursor ?? null)
    const clients = await Promise.all(page.clients.map((client) => this.withRooms(client)))
    return { clients, next: page.next }
  }

  /** One client, or null when no node holds it. */
  async get(clientId: string): Promise<ClientInfo | null> {
    const client = await this.app.state.getClient(clientId)
    return client === null ? null : this.withRooms(client)
  }

  /**
   * Replaces who a connection of this node is (user id, permissions, expiry), here at
   * once, and the user id the cluster shows for it: its client record and its member
   * records, so `room_members` and `GET /api/clients` on every node show the new one.
   * Resolves once the cluster state has it. While the state cannot be reached it resolves
   * all the same (the identity applies on this node), and the node writes the records
   * when the state answers again. The `auth` message uses it; a third-party auth
   * middleware should too, rather than `client.setIdentity`, which is this node only.
   *
   * @example
   * ```ts
   * app.route('login', async (ctx) => {
   *   await ctx.app.clients.setIdentity(ctx.client, await identityFrom(ctx.data))
   *   ctx.reply('login_ok', { user_id: ctx.client.userId })
   * })
   * ```
   */
  async setIdentity(client: Connection, identity: Identity): Promise<void> {
    client.setIdentity(identity)
    if (client.closeInfo === null) await this.app.link.updateClient(client)
  }

  /** Closes a client with 4000 on whatever node it is; fails with `AppError` 4000 when there is none. */
  kick(clientId: string, reason = 'kicked'): Promise<void> {
    return this.app.kick(clientId, reason)
  }

  /**
   * Closes every connection of a user with 4000, on every node; resolves to how many.
   *
   * @example
   * ```ts
   * await app.clients.kickUser('mallory', 'banned')
   * ```
   */
  kickUser(userId: string, reason = 'kicked'): Promise<number> {
    return kickUser(this.app, userId, reason)
  }

  private async withRooms(client: ClientRecord): Promise<ClientInfo> {
    return { ...client, rooms: await this.app.state.roomsOf(client.client_id) }
  }
}

/** A connection of this node as the cluster state records it. */
export function clientRecordOf(conn: Connection): ClientRecord {
  return { client_id: conn.id, user_id: conn.userId, node_id: conn.nodeId, connected_at: conn.connectedAt }
}
