/**
 * The protocol's error codes (PROTOCOL.md section 4), by name, and the one error type
 * that carries a code to the client.
 *
 * @example
 * ```ts
 * import { AppError, ErrorCode } from 'wshub'
 * throw new AppError(ErrorCode.RoomFull, 'room lobby is full')
 * ```
 */
export const ErrorCode = {
  Unknown: 1000,
  InvalidFormat: 1001,
  InvalidMessageId: 1002,
  ServerError: 1003,
  Timeout: 1004,
  RateLimited: 1005,
  UnknownMessageType: 1006,
  Unauthorized: 2000,
  Forbidden: 2001,
  TokenExpired: 2002,
  InvalidToken: 2003,
  /** wshub's addition: the handshake of a user past `auth.max_connections_per_user` (HTTP 429). */
  TooManyConnections: 2004,
  RoomNotFound: 3000,
  RoomExists: 3001,
  RoomFull: 3002,
  NotInRoom: 3003,
  AlreadyInRoom: 3004,
  ClientNotFound: 4000,
  ClientOffline: 4001,
  MessageTooLarge: 4002,
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

const defaultMessages: Record<ErrorCode, string> = {
  1000: 'unknown error',
  1001: 'invalid format',
  1002: 'invalid message id',
  1003: 'server error',
  1004: 'timeout',
  1005: 'rate limited',
  1006: 'unknown message type',
  2000: 'unauthorized',
  2001: 'forbidden',
  2002: 'token expired',
  2003: 'invalid token',
  2004: 'too many connections for this user',
  3000: 'room not found',
  3001: 'room already exists',
  3002: 'room full',
  3003: 'not in room',
  3004: 'already in room',
  4000: 'client not found',
  4001: 'client offline',
  4002: 'message too large',
}

/** The default text of a code, used when a thrower gives none. */
export function defaultMessage(code: ErrorCode): string {
  return defaultMessages[code] ?? 'error'
}

/**
 * An error whose code and message are meant for the client. Anything thrown that is not
 * an `AppError` reaches the client as 1003 with no details, and is logged in full.
 *
 * @example
 * ```ts
 * ctx.throw(ErrorCode.Forbidden, 'needs send:message')   // the usual way, from a context
 * ```
 */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly details: unknown
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? defaultMessage(code))
    this.name = 'AppError'
    this.code = code
    this.details = details
  }
}

/**
 * True for an `AppError`, also across copies of the package. A look-alike must carry a
 * protocol code: many applications have their own class named `AppError` (with HTTP
 * codes and internal messages), and those must reach the client as 1003, not verbatim.
 */
export function isAppError(err: unknown): err is AppError {
  if (err instanceof AppError) return true
  if (typeof err !== 'object' || err === null || (err as { name?: unknown }).name !== 'AppError') return false
  const code = (err as { code?: unknown }).code
  return typeof code === 'number' && Object.hasOwn(defaultMessages, code)
}

/** A refusal of the HTTP handshake, before the upgrade: status and JSON body. */
export class HandshakeError extends Error {
  readonly status: number
  readonly code: ErrorCode | undefined
  constructor(status: number, message: string, code?: ErrorCode) {
    super(message)
    this.name = 'HandshakeError'
    this.status = status
    this.code = code
  }
}
