/**
 * The shared state of a cluster: room records, membership (with `max_clients` checked
 * atomically cluster-wide), the client registry, node heartbeats and the sweep of dead
 * nodes, user-level dedup keys, per-user rate buckets and room history. Every
 * implementation (memory, redis, nats) passes test/unit/state-contract.
 */

/** A room as the cluster knows it. `presence_events: null` follows `rooms.presence_events`. */
export interface RoomRecord {
  id: string
  name: string
  max_clients: number
  presence_events: boolean | null
  created_at: number
}

/** One member of a room: a connection somewhere in the cluster. */
export interface MemberRecord {
  client_id: string
  user_id: string | null
  node_id: string
}

/** A connection as the cluster knows it. */
export type ClientRecord = MemberRecord & { connected_at: number }

/** A live node. */
export interface NodeRecord {
  node_id: string
  started_at: number
  seen_at: number
  clients: number
  /** Its bus as of `seen_at` (absent from nodes older than the field). */
  bus?: 'up' | 'down'
  /** Frames it received and wrote since it started, as of `seen_at`: the dashboard's messages per second. */
  frames_in?: number
  frames_out?: number
}

export type JoinOutcome =
  | { status: 'joined'; members: number; created: boolean; room: RoomRecord }
  | { status: 'not_found' }
  | { status: 'full' }
  | { status: 'already_member' }

/** What a join answers (`ctx.join`, `join_room`): the room's member count and, when `since` was given, whether the gap was recovered. */
export interface JoinResult {
  members: number
  recovered: boolean | null
}

/** A remembered outcome of a request, for dedup: ok, or the error it ended with. */
export type DedupOutcome = { ok: true } | { ok: false; code: number; message: string }

/** What a dedup key holds while the first request with it is still running. */
export interface DedupPending {
  pending: true
}

export interface HistoryEntry {
  offset: number
  frame: string
}

/** What `history` answers: the entries after `since`, or `recovered: false` when the history no longer reaches back. */
export type HistoryReplay = { recovered: true; entries: HistoryEntry[] } | { recovered: false; entries: [] }

/**
 * The cluster state could not serve a call because it is out of reach: its server is
 * down or did not answer in time, or it went away and came back empty while the call
 * ran. Every other error is an answer (a refusal, a bug). What may go on without the
 * state does (a room message is still delivered on its node, without offset).
 */
export class StateUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'StateUnavailableError'
  }
}

/** The state holds no room of that id: never made, deleted, or lost with the state's data. */
export class MissingRoomError extends Error {
  constructor(readonly roomId: string) {
    super(`room ${roomId} does not exist`)
    this.name = 'MissingRoomError'
  }
}

export interface ClusterState {
  connect(): Promise<void>
  close(): Promise<void>
  /**
   * Optional: calls `listener` each time the state's connection drops, so a wrapper can
   * fail the calls in flight at once where their replies are lost with it (NATS: a
   * request's reply does not survive a reconnect). Redis, which sends unanswered
   * commands again after a reconnect, does not offer it.
   */
  onConnectionLost?(listener: () => void): void

  createRoom(room: RoomRecord): Promise<boolean>
  getRoom(id: string): Promise<RoomRecord | null>
  /** Deletes the room and its membership; resolves to the members it had, or null if none existed. */
  deleteRoom(id: string): Promise<MemberRecord[] | null>
  listRooms(): Promise<Array<RoomRecord & { members: number }>>

  /** Adds a member atomically: checks existence, membership and `max_clients` in one step; creates `autoCreate` when the room is missing. */
  join(roomId: string, member: MemberRecord, autoCreate: RoomRecord | null): Promise<JoinOutcome>
  /** Removes a member; resolves to whether it was one. */
  leave(roomId: string, clientId: string): Promise<boolean>
  /** The members, or null when the room does not exist. */
  members(roomId: string): Promise<MemberRecord[] | null>

  addClient(client: ClientRecord): Promise<void>
  removeClient(clientId: string): Promise<void>
  /**
   * Replaces the record of a client the state holds, and its member record in every room
   * it is in (an `auth` message changed its user id). Resolves to false, writing nothing,
   * for a client the state does not hold: one that left meanwhile must not come back.
   */
  updateClient(client: ClientRecord): Promise<boolean>
  getClient(clientId: string): Promise<ClientRecord | null>
  /** Every client of one user, on every node (the users-as-targets lookup, and `auth.max_connections_per_user`). */
  clientsOfUser(userId: string): Promise<ClientRecord[]>
  /** One page of clients ordered by id, starting after `cursor`. */
  listClients(limit: number, cursor: string | null): Promise<{ clients: ClientRecord[]; next: string | null }>
  countClients(): Promise<number>
  /** The rooms one client is in. */
  roomsOf(clientId: string): Promise<string[]>

  /** The ids of the clients (and members) the state holds for one node. */
  clientsOfNode(nodeId: string): Promise<string[]>

  /**
   * Records this node as alive for `ttlMs` (it beats every third of the TTL). Resolves
   * to whether the state already knew the node: false on its first beat, and after the
   * state lost it (a Redis restarted empty) or swept it (a node silent past its TTL),
   * when the node must write its clients and memberships back. A TTL of 0 says the node
   * is leaving: it is gone from `nodes()` at once and the next sweep removes what it held.
   */
  heartbeat(node: NodeRecord, ttlMs: number): Promise<boolean>
  nodes(): Promise<NodeRecord[]>
  /** Removes every member and client of nodes not seen within their TTL; resolves to the removed memberships. */
  sweepDeadNodes(ttlMs: number): Promise<Array<{ room: string; member: MemberRecord }>>

  /**
   * Remembers a request key for `ttlMs` as pending; resolves to null when the key was new,
   * else to what it holds: the first request's outcome, or `{pending: true}` while that
   * request has not settled.
   */
  dedupClaim(key: string, ttlMs: number): Promise<DedupOutcome | DedupPending | null>
  dedupSettle(key: string, outcome: DedupOutcome, ttlMs: number): Promise<void>

  /** Takes one token from a cluster-wide bucket; resolves to ms until one is free (0 = taken). */
  takeToken(key: string, rate: number, burst: number): Promise<number>

  /**
   * Appends a frame to a room's history; `makeFrame` gets the new offset and returns the
   * frame to keep and deliver. Rejects with {@link StateUnavailableError} when the state
   * is out of reach, or lost the room's history while the frame was written (the frame is
   * then kept nowhere); with {@link MissingRoomError} when the room does not exist.
   */
  appendHistory(roomId: string, size: number, makeFrame: (offset: number) => string): Promise<HistoryEntry>
  history(roomId: string, since: number): Promise<HistoryReplay>
}
