/**
 * The node's transport: `ws` in `noServer` mode under the node's HTTP listeners
 * (http-listeners.ts). It runs the handshake before the upgrade, makes a `Connection` per socket, feeds frames to the app,
 * pings every client from one shared timer (in slices: heartbeat.ts), and drains on close.
 * Socket listeners are module-level functions that find their connection through a
 * symbol, so a connection costs no closures.
 */
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { Logger } from 'pino'
import { newClientId } from './client-id.js'
import type { ClusterState } from './cluster/state.js'
import type { WshubConfig } from './config.js'
import { Connection, CloseCode, type ConnectionHost, type Identity } from './connection.js'
import { HandshakeError } from './errors.js'
import type { SharedFrame } from './shared-frame.js'
import { EnvelopeError, parseEnvelope, validateEnvelope, encodeFrame, typeOfFrame, type Envelope, type MessageId } from './protocol.js'
import { checkAdmission, refuseUpgrade, remoteAddressOf } from './upgrade.js'
import { ErrorCode } from './errors.js'
import { clientEventInfo, type AppEvents, type EventSink } from './events.js'
import { Heartbeat } from './heartbeat.js'
import { MAX_BACKLOG } from './frame-runner.js'
import { drainConnections } from './shutdown.js'
import { HttpListeners, type HttpHandler } from './http-listeners.js'
import { Compression } from './compression.js'

/**
 * Runs before the upgrade with the HTTP request and the identity so far; returns the
 * identity to use, or throws a `HandshakeError` to refuse with its status.
 */
export type HandshakeHook = (req: IncomingMessage, identity: Identity) => Identity | Promise<Identity>

/** The events the server and its listeners emit. */
type ServerEvents = Pick<
  AppEvents,
  'connection' | 'disconnect' | 'heartbeat_missed' | 'slow_consumer' | 'frame_in' | 'frame_out' | 'send_dropped' | 'http_refused'
>

/**
 * What the server uses of the app (application.ts hands it the app itself). Per frame it
 * reads `debug` and `binaryCodec` and calls `dispatch` or `reject`; `config` and `state`
 * are read at each use (`app.reload` replaces the config: connection limits and anonymous
 * permissions apply to the next handshake; the app opens the state at `listen()`).
 */
export interface ServerHost extends EventSink<ServerEvents> {
  readonly nodeId: string
  readonly config: Pick<WshubConfig, 'http' | 'ws' | 'auth' | 'heartbeat'>
  readonly log: Logger
  readonly debug: boolean
  readonly state: ClusterState
  readonly binaryCodec: ((frame: Buffer) => unknown) | null
  readonly handshakeHooks: readonly HandshakeHook[]
  readonly httpHandlers: readonly HttpHandler[]
  readonly publicHttpHandlers: readonly HttpHandler[]
  /** Frames whose chain has not settled yet: the drain waits for none. */
  readonly inFlight: number
  /** Takes a closed connection out of its rooms (Rooms). */
  readonly rooms: { leaveAll(conn: Connection): Promise<void> }
  /** Notes a write the cluster state missed (ClusterLink). */
  readonly link: { stateMissed(err: unknown): void; removeClient(clientId: string): Promise<void> }
  dispatch(client: Connection, envelope: Envelope): Promise<void>
  reject(client: Connection, code: number, message: string, messageId: MessageId | null): void
}

const kConnection = Symbol('wshub.connection')
const kServer = Symbol('wshub.server')
type Socket = WebSocket & { [kConnection]: Connection; [kServer]: WsServer }

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const conn = (this as Socket)[kConnection]
  conn.alive = true
  ;(this as Socket)[kServer].receive(conn, data as Buffer, isBinary)
}

// Until its welcome is out a connection's frames are only kept, so that nothing (not
// even an envelope error) reaches the client before the welcome; swapped for onMessage then.
function onEarlyMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const conn = (this as Socket)[kConnection]
  conn.alive = true
  ;(this as Socket)[kServer].hold(conn, data as Buffer, isBinary)
}

function onPong(this: WebSocket): void {
  ;(this as Socket)[kConnection].alive = true
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  ;(this as Socket)[kServer].remove((this as Socket)[kConnection], code, reason.toString())
}

function onSocketError(this: WebSocket, err: Error): void {
  // ws closes the socket itself (1007 bad UTF-8, 1009 too big); the close event follows.
  const conn = (this as Socket)[kConnection]
  if (conn.closeInfo === null) conn.closeInfo = { code: (err as { closeCode?: number }).closeCode ?? 1006, reason: err.message }
}

/** A connection between its upgrade and its welcome. */
interface Joining {
  /** What the client sent meanwhile, run once the welcome is out. */
  readonly frames: Array<[data: Buffer, isBinary: boolean]>
  /** Its registration in the cluster state (settled either way). */
  readonly registered: Promise<void>
}

export class WsServer implements ConnectionHost {
  /**
   * The connections that got their welcome: the ones every delivery, the heartbeat and
   * the app see. A connection enters only once registered in the cluster state and
   * welcomed, so no frame can reach a client before its welcome.
   */
  readonly connections = new Map<string, Connection>()
  /** Upgraded connections still being registered (not yet welcomed): no frame goes to them. */
  private readonly joining = new Map<Connection, Joining>()
  readonly maxBufferedBytes: number
  /** Frames received since start (what the node record's `frames_in` reports). */
  framesIn = 0
  /** Frames written to clients since start (one per recipient of a fan-out). */
  framesOut = 0
  /** permessage-deflate, where `ws.compression.enabled` is on (compression.ts). */
  readonly compression: Compression | null
  private readonly perIp = new Map<string, number>()
  private pending = 0
  private draining = false
  private readonly listeners: HttpListeners
  private readonly wss: WebSocketServer
  private heartbeat: Heartbeat | null = null
  private readonly cleanups = new Set<Promise<void>>()

  constructor(private readonly app: ServerHost) {
    const { ws } = app.config
    this.maxBufferedBytes = ws.max_buffered_bytes
    this.compression = Compression.from(ws)
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: ws.max_payload,
      clientTracking: false,
      // Off by default; on, fan-outs are deflated once for every recipient (compression.ts).
      perMessageDeflate: this.compression?.wsOptions() ?? false,
      handleProtocols: (protocols) => (protocols.has('wshub.v1') ? 'wshub.v1' : false),
    })
    this.listeners = new HttpListeners(app, (req, socket, head) => void this.onUpgrade(req, socket, head))
  }

  /** Connections held by this node. */
  get size(): number {
    return this.connections.size
  }

  async listen(): Promise<AddressInfo> {
    const address = await this.listeners.listen()
    this.startHeartbeat()
    return address
  }

  /** The address of the admin listener, when `http.admin_address` set one. */
  adminAddress(): AddressInfo | null {
    return this.listeners.adminAddress()
  }

  /** One upgrade request: the handshake, then the WebSocket (from the node's listener, or `app.handleUpgrade`). */
  async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    if (this.draining) return refuseUpgrade(socket, 503, { message: 'server is shutting down' })
    const ip = remoteAddressOf(req)
    const fromIp = this.perIp.get(ip) ?? 0
    const total = this.connections.size + this.joining.size + this.pending
    const refusal = checkAdmission(req, this.app.config.ws, { total, fromIp })
    if (refusal !== null) {
      this.app.log.info({ remote: ip, status: refusal.status, reason: refusal.message }, 'upgrade refused')
      return refuseUpgrade(socket, refusal.status, { message: refusal.message })
    }
    // Hold the slots while the hooks run, so concurrent handshakes cannot pass a limit.
    this.pending++
    this.perIp.set(ip, fromIp + 1)
    let identity = this.anonymous()
    try {
      for (const hook of this.app.handshakeHooks) identity = await hook(req, identity)
    } catch (err) {
      this.pending--
      this.releaseIp(ip)
      if (err instanceof HandshakeError) {
        this.app.log.info({ remote: ip, status: err.status, code: err.code, reason: err.message }, 'upgrade refused')
        return refuseUpgrade(socket, err.status, { code: err.code, message: err.message })
      }
      this.app.log.error({ err }, 'handshake hook failed')
      return refuseUpgrade(socket, 500, { code: ErrorCode.ServerError, message: 'server error' })
    }
    if (socket.destroyed || this.draining) {
      this.pending--
      this.releaseIp(ip)
      return refuseUpgrade(socket, 503, { message: 'server is shutting down' })
    }
    // ws answers a bad handshake (400, bad key or version) or a socket gone meanwhile
    // without calling back: give the slots back when the socket closes first.
    const abandon = () => {
      this.pending--
      this.releaseIp(ip)
    }
    socket.once('close', abandon)
    this.compression?.admit(req)
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', abandon)
      this.pending--
      this.accept(ws as Socket, ip, identity)
    })
  }

  private anonymous(): Identity {
    return { userId: null, username: null, permissions: this.app.config.auth.anonymous_permissions, claims: null, expiresAt: null }
  }

  private releaseIp(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1
    if (n <= 0) this.perIp.delete(ip)
    else this.perIp.set(ip, n)
  }

  private accept(ws: Socket, ip: string, identity: Identity): void {
    const { app } = this
    const id = newClientId(app.nodeId)
    const conn = new Connection(id, app.nodeId, ws, ip, this, identity)
    if (this.compression !== null) conn.deflateBits = this.compression.track(ws)
    ws[kConnection] = conn
    ws[kServer] = this
    ws.on('message', onEarlyMessage)
    ws.on('pong', onPong)
    ws.on('close', onClose)
    ws.on('error', onSocketError)
    // The client learns its id from the welcome and may hand it to others at once, so the
    // cluster must know the id first: the welcome waits for the registration.
    const registered = app.state
      .addClient({ client_id: id, user_id: conn.userId, node_id: app.nodeId, connected_at: conn.connectedAt })
      .catch((err) => app.link.stateMissed(err))
    this.joining.set(conn, { frames: [], registered })
    void registered.then(() => this.welcome(conn))
    app.log.info({ client_id: id, remote: ip, user_id: conn.userId }, 'connection')
  }

  /** Sends the welcome, then lets deliveries, the app and the frames held meanwhile reach the connection. */
  private welcome(conn: Connection): void {
    const { app } = this
    const joining = this.joining.get(conn)
    // Closing before it was welcomed: it never was a connection for the app (remove() ends it).
    if (joining === undefined || conn.closeInfo !== null) return
    this.joining.delete(conn)
    this.connections.set(conn.id, conn)
    conn.send(
      encodeFrame('welcome', {
        client_id: conn.id,
        node_id: app.nodeId,
        user_id: conn.userId,
        protocol: 1,
        heartbeat_ms: app.config.heartbeat.interval_ms,
      }),
    )
    conn.socket.off('message', onEarlyMessage)
    conn.socket.on('message', onMessage)
    app.emit('connection', conn, { ...clientEventInfo(conn, conn.connectedAt), remoteAddress: conn.remoteAddress })
    for (const [data, isBinary] of joining.frames) this.receive(conn, data, isBinary)
  }

  /** A frame that arrived before the welcome: kept, as many as a backlog holds, until the welcome is out. */
  hold(conn: Connection, data: Buffer, isBinary: boolean): void {
    const joining = this.joining.get(conn)
    if (joining === undefined || conn.closeInfo !== null) return
    if (joining.frames.length >= MAX_BACKLOG) conn.close(CloseCode.PolicyViolation, 'too many frames waiting', true)
    else joining.frames.push([data, isBinary])
  }

  /** Every connection of this node, welcomed or still being registered (what the cluster state must list). */
  *everyConnection(): IterableIterator<Connection> {
    yield* this.connections.values()
    yield* this.joining.keys()
  }

  /** One inbound frame from a connection. */
  receive(conn: Connection, data: Buffer, isBinary: boolean): void {
    // Still served while the node drains: until its 1001 goes out a connection gets an answer to every request.
    if (conn.closeInfo !== null) return
    conn.holdWrites()
    const { app } = this
    this.framesIn++
    if (app.listenerCount('frame_in') !== 0) app.emit('frame_in', conn, data.length)
    let envelope
    try {
      if (isBinary) {
        if (app.binaryCodec === null) {
          app.reject(conn, ErrorCode.InvalidFormat, 'binary frames are not accepted; send JSON text frames', null)
          return
        }
        envelope = validateEnvelope(app.binaryCodec(data))
      } else envelope = parseEnvelope(data.toString())
    } catch (err) {
      if (err instanceof EnvelopeError) app.reject(conn, err.code, err.message, err.messageId)
      else app.reject(conn, ErrorCode.InvalidFormat, 'frame could not be decoded', null)
      return
    }
    void app.dispatch(conn, envelope)
  }

  /** Cuts off a client that stopped reading (its queued bytes passed `ws.max_buffered_bytes`). */
  onSlowConsumer(conn: Connection): void {
    if (conn.closeInfo !== null) return
    this.app.log.warn({ client_id: conn.id, buffered: conn.socket.bufferedAmount }, 'slow consumer cut off')
    this.app.emit('slow_consumer', conn)
    // Its close frame would queue behind what it is not reading: drop the socket now.
    conn.close(CloseCode.PolicyViolation, 'slow consumer', true)
  }

  /** Every outbound frame (send, reply, ack, error, delivery) passes here: its debug line and the `frame_out` event. */
  onSent(conn: Connection, frame: string | Buffer): void {
    this.framesOut++
    if (this.app.debug) this.app.log.debug({ client_id: conn.id, message_type: typeOfFrame(frame) }, 'frame out')
    if (this.app.listenerCount('frame_out') !== 0) this.app.emit('frame_out', conn, frame)
  }

  onDropped(conn: Connection): void {
    if (this.app.listenerCount('send_dropped') !== 0) this.app.emit('send_dropped', conn)
  }

  /** Writes the same bytes to every local client, except the excluded. */
  sendToAll(frame: SharedFrame, except: readonly string[]): void {
    for (const conn of this.connections.values()) {
      if (except.length !== 0 && except.includes(conn.id)) continue
      conn.sendShared(frame)
    }
  }

  remove(conn: Connection, code: number, reason: string): void {
    const joining = this.joining.get(conn)
    const welcomed = joining === undefined && this.connections.delete(conn.id)
    if (!welcomed && !(joining !== undefined && this.joining.delete(conn))) return
    this.releaseIp(conn.remoteAddress)
    const info = conn.closeInfo ?? { code, reason }
    conn.closeInfo = info
    const { app } = this
    const cleanup = (async () => {
      try {
        // A client gone before its welcome is in no room, but its registration may still be on its way.
        if (joining !== undefined) await joining.registered
        else await app.rooms.leaveAll(conn)
        await app.link.removeClient(conn.id)
      } catch (err) {
        app.link.stateMissed(err)
      }
    })()
    this.cleanups.add(cleanup)
    void cleanup.finally(() => this.cleanups.delete(cleanup))
    if (!welcomed) {
      // The app never saw it connect, so it does not see it go.
      app.log.info({ client_id: conn.id, code: info.code, reason: info.reason }, 'closed before its welcome')
      return
    }
    app.log.info({ client_id: conn.id, code: info.code, reason: info.reason }, 'disconnect')
    app.emit('disconnect', conn, { ...clientEventInfo(conn), code: info.code, reason: info.reason })
  }

  /** Starts the pings (listen() does; an attached app, which never listens, calls it itself). */
  startHeartbeat(): void {
    if (this.heartbeat !== null) return
    const { interval_ms, timeout_ms } = this.app.config.heartbeat
    this.heartbeat = new Heartbeat(this.connections, interval_ms, timeout_ms, (conn) => {
      this.app.log.warn({ client_id: conn.id }, 'heartbeat missed')
      this.app.emit('heartbeat_missed', conn)
      conn.close(1006, 'heartbeat timeout', true)
    })
    this.heartbeat.start()
  }

  /** Drains: refuses new clients, closes each connection with 1001 once its frames are answered (shutdown.ts). */
  async close(): Promise<void> {
    if (this.draining) return
    this.draining = true
    this.heartbeat?.stop()
    const closed = this.listeners.close()
    await drainConnections(() => this.everyConnection(), () => this.app.inFlight)
    await Promise.all(this.cleanups)
    this.listeners.closeAllConnections()
    await closed
  }
}
