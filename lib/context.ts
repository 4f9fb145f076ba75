/**
 * The context of one inbound frame: what arrived, who sent it, and the helpers a
 * middleware or handler uses to answer, fail, join rooms and deliver. Every field is set
 * in the constructor so all contexts share one shape; the rare parts (the child logger,
 * the state object) are made on first use.
 */
import type { Logger } from 'pino'
import type { RoomTarget } from './broadcast.js'
import type { UserTarget } from './user-target.js'
import type { Connection } from './connection.js'
import { AppError, type ErrorCode } from './errors.js'
import { encodeAck, encodeFrame, type MessageId } from './protocol.js'
import type { JoinResult, MemberRecord } from './cluster/state.js'
import { activeSpanContext, newTraceId } from './tracing.js'

/**
 * Per-frame state that middleware shares with later middleware and the handler. Open to
 * declaration merging:
 *
 * @example
 * ```ts
 * declare module 'wshub' { interface State { startedAt?: number } }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface State {}

/**
 * What a context uses of its app: the logger its `log` is a child of, and the room and
 * delivery helpers its methods call.
 */
export interface ContextHost {
  readonly log: Logger
  readonly rooms: {
    join(conn: Connection, roomId: string, since: number | null): Promise<JoinResult>
    leave(conn: Connection, roomId: string): Promise<void>
    members(roomId: string): Promise<MemberRecord[] | null>
  }
  to(roomId: string): RoomTarget
  toUser(userId: string): UserTarget
  broadcast(type: string, data: unknown): Promise<void>
  sendTo(clientId: string, type: string, data: unknown): Promise<void>
}

/**
 * The type of `ctx.app`, which is the whole `Application`: application.ts merges it in
 * here (`interface ContextApp extends Application`), so that this file, which uses only
 * {@link ContextHost}, does not import application.ts (which imports it).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ContextApp {}

/** The replies a handler may send, by `message_type` (any, for a route that declares none). */
export type ReplyTypes = { [type: string]: unknown }

/**
 * @typeParam D - `data`: what the route's schema gives (`any` for a route without one)
 * @typeParam S - what typed middleware before the route add to `state`
 * @typeParam R - the replies the route declares: the types and data `reply` takes
 */
export class Context<D = any, S extends object = {}, R extends ReplyTypes = ReplyTypes> {
  /** The application that runs the frame. */
  readonly app: ContextApp & ContextHost
  readonly client: Connection
  /** The frame's `message_type`. */
  readonly type: string
  /** The frame's `data` (`null` when absent). */
  data: D
  /** The frame's `message_id`, or null: a request expects exactly one terminal reply. */
  readonly messageId: MessageId | null
  /** `performance.now()` when the frame arrived; it may have waited behind its connection's earlier frames since. */
  readonly receivedAt: number
  /** True once a reply to this request (reply, ack or error) has been sent. */
  replied: boolean
  /** The id of this frame's span: set by the trace middleware with `traceId`, null when the frame has no span. */
  spanId: string | null
  private traceValue: string | null
  private stateValue: State | null
  private logValue: Logger | null

  constructor(app: ContextHost, client: Connection, type: string, data: D, messageId: MessageId | null, receivedAt = performance.now()) {
    // The frame runner makes contexts with the app as their host (the only host outside unit tests).
    this.app = app as ContextApp & ContextHost
    this.client = client
    this.type = type
    this.data = data
    this.messageId = messageId
    this.receivedAt = receivedAt
    this.replied = false
    this.traceValue = null
    this.spanId = null
    this.stateValue = null
    this.logValue = null
  }

  /**
   * The W3C trace id of this frame, carried into `log` lines: the one the trace middleware
   * set from the frame's span, else that of the span active when first read, else a
   * random one made then. So a frame with no span (no OpenTelemetry SDK installed) still
   * has one on its error lines, and pays for it only when something logs or reads it.
   */
  get traceId(): string {
    return (this.traceValue ??= this.adoptTraceId())
  }

  set traceId(id: string | null) {
    if (id === this.traceValue) return
    this.traceValue = id
    // A child logger made before (the debug 'frame in' line, an early middleware) lacks the id.
    this.logValue = null
  }

  private adoptTraceId(): string {
    const active = activeSpanContext()
    if (active === null) return newTraceId()
    this.spanId ??= active.spanId
    return active.traceId
  }

  /** State shared down the chain for this frame: {@link State} (declaration merging), and what typed middleware add. */
  get state(): State & S {
    return (this.stateValue ??= {}) as State & S
  }

  /** A logger that carries the client id, the message type and the trace id. */
  get log(): Logger {
    return (this.logValue ??= this.app.log.child({ client_id: this.client.id, message_type: this.type, trace_id: this.traceId, span_id: this.spanId ?? undefined }))
  }

  /**
   * Answers the sender; when the frame was a request, the reply carries its `request_id`
   * and counts as its terminal reply. A request gets one (PROTOCOL.md section 2): a second
   * reply or ack to it is not sent, and is logged at `warn`. Returns false when nothing
   * was sent.
   *
   * @example
   * ```ts
   * app.route('echo', (ctx) => ctx.reply('echo_reply', ctx.data))
   * ```
   */
  reply<T extends keyof R & string>(type: T, data: R[T]): boolean {
    // Encode first: a reply that cannot be encoded (a bad type, a BigInt in data) throws
    // before it counts as the terminal reply, so the client gets the 1003 instead of nothing.
    const frame = encodeFrame(type, data, this.messageId)
    if (this.messageId !== null && this.alreadyAnswered(type)) return false
    this.replied = true
    return this.client.send(frame)
  }

  /** Sends the `ack` of a request (nothing when the frame was not one, or was answered already). */
  ack(): boolean {
    if (this.messageId === null || this.alreadyAnswered('ack')) return false
    this.replied = true
    return this.client.send(encodeAck(this.messageId))
  }

  private alreadyAnswered(type: string): boolean {
    if (!this.replied) return false
    this.log.warn({ reply_type: type }, 'a second reply to a request; a request gets one, so it was not sent')
    return true
  }

  /**
   * Fails the frame with a protocol error code; the client gets an `error` envelope.
   *
   * @example
   * ```ts
   * if (!ctx.data?.room_id) ctx.throw(ErrorCode.InvalidFormat, 'room_id is required')
   * ```
   */
  throw(code: ErrorCode, message?: string, details?: unknown): never {
    throw new AppError(code, message, details)
  }

  /** Fails with 2001 unless the client holds the permission. */
  authorize(permission: string): void {
    if (!this.client.can(permission)) throw new AppError(2001, `missing permission ${permission}`)
  }

  /** Joins the sender to a room, as `join_room` does (same checks, same errors). */
  join(roomId: string, since: number | null = null): Promise<JoinResult> {
    return this.app.rooms.join(this.client, roomId, since)
  }

  /** Removes the sender from a room; fails with 3003 when it was not in it. */
  leave(roomId: string): Promise<void> {
    return this.app.rooms.leave(this.client, roomId)
  }

  /** A target for every member of the room except the sender (as Socket.IO's `socket.to`). */
  to(roomId: string): RoomTarget {
    return this.app.to(roomId).except(this.client.id)
  }

  /** A target for every connection of a user on every node, except the sender's own. */
  toUser(userId: string): UserTarget {
    return this.app.toUser(userId).except(this.client.id)
  }

  /** Sends to every client of the cluster, the sender included. */
  broadcast(type: string, data: unknown): Promise<void> {
    return this.app.broadcast(type, data)
  }

  /** Sends to one client on whatever node it is; fails with 4000 when there is none. */
  sendTo(clientId: string, type: string, data: unknown): Promise<void> {
    return this.app.sendTo(clientId, type, data)
  }

  /** The members of a room across the cluster, or null when the room does not exist. */
  members(roomId: string): Promise<MemberRecord[] | null> {
    return this.app.rooms.members(roomId)
  }
}
