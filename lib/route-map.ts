/**
 * Types only, shared by the server and the client: what each message type takes and
 * what it answers. A server's map grows with every `app.route(...)` chained on `app`
 * (so `typeof app` carries it) or comes from `defineRoutes`; `WshubClient<Routes>` reads
 * it to check `request()`'s data and type its reply. Nothing here exists at run time.
 */

/** One route as a client sees it: the `data` it takes, and its replies by `message_type`. */
export interface RouteEntry<Data = unknown, Replies = {}> {
  data: Data
  replies: Replies
}

/** Message types to routes. */
export type RouteMap = { [type: string]: RouteEntry<any, any> }

/** The `ack` a request gets when its handler sends no reply of its own, or when it was a repeat (dedup). */
export interface AckData {
  status: 'ok'
  /** True when the request was a repeat of one already processed (PROTOCOL.md section 5). */
  duplicate?: boolean
}

/** A member of a room, as `room_members` lists it. */
export interface MemberInfo {
  client_id: string
  user_id: string | null
  node_id: string
}

/** The `room_message` a member receives. */
export interface RoomMessageData<Content = unknown> {
  room_id: string
  content: Content
  sender_id: string
  sender_user_id: string | null
  /** The room-wide offset, where the room keeps history. */
  offset?: number
}

/** The `direct_message` the target receives. */
export interface DirectMessageData<Content = unknown> {
  content: Content
  sender_id: string
  sender_user_id: string | null
  /** Present when it was sent to a user (`target_user_id`), not to this connection alone. */
  target_user_id?: string
}

/** `member_joined` / `member_left`, where presence events are on. */
export interface PresenceData {
  room_id: string
  client_id: string
  user_id: string | null
}

/** The built-in message types (PROTOCOL.md section 3), as every wshub node routes them. */
export type BuiltinRoutes = {
  ping: RouteEntry<{ ts?: number } | null | undefined, { pong: { ts: unknown; server_ts: number } }>
  join_room: RouteEntry<{ room_id: string; since?: number | null }, { room_joined: { room_id: string; status: 'joined'; members: number; recovered?: boolean } }>
  leave_room: RouteEntry<{ room_id: string }, { room_left: { room_id: string; status: 'left' } }>
  room_message: RouteEntry<{ room_id: string; content: unknown }, { ack: AckData }>
  /** One of `target_id` (a client) or `target_user_id` (every connection of a user). */
  direct_message: RouteEntry<{ target_id?: string; target_user_id?: string; content: unknown }, { ack: AckData }>
  room_members: RouteEntry<{ room_id: string }, { room_members: { room_id: string; members: MemberInfo[] } }>
  auth: RouteEntry<{ token: string }, { auth_ok: { user_id: string | null; expires_at: number | null } }>
}

/** What the server sends without being asked, by `message_type`, on every node. */
export type BuiltinEvents = {
  room_message: RoomMessageData
  direct_message: DirectMessageData
  broadcast: { message: unknown }
  member_joined: PresenceData
  member_left: PresenceData
  room_left: { room_id: string; status: 'left'; reason?: 'deleted' }
  error: { code: number; message: string; details?: unknown }
}

/** A route map with `type` (re)defined as `entry`. */
export type WithRoute<Routes, Type extends string, Entry> = { [K in keyof Routes as K extends Type ? never : K]: Routes[K] } & { [K in Type]: Entry }
