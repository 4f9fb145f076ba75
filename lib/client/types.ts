/**
 * The shapes the client exchanges with a wshub server (PROTOCOL.md sections 1–3), typed
 * for applications.
 */
import type { MessageId } from '../protocol.js'
import type { BackoffOptions } from './backoff.js'
import type { WshubError } from './errors.js'

/** What the client needs of a WebSocket: the browser API, which `ws` implements too. */
export interface WebSocketLike {
  readonly readyState: number
  readonly protocol: string
  onopen: ((event: any) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: any) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

/** A WebSocket class: the browser's `WebSocket`, or `ws`'s (which also takes options with headers). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: any) => WebSocketLike

export type { MessageId }

/** A frame from the server. */
export interface Frame<T = any> {
  message_type: string
  data: T
  /** On a reply: the `message_id` of the request it answers. */
  request_id?: MessageId
  /** ms since the epoch, on `room_message`, `direct_message` and `broadcast` deliveries. */
  timestamp?: number
}

/** The server's first frame on every connection. */
export interface Welcome {
  client_id: string
  node_id: string
  user_id: string | null
  protocol: number
  heartbeat_ms: number
}

/** What `join` answers (the `room_joined` data). */
export interface Joined {
  room_id: string
  status: 'joined'
  members: number
  /** Present when the join gave `since`: whether every message after it was replayed. */
  recovered?: boolean
}

/** A member of a room, as `room_members` lists it. */
export interface Member {
  client_id: string
  user_id: string | null
  node_id: string
}

/** Where the token travels. Browsers can only use `protocol` or `query`. */
export type TokenPlacement = 'protocol' | 'query' | 'header'

/** A token, or a function called before every (re)connect for a fresh one; null connects anonymously. */
export type TokenSource = string | null | (() => string | null | undefined | Promise<string | null | undefined>)

/** Connection states, in the order a client goes through them. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'

/** Why a connection ended, and whether the client will try again. */
export interface ClosedInfo {
  code: number
  reason: string
  /** True when the client will reconnect by itself. */
  reconnect: boolean
  /** The HTTP status when the server refused the upgrade (Node only: browsers do not expose it). */
  status?: number
}

/**
 * The client's own events. Every other name given to `on` is a `message_type` from the
 * server; `*` gets every frame.
 */
export interface ClientEvents {
  /** A connection attempt starts (attempt 0 is the first connect). */
  connecting: [info: { attempt: number }]
  /** The server's `welcome` arrived: the connection is usable; rooms were rejoined and the queue flushed. */
  open: [welcome: Welcome]
  /** The connection ended. */
  closed: [info: ClosedInfo]
  /** A reconnect is scheduled after `delay` ms. */
  reconnecting: [info: { attempt: number; delay: number }]
  /** A room was joined again after a reconnect; `recovered` says whether no message was missed. */
  rejoined: [info: { room: string; recovered: boolean }]
  /** A room could not be joined again after a reconnect; the client is no longer in it. */
  rejoin_failed: [info: { room: string; error: WshubError }]
}

/** A handler of server frames of one type: the frame's data first, the whole frame second. */
export type MessageHandler<T = any> = (data: T, frame: Frame<T>) => void

export interface ClientOptions {
  /** A token, or a function returning a fresh one for each (re)connect. Default: anonymous. */
  token?: TokenSource
  /** Where to put the token. Default: `header` with Node's `ws`, `protocol` with a browser WebSocket. */
  tokenIn?: TokenPlacement
  /** The WebSocket implementation. Default: the browser's; under Node, `ws` imported on first connect. */
  WebSocket?: WebSocketConstructor
  /** Reconnect by itself after a connection is lost. Default true. */
  reconnect?: boolean
  /** Reconnect delays (exponential, full jitter). */
  backoff?: BackoffOptions
  /** Give up after this many reconnect attempts in a row. Default Infinity. */
  maxAttempts?: number
  /** Default timeout of `request`, in ms. Default 10000. */
  requestTimeoutMs?: number
  /** Sends made while disconnected that may wait; past it they throw or reject. Default 100. */
  queueLimit?: number
  /** How long past `heartbeat_ms` of silence the server counts as dead, in ms. Default heartbeat_ms / 2, at most 10000. */
  heartbeatMarginMs?: number
  /** Source of randomness for the backoff jitter (tests inject one). Default Math.random. */
  random?: () => number
}
