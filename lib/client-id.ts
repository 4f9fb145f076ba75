/**
 * Client ids: made by the server, never taken from the client, and unique across the
 * cluster. An id is `<node_id>.<random suffix>`, so any node can tell where a client is
 * from its id alone (direct messages and kicks need no lookup).
 */
import { randomBytes } from 'node:crypto'

/** A new id for a client of this node. */
export function newClientId(nodeId: string): string {
  return `${nodeId}.${randomBytes(9).toString('base64url')}`
}

/**
 * The node a client id names, or null for a malformed id.
 *
 * @example
 * ```ts
 * nodeOfClient('node-1a2b.XyZ')   // 'node-1a2b'
 * ```
 */
export function nodeOfClient(clientId: string): string | null {
  const dot = clientId.indexOf('.')
  return dot > 0 ? clientId.slice(0, dot) : null
}
