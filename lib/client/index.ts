/**
 * `wshub/client`: the client SDK for browsers (the native WebSocket) and Node (`ws`).
 * It shares only the envelope code with the server and has no runtime dependency.
 *
 * @example
 * ```ts
 * import { WshubClient } from 'wshub/client'
 * const client = new WshubClient('ws://localhost:8080/ws', { token: () => getToken() })
 * client.on('open', (welcome) => console.log('connected as', welcome.client_id))
 * client.on('room_message', (data) => console.log(data.sender_id, data.content))
 * await client.connect()
 * await client.join('lobby')
 * await client.publish('lobby', 'hi')
 * ```
 */
export { WshubClient } from './client.js'
export { WshubError, ClientError } from './errors.js'
export { backoffDelay } from './backoff.js'
export { ErrorCode } from '../errors.js'

export type { RequestOptions } from './client.js'
export type { ClientErrorReason } from './errors.js'
export type { BackoffOptions } from './backoff.js'
export type { RetryPolicy } from './requests.js'
export type { WebSocketLike, WebSocketConstructor } from './transport.js'
export type { ClientRoutes, ReplyFrame, ReplyTo, ServerEvents } from './typed-routes.js'
export type {
  AckData, BuiltinEvents, BuiltinRoutes, DirectMessageData, MemberInfo, PresenceData, RoomMessageData, RouteEntry, RouteMap,
} from '../route-map.js'
export type {
  ClientEvents, ClientOptions, ClosedInfo, ConnectionState, Frame, Joined, Member, MessageHandler, MessageId,
  TokenPlacement, TokenSource, Welcome,
} from './types.js'
