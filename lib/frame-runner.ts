/**
 * Runs frames through the app's chain: in arrival order per connection (a frame that
 * comes while another is in the chain waits in a bounded backlog; a client that floods
 * past it is cut off with 1008), with a terminal reply for every request (the handler's,
 * an `ack`, or an `error`), and the one place where a thrown error becomes an `error`
 * envelope.
 */
import type { Composed } from './compose.js'
import { CloseCode, type Connection } from './connection.js'
import { Context, type ContextHost } from './context.js'
import { ErrorCode, isAppError, type AppError } from './errors.js'
import type { AppEvents, EventSink } from './events.js'
import { encodeError, type Envelope, type MessageId } from './protocol.js'

/** Frames one connection may have waiting behind the one in the chain. */
export const MAX_BACKLOG = 1024
// What dispatch answers for a frame that waits in the backlog: nothing to wait for.
const QUEUED: Promise<void> = Promise.resolve()

/**
 * Runs for each frame refused at the envelope (not JSON, binary with no codec, a bad
 * `message_type` or `message_id`), before it is answered; returns an error to answer it
 * with instead (the rate limiter's 1005), or null to answer the envelope error.
 */
export type RejectHook = (client: Connection, code: number) => AppError | null

/**
 * What the runner uses of the app (application.ts hands it the app itself): the chain, the
 * debug switch and the in-flight count, read or changed per frame, and what each frame's
 * context uses.
 */
export interface FrameHost extends ContextHost, EventSink<Pick<AppEvents, 'message' | 'error' | 'frame_rejected'>> {
  /** `log.level` is debug or finer: per-frame logs are on. */
  readonly debug: boolean
  /** The composed chain (composed again after a `use()`). */
  readonly composed: Composed<Context>
  /** Frames whose chain has not settled yet: the drain waits for none. */
  inFlight: number
  readonly rejectHooks: readonly RejectHook[]
}

export class FrameRunner {
  constructor(private readonly app: FrameHost) {}

  /**
   * Runs one valid envelope through the chain. Frames of one connection run in the order
   * they arrived: a frame that comes while another is in the chain waits in a bounded
   * backlog (a client that floods past it is cut off with 1008).
   */
  dispatch(client: Connection, envelope: Envelope): Promise<void> {
    if (client.busy) {
      const backlog = (client.backlog ??= [])
      if (backlog.length >= MAX_BACKLOG) client.close(CloseCode.PolicyViolation, 'too many frames waiting', true)
      else backlog.push(envelope)
      return QUEUED
    }
    client.busy = true
    return this.drain(client, envelope)
  }

  // One async function per frame, not two: the frame runs inline in the loop that drains the backlog.
  private async drain(client: Connection, envelope: Envelope): Promise<void> {
    const app = this.app
    try {
      let next: Envelope | undefined = envelope
      while (next !== undefined && client.closeInfo === null) {
        const ctx = new Context(app, client, next.type, next.data, next.messageId, next.receivedAt)
        // Not ctx.log: the trace middleware sets the trace id before the frame's logger is made.
        if (app.debug) app.log.debug({ client_id: client.id, message_type: next.type, message_id: next.messageId }, 'frame in')
        app.inFlight++
        try {
          // Inside the try: a throwing listener is application code, answered with 1003 like a handler.
          app.emit('message', ctx)
          await app.composed(ctx)
          if (ctx.messageId !== null && !ctx.replied) ctx.ack()
        } catch (err) {
          this.fail(ctx, err)
        } finally {
          app.inFlight--
        }
        next = client.backlog?.shift()
      }
    } finally {
      client.busy = false
    }
  }

  /** The one place where a thrown error becomes an `error` envelope. */
  private fail(ctx: Context, err: unknown): void {
    const app = this.app
    let code: number = ErrorCode.ServerError
    let message = 'server error'
    let details: unknown
    if (isAppError(err)) {
      code = err.code
      message = err.message
      details = err.details
    } else {
      ctx.log.error({ err }, 'handler failed')
      if (app.listenerCount('error') > 0) app.emit('error', err, ctx)
    }
    if (ctx.replied && ctx.messageId !== null) {
      ctx.log.warn({ code, message }, 'error after the terminal reply was sent; not sent to the client')
      return
    }
    ctx.replied = true
    let frame: string
    try {
      frame = encodeError(code, message, details, ctx.messageId)
    } catch (encodeErr) {
      // Details that JSON cannot carry (a BigInt, a cycle) must not cost the client its answer.
      ctx.log.error({ err: encodeErr, code }, 'error details could not be encoded; sent without them')
      frame = encodeError(code, message, undefined, ctx.messageId)
    }
    ctx.client.send(frame)
  }

  /**
   * Answers a frame refused before the chain (envelope errors), keeping the connection
   * open: with its envelope error, or with what a reject hook answers instead (1005 over
   * the rate limit). A connection that stopped reading is being cut off: what it still
   * sent is dropped unanswered.
   */
  reject(client: Connection, code: number, message: string, messageId: MessageId | null): void {
    const app = this.app
    if (client.socket.isPaused) return
    let details: unknown
    for (const hook of app.rejectHooks) {
      const instead = hook(client, code)
      if (instead === null) continue
      code = instead.code
      message = instead.message
      details = instead.details
      break
    }
    if (app.debug) app.log.debug({ client_id: client.id, code }, 'frame rejected')
    app.emit('frame_rejected', client, code)
    client.send(encodeError(code, message, details, messageId))
  }
}
