/**
 * The context of one inbound frame: what arrived, who sent it, and the helpers a
 * middleware or handler uses to answer, fail, join rooms and deliver. Every field is set
 * in the constructor so all contexts share one shape; the rare parts (the child logger,
 * the state object) are made on first use.
 */
import type { Logger } from 'pino'
import type { Application } from './application.js'
import { RoomTarget } from './broadcast.js'
import type { Connection } from './connection.js'
import { AppError, type ErrorCode } from './errors.js'
import { encodeAck, encodeFrame, type MessageId } from './protocol.js'
import type { JoinResult } from './rooms.js'
import type { MemberRecord } from './cluster/state.js'
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

export class Context<D = any> {
  readonly app: Application
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

  constructor(app: Application, client: Connection, type: string, data: D, messageId: MessageId | null, receivedAt = performance.now()) {
    this.app = app
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

  /** State shared down the chain for this frame. */
  get state(): State {
    return (this.stateValue ??= {})
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
  reply(type: string, data: unknown): boolean {
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
