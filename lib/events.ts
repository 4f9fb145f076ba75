/**
 * The application's events and their payloads. Every event about a client carries the
 * same four facts (client id, user id, claims, time); every event about a room carries
 * the room id as `room`. Room and connection events fire on the node where the thing
 * happened (a room deleted on node A fires `room_deleted` on A, and `room_left` on each
 * node for its own members).
 *
 * @example
 * ```ts
 * app.on('connection', (client, info) => log.info({ user: info.userId }, 'hello'))
 * app.on('room_left', ({ room, clientId, reason }) => { if (reason === 'deleted') audit(room, clientId) })
 * app.on('reload', (config, previous) => limiter.setRate(config.rate_limit.per_connection.rate))
 * ```
 */
import type { BusEnvelope } from './bus/bus.js'
import type { Connection } from './connection.js'
import type { Context } from './context.js'
import type { WshubConfig } from './config.js'
import type { RoomRecord } from './cluster/state.js'

/** Who an event is about: one connection, as it was when the event happened. */
export interface ClientEventInfo {
  clientId: string
  /** The verified user id, or null for an anonymous client. */
  userId: string | null
  /** The verified token's claims, or null for an anonymous client. */
  claims: Record<string, unknown> | null
  /** ms since the epoch. */
  time: number
}

/** `connection`: a client finished its handshake and got its `welcome`. */
export interface ConnectionEvent extends ClientEventInfo {
  remoteAddress: string
}

/** `disconnect`: a client's socket closed, for whatever reason. */
export interface DisconnectEvent extends ClientEventInfo {
  /** The WebSocket close code (1001 shutdown, 4000 kick, 4001 token expired, 1008 abuse, ...). */
  code: number
  reason: string
}

/** A room event: which room, when. */
export interface RoomEvent {
  room: string
  time: number
}

/** `room_created`: by a client's first join (auto-create) or through the API / server SDK. */
export interface RoomCreatedEvent extends RoomEvent {
  record: RoomRecord
  /** The client whose join created it; null when made through the API or the server SDK. */
  clientId: string | null
  userId: string | null
}

/** `room_joined`: a client of this node joined a room. */
export interface RoomJoinedEvent extends RoomEvent, ClientEventInfo {}

/** Why a member left: it asked, it disconnected, or the room was deleted. */
export type RoomLeftReason = 'left' | 'disconnect' | 'deleted'

/** `room_left`: a client of this node left a room. */
export interface RoomLeftEvent extends RoomEvent, ClientEventInfo {
  reason: RoomLeftReason
}

/** Payloads of the app's events, as `app.on(name, (...payload) => ...)` receives them. */
export interface AppEvents {
  connection: [client: Connection, info: ConnectionEvent]
  disconnect: [client: Connection, info: DisconnectEvent]
  heartbeat_missed: [client: Connection]
  slow_consumer: [client: Connection]
  /** A valid frame is about to enter the chain. */
  message: [ctx: Context]
  /** An exception from application code (the client got 1003); `ctx` is null outside a frame. */
  error: [err: unknown, ctx: Context | null]
  room_created: [info: RoomCreatedEvent]
  room_deleted: [info: RoomEvent]
  room_joined: [info: RoomJoinedEvent]
  room_left: [info: RoomLeftEvent]
  bus_status: [status: 'up' | 'down']
  bus_error: [err: unknown]
  /** A room message was delivered without offset: the cluster state was out of reach, so its room's history could not keep it. */
  history_missed: [err: unknown]
  /** A frame was refused at the envelope (never entering the chain), answered with `code`: 1001, 1002, or 1005 over the rate limit. */
  frame_rejected: [client: Connection, code: number]
  /** A new configuration is in force (`app.reload`); `previous` is the one it replaced. */
  reload: [config: WshubConfig, previous: WshubConfig]
  /** A frame arrived (emitted only while someone listens): its size in bytes. */
  frame_in: [client: Connection, bytes: number]
  /** A frame was written to a client (emitted only while someone listens). */
  frame_out: [client: Connection, frame: string | Buffer]
  /** A send to a connection that was already closing or closed. */
  send_dropped: [client: Connection]
  /** An envelope was handed to the bus (emitted only while someone listens). */
  bus_published: []
  /** An envelope from another node arrived, before delivery (emitted only while someone listens). */
  bus_received: [envelope: BusEnvelope]
  /** The auth middleware refused a token: at the handshake (401) or in an `auth` message. */
  auth_rejected: [info: { code: number; stage: 'handshake' | 'message' }]
  /** Node's HTTP parser refused a request before any handler saw it: 400, 408 (headers too slow) or 431 (headers too large). */
  http_refused: [info: { status: number }]
  /** The rate-limit middleware refused a frame (1005). */
  rate_limited: [client: Connection, scope: 'connection' | 'user']
}

/**
 * Where a part of the node emits its events: the app's own emitter, seen as the few
 * events the part emits (`EventSink<Pick<AppEvents, 'room_joined' | 'room_left'>>`), so a
 * part needs no Application and a test can hand it any `EventEmitter`.
 */
export interface EventSink<E> {
  emit<K extends keyof E & string>(event: K, ...args: E[K] & unknown[]): boolean
  listenerCount(event: keyof E & string): number
}

/** The facts every client event carries, taken from a connection now. */
export function clientEventInfo(conn: Connection, time = Date.now()): ClientEventInfo {
  return { clientId: conn.id, userId: conn.userId, claims: conn.claims, time }
}
