/**
 * `auth.max_connections_per_user`: a user past the limit, counted over the whole cluster,
 * is refused before the upgrade with HTTP 429 and code 2004. The count is the user's
 * clients in the cluster state plus the handshakes of that user this node let through
 * that are not registered yet. Two nodes checking the same user at the same instant may
 * each let one through: the limit can be passed by at most one connection per node in
 * that window, never more.
 */
import type { IncomingMessage } from 'node:http'
import type { HandshakeHook } from './server.js'
import type { Connection } from './connection.js'
import type { WshubConfig } from './config.js'
import type { ClusterState } from './cluster/state.js'
import type { AppEvents } from './events.js'
import type { Identity } from './connection.js'
import { ErrorCode, HandshakeError } from './errors.js'
import { StateUnavailableError } from './cluster/state.js'

/** What the limit uses of the node (application.ts hands it the app); `config` is read at each handshake. */
export interface UserLimitHost {
  on(event: 'connection', listener: (...args: AppEvents['connection']) => void): unknown
  readonly config: Pick<WshubConfig, 'auth' | 'http'>
  readonly state: Pick<ClusterState, 'clientsOfUser'>
  readonly server: { readonly connections: ReadonlyMap<string, Connection> }
}

/**
 * The handshake hook of `auth.max_connections_per_user`; the app adds it after every other
 * hook at start, so it sees the identity the auth middleware made. Reads the limit at
 * each handshake, so a reload changes it.
 *
 * @example
 * ```ts
 * app.onHandshake(userLimit(app))      // what app.listen() / attach() / start() do
 * ```
 */
export function userLimit(app: UserLimitHost): HandshakeHook {
  /** user id → when each handshake let through and not yet registered expires. */
  const pending = new Map<string, number[]>()

  app.on('connection', (client) => {
    if (client.userId !== null) release(client.userId)
  })

  function release(userId: string): void {
    const list = pending.get(userId)
    if (list === undefined) return
    list.shift()
    if (list.length === 0) pending.delete(userId)
  }

  function pendingOf(userId: string): number {
    const list = pending.get(userId)
    if (list === undefined) return 0
    const now = Date.now()
    // A handshake that never became a connection (refused by ws, socket gone) stops counting.
    while (list.length > 0 && list[0]! <= now) list.shift()
    if (list.length === 0) pending.delete(userId)
    return list.length
  }

  async function countOf(userId: string): Promise<number> {
    try {
      return (await app.state.clientsOfUser(userId)).length
    } catch (err) {
      if (!(err instanceof StateUnavailableError)) throw err
      // Out of reach: the limit holds on this node at least.
      let local = 0
      for (const conn of app.server.connections.values()) if (conn.userId === userId) local++
      return local
    }
  }

  // Not async itself: with the limit off (the default), a handshake pays no promise for it.
  return function maxConnectionsPerUser(_req: IncomingMessage, identity: Identity): Identity | Promise<Identity> {
    const max = app.config.auth.max_connections_per_user
    const userId = identity.userId
    if (max === 0 || userId === null) return identity
    return admit(identity, userId, max)
  }

  async function admit(identity: Identity, userId: string, max: number): Promise<Identity> {
    const count = (await countOf(userId)) + pendingOf(userId)
    if (count >= max) {
      throw new HandshakeError(429, `user ${userId} holds ${count} connections, the most auth.max_connections_per_user allows (${max})`, ErrorCode.TooManyConnections)
    }
    const list = pending.get(userId)
    const expires = Date.now() + app.config.http.handshake_timeout_ms
    if (list === undefined) pending.set(userId, [expires])
    else list.push(expires)
    return identity
  }
}
