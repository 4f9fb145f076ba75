/**
 * The built-in message types of PROTOCOL.md section 3, registered through the same
 * `app.route` a user calls. `auth` belongs to the auth middleware.
 */
import type { Handler, RouteOptions } from '../middleware/router.js'
import type { WshubConfig } from './config.js'
import type { Context } from './context.js'
import { AppError, ErrorCode } from './errors.js'
import { encodeData } from './protocol.js'
import { objectSchema, offset, optional, present, roomId, text } from './schema/object-schema.js'
import type { InferData } from './schema/infer.js'
import type { Issue } from './schema/issues.js'
import { MissingRoomError, StateUnavailableError, type ClusterState } from './cluster/state.js'

/**
 * What the built-in routes use of the app (application.ts hands it the app itself):
 * `route` to register them and, for `room_message`, the history and the delivery. `config`
 * and `state` are read per message: `app.reload` replaces the config (`rooms.history_size`
 * applies to the next message) and the app opens the state at `listen()`.
 */
export interface BuiltinRoutesHost {
  route(type: string, handler: Handler): unknown
  route(type: string, options: RouteOptions, handler: Handler): unknown
  readonly config: { readonly rooms: WshubConfig['rooms'] }
  readonly state: ClusterState
  /** Notes what the state missed, and a message its room's history could not keep (ClusterLink). */
  readonly link: { stateMissed(err: unknown): void; historyMissed(err: unknown): void }
  deliverToRooms(rooms: readonly string[], frame: string, except: readonly string[]): Promise<void>
}

const NO_TARGET: ReadonlyArray<Issue> = Object.freeze([Object.freeze({ path: Object.freeze(['target_id']), message: 'is required (or target_user_id)' })])
const TWO_TARGETS: ReadonlyArray<Issue> = Object.freeze([Object.freeze({ path: Object.freeze(['target_user_id']), message: 'must not be given with target_id' })])

/** `direct_message` names one of two targets: a client, or every connection of a user. */
function oneTarget(data: { target_id?: string; target_user_id?: string }): ReadonlyArray<Issue> | null {
  if (data.target_id === undefined) return data.target_user_id === undefined ? NO_TARGET : null
  return data.target_user_id === undefined ? null : TWO_TARGETS
}

/** The `data` each built-in route takes (PROTOCOL.md section 3): checked by the router before the handler, 1001 otherwise. */
export const builtinSchemas = {
  join_room: objectSchema({ room_id: roomId, since: optional(offset) }),
  leave_room: objectSchema({ room_id: roomId }),
  room_message: objectSchema({ room_id: roomId, content: present }),
  direct_message: objectSchema({ target_id: optional(text(1, 200)), target_user_id: optional(text(1, 256)), content: present }, oneTarget),
  room_members: objectSchema({ room_id: roomId }),
}

type DataOf<K extends keyof typeof builtinSchemas> = InferData<(typeof builtinSchemas)[K]>

/**
 * `ping` has no schema: PROTOCOL.md section 3 lists no failure for it, so any data gets a
 * pong, with the `ts` it carried echoed as given (null when there is none).
 */
function ping(ctx: Context): void {
  const data = ctx.data
  const ts = typeof data === 'object' && data !== null ? ((data as { ts?: unknown }).ts ?? null) : null
  ctx.reply('pong', { ts, server_ts: Date.now() })
}

async function joinRoom(ctx: Context<DataOf<'join_room'>>): Promise<void> {
  const roomId = ctx.data.room_id
  const result = await ctx.join(roomId, ctx.data.since ?? null)
  const reply: Record<string, unknown> = { room_id: roomId, status: 'joined', members: result.members }
  if (result.recovered !== null) reply.recovered = result.recovered
  ctx.reply('room_joined', reply)
}

async function leaveRoom(ctx: Context<DataOf<'leave_room'>>): Promise<void> {
  const roomId = ctx.data.room_id
  await ctx.leave(roomId)
  ctx.reply('room_left', { room_id: roomId, status: 'left' })
}

/** The `room_message` handler, made once per app. */
function roomMessageHandler(app: BuiltinRoutesHost): Handler {
  return async function roomMessage(ctx: Context<DataOf<'room_message'>>): Promise<void> {
    const { room_id: roomId, content } = ctx.data
    if (!ctx.client.rooms.has(roomId)) throw new AppError(ErrorCode.NotInRoom, `not in room ${roomId}`)
    const payload = { room_id: roomId, content, sender_id: ctx.client.id, sender_user_id: ctx.client.userId }
    await app.deliverToRooms([roomId], await roomMessageFrame(app, roomId, payload), [ctx.client.id])
  }
}

/**
 * A `room_message` frame, with the offset its room's history gave it. Without one when
 * history is off, or when the cluster state is out of reach or lost the room (PROTOCOL.md
 * section 6: local delivery goes on): the message is kept in no history, and reaches the
 * other nodes only if the bus is up. Any other failure of the history fails the request.
 */
async function roomMessageFrame(app: BuiltinRoutesHost, roomId: string, payload: Record<string, unknown>): Promise<string> {
  const size = app.config.rooms.history_size
  const now = Date.now()
  // Encoded once, and before an offset is taken: data too deep to encode (1001) leaves no gap.
  const data = encodeData(payload)
  if (size > 0) {
    try {
      return (await app.state.appendHistory(roomId, size, (offset) => roomMessageWithOffset(data, offset, now))).frame
    } catch (err) {
      // The sender is a member here, so the room exists: a state without it came back
      // empty (or missed its making) and has it again once this node writes itself back.
      if (err instanceof MissingRoomError) app.link.stateMissed(err)
      else if (!(err instanceof StateUnavailableError)) throw err
      app.link.historyMissed(err)
    }
  }
  return `{"message_type":"room_message","data":${data},"timestamp":${now}}`
}

/** The frame with `offset` as the last field of its encoded `data` (an object, so it ends in `}`). */
function roomMessageWithOffset(data: string, offset: number, now: number): string {
  return `{"message_type":"room_message","data":${data.slice(0, -1)},"offset":${offset}},"timestamp":${now}}`
}

async function directMessage(ctx: Context<DataOf<'direct_message'>>): Promise<void> {
  // The schema let through exactly one of the two targets.
  const { target_id: target, target_user_id: targetUser, content } = ctx.data
  if (targetUser !== undefined) return directToUser(ctx, targetUser, content)
  await ctx.sendTo(target!, 'direct_message', { content, sender_id: ctx.client.id, sender_user_id: ctx.client.userId })
}

/** `direct_message` to a user: every connection of it on every node but the sender's own; 4001 when there is none. */
async function directToUser(ctx: Context, userId: string, content: unknown): Promise<void> {
  const data = { content, sender_id: ctx.client.id, sender_user_id: ctx.client.userId, target_user_id: userId }
  if ((await ctx.toUser(userId).send('direct_message', data)) === 0) {
    throw new AppError(ErrorCode.ClientOffline, `user ${userId} has no connection`)
  }
}

async function roomMembers(ctx: Context<DataOf<'room_members'>>): Promise<void> {
  const roomId = ctx.data.room_id
  const isMember = ctx.client.rooms.has(roomId)
  if (!isMember && !ctx.client.can(`read:presence:${roomId}`)) throw new AppError(ErrorCode.NotInRoom, `not in room ${roomId}`)
  const members = await ctx.members(roomId)
  if (members === null) throw new AppError(ErrorCode.RoomNotFound, `room ${roomId} does not exist`)
  ctx.reply('room_members', { room_id: roomId, members })
}

/** Registers every built-in route on the app. */
export function registerBuiltinRoutes(app: BuiltinRoutesHost): void {
  const roomMessage = roomMessageHandler(app)
  app.route('ping', ping)
  app.route('join_room', { schema: builtinSchemas.join_room }, joinRoom)
  app.route('leave_room', { schema: builtinSchemas.leave_room }, leaveRoom)
  app.route('room_message', { permission: 'send:message:{room_id}', schema: builtinSchemas.room_message }, roomMessage)
  app.route('direct_message', { permission: 'send:message', schema: builtinSchemas.direct_message }, directMessage)
  app.route('room_members', { schema: builtinSchemas.room_members }, roomMembers)
}
