/**
 * One connected client: its identity, its rooms, its per-connection data, and the one
 * send path every outbound frame takes. Sends are bounded: a client whose queued bytes
 * pass `ws.max_buffered_bytes` is cut off (close 1008), so a reader that stops can
 * never grow the node's memory or slow the others.
 */
import type { WebSocket } from 'ws'
import { Permissions } from './permissions.js'
import type { Envelope } from './protocol.js'
import type { SharedFrame } from './shared-frame.js'
import type { Compression } from './compression.js'

/**
 * Per-connection data that middleware keeps on `ctx.client.data`. Open to declaration
 * merging, so a middleware can say what it adds:
 *
 * @example
 * ```ts
 * declare module 'wshub' { interface ClientData { locale?: string } }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ClientData {}

/** Who a connection is: set at the handshake, replaced by an `auth` message. */
export interface Identity {
  userId: string | null
  username: string | null
  permissions: readonly string[]
  claims: Record<string, unknown> | null
  /** ms since the epoch when the token expires; null for no expiry. */
  expiresAt: number | null
}

/** Why a connection ended. */
export interface CloseInfo {
  code: number
  reason: string
}

/** Close codes the server uses (PROTOCOL.md section 3). */
export const CloseCode = {
  GoingAway: 1001,
  PolicyViolation: 1008,
  Kicked: 4000,
  TokenExpired: 4001,
} as const

/** What a connection needs from its node; kept narrow so connections stay testable. */
export interface ConnectionHost {
  readonly maxBufferedBytes: number
  onSlowConsumer(connection: Connection): void
  /** A frame was written: the one place of the debug 'frame out' line and of the metrics (kept cheap when both are off). */
  onSent?(connection: Connection, frame: string | Buffer): void
  /** A send to a connection that was already closing or closed. */
  onDropped?(connection: Connection): void
  /** permessage-deflate, where `ws.compression` is on. */
  readonly compression?: Compression | null
}

// A Buffer goes out as a text frame too; one options object for every send.
const TEXT = { binary: false } as const

// The TCP socket under ws (its private _socket), as far as holding writes needs it.
type Corkable = { cork(): void; uncork(): void; destroyed: boolean; writableLength: number }

// ws's sender (private _sender): writes a list of already framed chunks as they are.
type WsSender = { sendFrame(list: readonly Buffer[]): void }

// Past this many bytes held, the socket is uncorked at once: a burst of sends in one tick
// (a fan-out loop that never yields) must not look like a slow reader to max_buffered_bytes.
const CORK_MAX_BYTES = 16 * 1024

function uncork(connection: Connection): void {
  if (!connection.corked) return
  connection.corked = false
  const socket = (connection.socket as unknown as { _socket?: Corkable })._socket
  if (socket !== undefined && !socket.destroyed) socket.uncork()
}

export class Connection {
  readonly id: string
  readonly nodeId: string
  readonly remoteAddress: string
  readonly connectedAt: number
  readonly rooms = new Set<string>()
  /** Per-connection data of middleware and handlers (see {@link ClientData}). */
  data: ClientData = {}
  userId: string | null = null
  username: string | null = null
  permissions: Permissions = Permissions.none
  claims: Record<string, unknown> | null = null
  expiresAt: number | null = null
  /** Set when anything arrives; cleared when a heartbeat ping goes out. */
  alive = true
  /** The window bits of this socket's permessage-deflate; 0 when it negotiated none (every socket where `ws.compression` is off). */
  deflateBits = 0
  /** When (`performance.now()`) the ping went out that found `alive` set, i.e. since which nothing arrived. */
  silentSince = 0
  /** A frame of this connection is in the chain; later ones wait in `backlog`, so frames run in order. */
  busy = false
  backlog: Envelope[] | null = null
  /** Its socket holds the replies to what it sent in this turn of the event loop, for one write (see {@link holdWrites}). */
  corked = false
  /** The close code and reason once it is closing or closed. */
  closeInfo: CloseInfo | null = null
  readonly socket: WebSocket
  private readonly host: ConnectionHost

  constructor(id: string, nodeId: string, socket: WebSocket, remoteAddress: string, host: ConnectionHost, identity: Identity) {
    this.id = id
    this.nodeId = nodeId
    this.socket = socket
    this.remoteAddress = remoteAddress
    this.host = host
    this.connectedAt = Date.now()
    this.setIdentity(identity)
  }

  /**
   * Replaces who this connection is, on this node only: `app.clients.setIdentity` also
   * tells the cluster (its user id in `room_members` and `GET /api/clients`).
   */
  setIdentity(identity: Identity): void {
    this.userId = identity.userId
    this.username = identity.username
    this.permissions = Permissions.of(identity.permissions)
    this.claims = identity.claims
    this.expiresAt = identity.expiresAt
  }

  /** True when the connection holds the permission (PROTOCOL.md section 5). */
  can(permission: string): boolean {
    return this.permissions.has(permission)
  }

  /**
   * Holds this connection's outbound frames until the event loop's check phase, so the
   * replies to every frame of one read leave in one write instead of one syscall each.
   * Called when a frame arrives: a fan-out to connections that sent nothing is not held.
   */
  holdWrites(): void {
    if (this.corked) return
    // ws keeps the TCP socket private and offers no batching of its own.
    const socket = (this.socket as unknown as { _socket?: Corkable })._socket
    if (socket === undefined) return
    this.corked = true
    socket.cork()
    setImmediate(uncork, this)
  }

  get isOpen(): boolean {
    return this.closeInfo === null && this.socket.readyState === 1
  }

  /**
   * Sends one encoded frame (text; a Buffer is sent as a text frame). Returns false when
   * the frame was not sent.
   */
  send(frame: string | Buffer): boolean {
    if (!this.isOpen) {
      this.host.onDropped?.(this)
      return false
    }
    this.socket.send(frame, TEXT)
    return this.afterWrite(frame)
  }

  /** Sends a frame framed once for many recipients (see {@link SharedFrame}): one write, no framing here. */
  sendShared(frame: SharedFrame): boolean {
    if (!this.isOpen) {
      this.host.onDropped?.(this)
      return false
    }
    if (this.deflateBits !== 0) return this.sendCompressing(frame)
    ;(this.socket as unknown as { _sender: WsSender })._sender.sendFrame(frame.wire)
    return this.afterWrite(frame.payload)
  }

  // The frame deflated once for every compressing socket (compression.ts), or, while ws
  // compresses an earlier message of this one, queued behind it through ws.
  private sendCompressing(frame: SharedFrame): boolean {
    const wire = this.host.compression!.wireFor(frame, this.socket, this.deflateBits)
    if (wire === null) this.socket.send(frame.payload, TEXT)
    else (this.socket as unknown as { _sender: WsSender })._sender.sendFrame(wire)
    return this.afterWrite(frame.payload)
  }

  private afterWrite(frame: string | Buffer): boolean {
    if (this.corked && (this.socket as unknown as { _socket: Corkable })._socket.writableLength > CORK_MAX_BYTES) uncork(this)
    this.host.onSent?.(this, frame)
    if (this.socket.bufferedAmount > this.host.maxBufferedBytes) {
      this.host.onSlowConsumer(this)
      return false
    }
    return true
  }

  /**
   * Takes no more frames from this client: its socket stops being read and the frames
   * waiting behind the one in the chain are dropped. For a client about to be closed for
   * abuse, so that what it already sent costs the node nothing more.
   */
  stopReading(): void {
    this.socket.pause()
    this.backlog = null
  }

  /**
   * Closes with a code and reason; `terminate` drops the socket without a close handshake.
   * A reason longer than a close frame holds (123 bytes) is cut, not thrown on.
   */
  close(code: number, reason: string, terminate = false): void {
    const fitted = fitCloseReason(reason)
    if (this.closeInfo === null) this.closeInfo = { code, reason: fitted }
    // A paused socket would never read the peer's close frame: the handshake would hang.
    if (this.socket.isPaused) this.socket.resume()
    if (terminate) this.socket.terminate()
    else this.socket.close(code, fitted)
  }
}

const MAX_CLOSE_REASON_BYTES = 123

/**
 * Cuts a close reason to what a close frame holds, on a character boundary (the peer
 * closes with 1007 on a reason that is not valid UTF-8). ws throws on longer reasons,
 * which from a kick arriving over the bus would have crashed the node.
 */
export function fitCloseReason(reason: string): string {
  if (reason.length <= MAX_CLOSE_REASON_BYTES / 3 || Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason
  let end = Math.min(reason.length, MAX_CLOSE_REASON_BYTES)
  while (Buffer.byteLength(reason.slice(0, end)) > MAX_CLOSE_REASON_BYTES) end--
  // Do not leave half of a surrogate pair behind.
  const last = reason.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return reason.slice(0, end)
}
