/**
 * The handshake, before any WebSocket exists: path, Origin, connection limits, then the
 * app's handshake hooks (the auth middleware's token check). A refusal answers a small
 * JSON body with its HTTP status and closes the socket, so it costs no WebSocket.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { STATUS_CODES } from 'node:http'
import type { WshubConfig } from './config.js'

/** Writes an HTTP refusal on a raw upgrade socket and closes it. */
export function refuseUpgrade(socket: Duplex, status: number, body: { code?: number; message: string }): void {
  if (socket.destroyed) return
  const text = JSON.stringify(body)
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  )
}

/** The client's address as the node counts it. */
export function remoteAddressOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown'
}

/** The path of a request URL, without its query. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** Why a handshake is refused before any hook runs, or null to go on. */
export function checkAdmission(
  req: IncomingMessage,
  ws: WshubConfig['ws'],
  counts: { total: number; fromIp: number },
): { status: number; message: string } | null {
  if (pathOf(req.url) !== ws.path) return { status: 404, message: `no WebSocket endpoint here; connect to ${ws.path}` }
  if (ws.allowed_origins.length > 0) {
    const origin = req.headers.origin
    if (origin === undefined || !ws.allowed_origins.includes(origin)) return { status: 403, message: 'origin not allowed' }
  }
  if (ws.max_connections > 0 && counts.total >= ws.max_connections) return { status: 503, message: 'server is at its connection limit' }
  if (ws.max_connections_per_ip > 0 && counts.fromIp >= ws.max_connections_per_ip) {
    return { status: 429, message: 'too many connections from this address' }
  }
  return null
}
