/**
 * wshub: a Koa-style WebSocket framework. Every inbound frame flows through one
 * `async (ctx, next)` chain; rooms and the cluster bus are helpers on `ctx`.
 *
 * @example
 * ```ts
 * import { createApp } from 'wshub'
 * const app = createApp()
 * app.route('hello', (ctx) => ctx.reply('hello_reply', { you: ctx.client.id }))
 * await app.listen()
 * ```
 */
export { createApp, Application } from './application.js'
export { nodeOfClient } from './client-id.js'
export { compose } from './compose.js'
export { Context } from './context.js'
export { Connection, CloseCode } from './connection.js'
export { AppError, ErrorCode, HandshakeError, isAppError, defaultMessage } from './errors.js'
export { loadConfig, resolveConfig, ConfigError, describeConfig } from './config.js'
export { RoomTarget } from './broadcast.js'
export { UserTarget } from './user-target.js'
export { Permissions } from './permissions.js'
export { encodeFrame, encodeDelivery, encodeError, parseEnvelope, isValidRoomId, isValidType } from './protocol.js'
export { MemoryBus, MemoryHub } from './bus/memory.js'
export { MemoryState } from './cluster/memory.js'
export { StateUnavailableError, MissingRoomError } from './cluster/state.js'
export { defineMiddleware } from './define-middleware.js'
export { defineRoute, defineRoutes } from './define-routes.js'
export { jsonSchemaValidator } from './schema/json-schema.js'
export { Clients } from './clients.js'
export { installReload, reloadFromFile } from './reload.js'

export type { Middleware, HandshakeHook, RejectHook, HttpHandler, HttpHandlerOptions, AppOptions, AppEvents, DeliveryWrapper } from './application.js'
export type { AttachOptions } from './attach.js'
export type {
  ClientEventInfo, ConnectionEvent, DisconnectEvent, RoomEvent, RoomCreatedEvent, RoomJoinedEvent, RoomLeftEvent, RoomLeftReason,
} from './events.js'
export type { ClientInfo, ClientPage } from './clients.js'
export type { ReloadResult } from './reload.js'
export type { SendOptions } from './broadcast.js'
export type { UserSendOptions } from './user-target.js'
export type { Next, Composed } from './compose.js'
export type { State } from './context.js'
export type { ClientData, Identity, CloseInfo } from './connection.js'
export type { WshubConfig, ConfigInput } from './config.js'
export type { Envelope, MessageId } from './protocol.js'
export type { Bus, BusStatus, BusMessage, BusEnvelope } from './bus/bus.js'
export type { ClusterState, RoomRecord, MemberRecord, ClientRecord, NodeRecord, JoinOutcome, DedupOutcome, DedupPending } from './cluster/state.js'
export type { JoinResult, RoomOptions } from './rooms.js'
export type { Handler, RouteOptions, ReplySchemas } from '../middleware/router.js'
export type { ReplyTypes } from './context.js'
export type { RouteDefinition, RouteDefinitions } from './define-routes.js'
export type { Schema, JsonSchema } from './schema/compile.js'
export type { StandardSchemaV1 } from './schema/standard-schema.js'
export type { InferData, InferInput, FromJsonSchema } from './schema/infer.js'
export type { DataIssue, DataIssues } from './schema/issues.js'
export type { RouteEntry, RouteMap, BuiltinRoutes, BuiltinEvents, AckData } from './route-map.js'
