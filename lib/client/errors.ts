/**
 * The errors the client rejects with: a `WshubError` carries the protocol's code
 * (PROTOCOL.md section 4) from the server's `error` reply, or 1004 when no reply came in
 * time; a `ClientError` says the client itself could not take the message.
 */
import type { MessageId } from '../protocol.js'

/**
 * A request failed with a protocol error code.
 *
 * @example
 * ```ts
 * try { await client.join('lobby') } catch (err) {
 *   if (err instanceof WshubError && err.code === ErrorCode.RoomFull) showFull()
 * }
 * ```
 */
export class WshubError extends Error {
  /** The protocol code: 3002 room full, 1004 timeout, ... */
  readonly code: number
  /** The `details` of the server's error, if any (e.g. `retry_after_ms` for 1005). */
  readonly details: unknown
  /** The `message_id` of the request that failed. */
  readonly requestId: MessageId | null

  constructor(code: number, message: string, details?: unknown, requestId: MessageId | null = null) {
    super(message)
    this.name = 'WshubError'
    this.code = code
    this.details = details
    this.requestId = requestId
  }
}

/** Why the client refused or dropped a message without the server seeing it. */
export type ClientErrorReason = 'queue_full' | 'closed'

/**
 * The client could not take a message: its queue of sends made while disconnected is
 * full (`queue_full`), or the client was closed for good (`closed`).
 *
 * @example
 * ```ts
 * try { client.send('typing', { room_id: 'lobby' }) } catch (err) {
 *   if (err instanceof ClientError && err.reason === 'queue_full') showOffline()
 * }
 * ```
 */
export class ClientError extends Error {
  readonly reason: ClientErrorReason

  constructor(reason: ClientErrorReason, message: string) {
    super(message)
    this.name = 'ClientError'
    this.reason = reason
  }
}
