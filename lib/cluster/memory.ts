/**
 * Cluster state in this process: the embedded default. Several nodes in one process
 * share it by passing the same instance, as they share a `MemoryHub` for the bus.
 */
import {
  MissingRoomError,
  type ClientRecord, type ClusterState, type DedupOutcome, type DedupPending, type HistoryEntry, type HistoryReplay, type JoinOutcome, type MemberRecord, type NodeRecord, type RoomRecord,
} from './state.js'

interface Room {
  record: RoomRecord
  members: Map<string, MemberRecord>
  history: HistoryEntry[]
  nextOffset: number
}

export class MemoryState implements ClusterState {
  private readonly rooms = new Map<string, Room>()
  private readonly clients = new Map<string, ClientRecord>()
  private readonly clientRooms = new Map<string, Set<string>>()
  /** user id → ids of its clients. */
  private readonly userClients = new Map<string, Set<string>>()
  private readonly nodeRecords = new Map<string, NodeRecord & { ttl: number }>()
  private readonly dedup = new Map<string, { outcome: DedupOutcome | DedupPending; expires: number }>()
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  async createRoom(room: RoomRecord): Promise<boolean> {
    if (this.rooms.has(room.id)) return false
    this.rooms.set(room.id, { record: room, members: new Map(), history: [], nextOffset: 1 })
    return true
  }

  async getRoom(id: string): Promise<RoomRecord | null> {
    return this.rooms.get(id)?.record ?? null
  }

  async deleteRoom(id: string): Promise<MemberRecord[] | null> {
    const room = this.rooms.get(id)
    if (room === undefined) return null
    this.rooms.delete(id)
    for (const clientId of room.members.keys()) this.clientRooms.get(clientId)?.delete(id)
    return [...room.members.values()]
  }

  async listRooms(): Promise<Array<RoomRecord & { members: number }>> {
    return [...this.rooms.values()].map((room) => ({ ...room.record, members: room.members.size }))
  }

  async join(roomId: string, member: MemberRecord, autoCreate: RoomRecord | null): Promise<JoinOutcome> {
    let room = this.rooms.get(roomId)
    let created = false
    if (room === undefined) {
      if (autoCreate === null) return { status: 'not_found' }
      room = { record: autoCreate, members: new Map(), history: [], nextOffset: 1 }
      this.rooms.set(roomId, room)
      created = true
    }
    if (room.members.has(member.client_id)) return { status: 'already_member' }
    if (room.record.max_clients > 0 && room.members.size >= room.record.max_clients) return { status: 'full' }
    room.members.set(member.client_id, member)
    let mine = this.clientRooms.get(member.client_id)
    if (mine === undefined) this.clientRooms.set(member.client_id, (mine = new Set()))
    mine.add(roomId)
    return { status: 'joined', members: room.members.size, created, room: room.record }
  }

  async leave(roomId: string, clientId: string): Promise<boolean> {
    this.clientRooms.get(clientId)?.delete(roomId)
    return this.rooms.get(roomId)?.members.delete(clientId) ?? false
  }

  async members(roomId: string): Promise<MemberRecord[] | null> {
    const room = this.rooms.get(roomId)
    return room === undefined ? null : [...room.members.values()]
  }

  async addClient(client: ClientRecord): Promise<void> {
    this.unindexUser(this.clients.get(client.client_id))
    this.clients.set(client.client_id, client)
    this.indexUser(client)
  }

  async removeClient(clientId: string): Promise<void> {
    this.unindexUser(this.clients.get(clientId))
    this.clients.delete(clientId)
    const rooms = this.clientRooms.get(clientId)
    if (rooms) for (const roomId of rooms) this.rooms.get(roomId)?.members.delete(clientId)
    this.clientRooms.delete(clientId)
  }

  async updateClient(client: ClientRecord): Promise<boolean> {
    if (!this.clients.has(client.client_id)) return false
    this.unindexUser(this.clients.get(client.client_id))
    this.clients.set(client.client_id, client)
    this.indexUser(client)
    const member = memberOf(client)
    // Records handed out before are the caller's: replaced, not changed in place.
    for (const roomId of this.clientRooms.get(client.client_id) ?? []) {
      const members = this.rooms.get(roomId)?.members
      if (members?.has(client.client_id)) members.set(client.client_id, member)
    }
    return true
  }

  async clientsOfUser(userId: string): Promise<ClientRecord[]> {
    return [...(this.userClients.get(userId) ?? [])].map((id) => this.clients.get(id)!)
  }

  private indexUser(client: ClientRecord): void {
    if (client.user_id === null) return
    let ids = this.userClients.get(client.user_id)
    if (ids === undefined) this.userClients.set(client.user_id, (ids = new Set()))
    ids.add(client.client_id)
  }

  private unindexUser(client: ClientRecord | undefined): void {
    if (client === undefined || client.user_id === null) return
    const ids = this.userClients.get(client.user_id)
    if (ids === undefined) return
    ids.delete(client.client_id)
    if (ids.size === 0) this.userClients.delete(client.user_id)
  }

  async getClient(clientId: string): Promise<ClientRecord | null> {
    return this.clients.get(clientId) ?? null
  }

  async listClients(limit: number, cursor: string | null): Promise<{ clients: ClientRecord[]; next: string | null }> {
    const ids = [...this.clients.keys()].sort()
    const start = cursor === null ? 0 : ids.findIndex((id) => id > cursor)
    const page = start === -1 ? [] : ids.slice(start, start + limit)
    const next = start !== -1 && start + limit < ids.length ? (page[page.length - 1] ?? null) : null
    return { clients: page.map((id) => this.clients.get(id)!), next }
  }

  async countClients(): Promise<number> {
    return this.clients.size
  }

  async roomsOf(clientId: string): Promise<string[]> {
    return [...(this.clientRooms.get(clientId) ?? [])]
  }

  async clientsOfNode(nodeId: string): Promise<string[]> {
    const ids = new Set<string>()
    for (const client of this.clients.values()) if (client.node_id === nodeId) ids.add(client.client_id)
    for (const room of this.rooms.values()) for (const member of room.members.values()) if (member.node_id === nodeId) ids.add(member.client_id)
    return [...ids]
  }

  async heartbeat(node: NodeRecord, ttlMs: number): Promise<boolean> {
    const known = this.nodeRecords.has(node.node_id)
    this.nodeRecords.set(node.node_id, { ...node, ttl: ttlMs })
    return known
  }

  async nodes(): Promise<NodeRecord[]> {
    const now = Date.now()
    return [...this.nodeRecords.values()].filter((n) => n.ttl > 0 && now - n.seen_at <= n.ttl).map(({ ttl: _ttl, ...node }) => node)
  }

  // Each node is judged by the TTL it beat with, as in the other implementations.
  async sweepDeadNodes(_ttlMs: number): Promise<Array<{ room: string; member: MemberRecord }>> {
    const now = Date.now()
    const dead = new Set<string>()
    for (const [id, node] of this.nodeRecords) if (node.ttl <= 0 || now - node.seen_at > node.ttl) dead.add(id)
    const removed: Array<{ room: string; member: MemberRecord }> = []
    if (dead.size === 0) return removed
    for (const id of dead) this.nodeRecords.delete(id)
    for (const [roomId, room] of this.rooms) {
      for (const member of room.members.values()) {
        if (dead.has(member.node_id)) {
          room.members.delete(member.client_id)
          removed.push({ room: roomId, member })
        }
      }
    }
    for (const client of this.clients.values()) {
      if (dead.has(client.node_id)) {
        this.unindexUser(client)
        this.clients.delete(client.client_id)
        this.clientRooms.delete(client.client_id)
      }
    }
    return removed
  }

  async dedupClaim(key: string, ttlMs: number): Promise<DedupOutcome | DedupPending | null> {
    const now = Date.now()
    const seen = this.dedup.get(key)
    if (seen !== undefined && seen.expires > now) return seen.outcome
    this.dedup.set(key, { outcome: { pending: true }, expires: now + ttlMs })
    if (this.dedup.size % 1024 === 0) this.expireDedup(now)
    return null
  }

  async dedupSettle(key: string, outcome: DedupOutcome, ttlMs: number): Promise<void> {
    this.dedup.set(key, { outcome, expires: Date.now() + ttlMs })
  }

  private expireDedup(now: number): void {
    for (const [key, entry] of this.dedup) if (entry.expires <= now) this.dedup.delete(key)
  }

  async takeToken(key: string, rate: number, burst: number): Promise<number> {
    const now = Date.now()
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000)
    bucket.at = now
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / rate)
  }

  async appendHistory(roomId: string, size: number, makeFrame: (offset: number) => string): Promise<HistoryEntry> {
    const room = this.rooms.get(roomId)
    if (room === undefined) throw new MissingRoomError(roomId)
    const offset = room.nextOffset++
    const entry = { offset, frame: makeFrame(offset) }
    room.history.push(entry)
    if (room.history.length > size) room.history.splice(0, room.history.length - size)
    return entry
  }

  async history(roomId: string, since: number): Promise<HistoryReplay> {
    const room = this.rooms.get(roomId)
    if (room === undefined) return since === 0 ? { recovered: true, entries: [] } : { recovered: false, entries: [] }
    const first = room.history[0]
    // Recoverable when nothing after `since` was dropped: the oldest kept is since+1 or
    // earlier, or nothing was ever written after `since`.
    // A `since` past the last offset written was seen before the history was lost.
    if (since >= room.nextOffset) return { recovered: false, entries: [] }
    if (since + 1 < room.nextOffset && (first === undefined || first.offset > since + 1)) return { recovered: false, entries: [] }
    return { recovered: true, entries: room.history.filter((entry) => entry.offset > since) }
  }
}

function memberOf({ client_id, user_id, node_id }: ClientRecord): MemberRecord {
  return { client_id, user_id, node_id }
}
