/**
 * Opening a socket: the browser's WebSocket, or `ws` under Node (imported on first use,
 * so a browser never loads it), with the token where the server reads it.
 */
import type { TokenPlacement, WebSocketConstructor, WebSocketLike } from './types.js'

export type { WebSocketConstructor, WebSocketLike } from './types.js'

/** The subprotocol every wshub client offers; the server echoes it. */
export const PROTOCOL_V1 = 'wshub.v1'
const BEARER_PREFIX = 'wshub.bearer.'

interface NodeWsSocket extends WebSocketLike {
  on(event: 'ping', listener: () => void): unknown
}

/** True for Node's `ws` (it has `ping()`, and sockets that emit 'ping'); false for a browser WebSocket. */
export function isNodeWs(ctor: WebSocketConstructor): boolean {
  return typeof (ctor.prototype as { ping?: unknown }).ping === 'function'
}

function runsOnNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process
  return typeof proc?.versions?.node === 'string'
}

/** The WebSocket to use: the given one, else the browser's, else (under Node) `ws`. */
export async function resolveWebSocket(given: WebSocketConstructor | undefined): Promise<WebSocketConstructor> {
  if (given !== undefined) return given
  const native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (!runsOnNode() && typeof native === 'function') return native
  try {
    // The name sits in a variable so that browser bundlers leave this import alone.
    const name = 'ws'
    const mod = (await import(name)) as { WebSocket?: WebSocketConstructor; default?: WebSocketConstructor }
    const ctor = mod.WebSocket ?? mod.default
    if (typeof ctor === 'function') return ctor
  } catch {
    // fall through to the native one, or the error below
  }
  if (typeof native === 'function') return native
  throw new Error('wshub/client: no WebSocket implementation; under Node install `ws` or pass { WebSocket }')
}

/**
 * Opens a socket to `url` offering `wshub.v1`, with the token in the subprotocol list,
 * the query (`?token=`) or the `Authorization` header (Node's `ws` only).
 */
export function openSocket(ctor: WebSocketConstructor, url: string, token: string | null, placement: TokenPlacement): WebSocketLike {
  const protocols = [PROTOCOL_V1]
  if (token === null) return new ctor(url, protocols)
  switch (placement) {
    case 'protocol':
      protocols.push(BEARER_PREFIX + token)
      return new ctor(url, protocols)
    case 'query':
      return new ctor(`${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`, protocols)
    case 'header':
      if (!isNodeWs(ctor)) throw new Error("wshub/client: tokenIn 'header' needs Node's ws; browsers cannot set headers (use 'protocol' or 'query')")
      return new ctor(url, protocols, { headers: { authorization: `Bearer ${token}` } })
  }
}

/** Calls `listener` on every ping from the server, where the socket shows them (Node's `ws`). */
export function onServerPing(socket: WebSocketLike, listener: () => void): boolean {
  const on = (socket as Partial<NodeWsSocket>).on
  if (typeof on !== 'function') return false
  on.call(socket, 'ping', listener)
  return true
}

/** The HTTP status in `ws`'s error for a refused upgrade ("Unexpected server response: 401"). */
export function refusedStatus(event: unknown): number | undefined {
  const message = (event as { message?: unknown } | null)?.message
  if (typeof message !== 'string') return undefined
  const match = /Unexpected server response: (\d{3})/.exec(message)
  return match ? Number(match[1]) : undefined
}
