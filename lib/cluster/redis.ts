/**
 * The cluster state in Redis. Data model, every key under the hash tag `{prefix}` but the
 * dedup and token-bucket keys, each tagged by its own id:
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `{p}:rooms` | hash | room id → RoomRecord JSON |
 * | `{p}:m:<room>` | hash | client id → MemberRecord JSON (the room's members) |
 * | `{p}:cr:<client>` | set | the rooms of one client |
 * | `{p}:nc:<node>` | set | the clients of one node (for the sweep) |
 * | `{p}:clients` | hash | client id → ClientRecord JSON |
 * | `{p}:client-ids` | sorted set | client ids, all score 0: lexical order for cursor paging |
 * | `{p}:uc:<user>` | set | the clients of one user (users as targets, `auth.max_connections_per_user`) |
 * | `{p}:nodes` | hash | node id → NodeRecord JSON |
 * | `{p}:node-expiry` | sorted set | node id → when it dies without a heartbeat (server ms) |
 * | `p:d:{<key>}` | string, PX | a dedup outcome, expiring with the window |
 * | `p:tb:{<key>}` | hash, PX | a token bucket: tokens, at |
 * | `{p}:h:<room>` | sorted set | the room's history: offset → frame |
 * | `{p}:hn:<room>` | string | the room's last offset (INCR) |
 * | `{p}:offset-epoch` | string | `<base>:<stamp>`: new history counters start at the base, 0 or the time (µs) the state was found lost |
 *
 * Join, leave, client removal and update, room deletion, the heartbeat, the sweep and
 * the token bucket are Lua scripts (lib/cluster/redis-scripts.ts), each atomic.
 *
 * History is a sorted set and a counter rather than a stream: the offset is taken
 * (INCR) before the frame that carries it is made, so two nodes may append out of
 * order; a stream refuses an id below its last, a sorted set orders by offset whatever
 * the arrival order. A Redis without persistence that restarts loses every counter; the
 * offset epoch makes the counters made after that start above every offset given before
 * (redis-scripts.ts, `nextOffset`), so a `since` from before the loss answers
 * `recovered: false` however many messages the room got since. The shared hash tag
 * keeps one cluster's keys in one slot (docs/cluster.md, "Redis Cluster"): every script
 * touches that one slot, including the keys it names at run time (a room's members in
 * the sweep), so the scripts stay atomic across rooms, clients and nodes on a Redis
 * Cluster too; the bus, the per-message load, spreads over the shards, and so do the
 * dedup claims and token buckets (a claim or a take per frame where they are shared),
 * which every call touches alone.
 */
import type { Logger } from 'pino'
import { connectRedis, isRedisUnreachable, openRedis, watchSilence, type RedisClient, type RedisTarget } from '../bus/redis-client.js'
import * as scripts from './redis-scripts.js'
import {
  MissingRoomError, StateUnavailableError,
  type ClientRecord, type ClusterState, type DedupOutcome, type DedupPending, type HistoryEntry, type HistoryReplay, type JoinOutcome, type MemberRecord, type NodeRecord, type RoomRecord,
} from './state.js'

type Script = (...args: Array<string | number>) => Promise<unknown>

const pending = JSON.stringify({ pending: true } satisfies DedupPending)

export class RedisState implements ClusterState {
  private readonly redis: RedisClient
  /** `{prefix}:`: every key of the shared slot starts with it. */
  private readonly k: string
  /** `prefix:`: the dedup and token-bucket keys start with it, and carry their own tag. */
  private readonly spread: string
  private readonly script: Record<keyof typeof scripts, Script>
  /** The offset epoch this node knows (redis-scripts.ts, `epochOf`); null until it has asked. */
  private epoch: string | null = null
  private stopWatch: () => void = () => {}

  /**
   * @example
   * ```ts
   * const state = new RedisState('redis://127.0.0.1:6379', 'wshub')
   * // or through Sentinels:
   * // new RedisState({ mode: 'sentinel', url: 'redis://', sentinels: ['127.0.0.1:26379'], masterName: 'mymaster' }, 'wshub')
   * await state.connect()
   * ```
   */
  constructor(private readonly target: RedisTarget | string, prefix: string, log?: Logger) {
    this.redis = openRedis(target, 'wshub-state', log)
    this.k = `{${prefix}}:`
    this.spread = `${prefix}:`
    const numberOfKeys: Record<keyof typeof scripts, number> = {
      join: 4, leave: 2, removeClient: 4, updateClient: 2, deleteRoom: 2, heartbeat: 2, liveNodes: 2, sweep: 4, takeToken: 1, offsetEpoch: 1, nextOffset: 3, appendHistory: 2, readHistory: 2,
    }
    this.script = {} as Record<keyof typeof scripts, Script>
    for (const name of Object.keys(numberOfKeys) as Array<keyof typeof scripts>) {
      // defineCommand runs EVALSHA and falls back to EVAL, so a restarted Redis needs nothing.
      this.redis.defineCommand(`wshub_${name}`, { numberOfKeys: numberOfKeys[name], lua: scripts[name] })
      const command = (this.redis as unknown as Record<string, Script>)[`wshub_${name}`]!
      this.script[name] = command.bind(this.redis)
    }
  }

  async connect(): Promise<void> {
    await connectRedis(this.redis, 'cluster state', this.target)
    await this.learnEpoch()
    // Redis may come back empty: set the epoch again on reconnect, before a node that
    // never knew it (one starting now) writes 0 and makes counters from there. A failure
    // costs nothing: every append checks the epoch in the same step.
    this.redis.on('ready', () => void this.learnEpoch().catch(() => {}))
    // A stalled link fails each command after the command timeout but keeps the connection: make it again.
    this.stopWatch = watchSilence(this.redis, 1000, 2000)
  }

  // One connection answers in order and the epoch only moves forward: the last answer is the latest.
  private async learnEpoch(): Promise<void> {
    this.epoch = (await this.script.offsetEpoch(`${this.k}offset-epoch`, this.epoch ?? '')) as string
  }

  async close(): Promise<void> {
    this.stopWatch()
    this.redis.disconnect()
  }

  async createRoom(room: RoomRecord): Promise<boolean> {
    return (await this.redis.hsetnx(`${this.k}rooms`, room.id, JSON.stringify(room))) === 1
  }

  async getRoom(id: string): Promise<RoomRecord | null> {
    const json = await this.redis.hget(`${this.k}rooms`, id)
    return json === null ? null : (JSON.parse(json) as RoomRecord)
  }

  async deleteRoom(id: string): Promise<MemberRecord[] | null> {
    const members = (await this.script.deleteRoom(`${this.k}rooms`, `${this.k}m:${id}`, this.k, id)) as string[] | null
    return members === null ? null : members.map((json) => JSON.parse(json) as MemberRecord)
  }

  async listRooms(): Promise<Array<RoomRecord & { members: number }>> {
    const rooms = Object.values(await this.redis.hgetall(`${this.k}rooms`)).map((json) => JSON.parse(json) as RoomRecord)
    if (rooms.length === 0) return []
    const pipeline = this.redis.pipeline()
    for (const room of rooms) pipeline.hlen(`${this.k}m:${room.id}`)
    const counts = (await pipeline.exec()) ?? []
    return rooms.map((room, i) => ({ ...room, members: Number(counts[i]?.[1] ?? 0) }))
  }

  async join(roomId: string, member: MemberRecord, autoCreate: RoomRecord | null): Promise<JoinOutcome> {
    const k = this.k
    const result = (await this.script.join(
      `${k}rooms`, `${k}m:${roomId}`, `${k}cr:${member.client_id}`, `${k}nc:${member.node_id}`,
      roomId, member.client_id, JSON.stringify(member), autoCreate === null ? '' : JSON.stringify(autoCreate),
    )) as [string, number?, number?, string?]
    const status = result[0]
    if (status === 'joined') return { status, members: result[1]!, created: result[2] === 1, room: JSON.parse(result[3]!) as RoomRecord }
    return { status: status as 'not_found' | 'full' | 'already_member' }
  }

  async leave(roomId: string, clientId: string): Promise<boolean> {
    return (await this.script.leave(`${this.k}m:${roomId}`, `${this.k}cr:${clientId}`, roomId, clientId)) === 1
  }

  async members(roomId: string): Promise<MemberRecord[] | null> {
    const [[, exists], [, values]] = (await this.redis.multi().hexists(`${this.k}rooms`, roomId).hvals(`${this.k}m:${roomId}`).exec()) as [[unknown, number], [unknown, string[]]]
    return exists === 1 ? values.map((json) => JSON.parse(json) as MemberRecord) : null
  }

  async addClient(client: ClientRecord): Promise<void> {
    const multi = this.redis
      .multi()
      .hset(`${this.k}clients`, client.client_id, JSON.stringify(client))
      .zadd(`${this.k}client-ids`, 0, client.client_id)
      .sadd(`${this.k}nc:${client.node_id}`, client.client_id)
    if (client.user_id !== null) multi.sadd(`${this.k}uc:${client.user_id}`, client.client_id)
    await multi.exec()
  }

  async clientsOfUser(userId: string): Promise<ClientRecord[]> {
    const ids = await this.redis.smembers(`${this.k}uc:${userId}`)
    if (ids.length === 0) return []
    const records = await this.redis.hmget(`${this.k}clients`, ...ids)
    return records.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as ClientRecord)
  }

  async removeClient(clientId: string): Promise<void> {
    const k = this.k
    await this.script.removeClient(`${k}clients`, `${k}client-ids`, `${k}cr:${clientId}`, `${k}nc:${nodeOf(clientId)}`, k, clientId)
  }

  async updateClient(client: ClientRecord): Promise<boolean> {
    const { client_id, user_id, node_id } = client
    const member = JSON.stringify({ client_id, user_id, node_id })
    return (await this.script.updateClient(`${this.k}clients`, `${this.k}cr:${client_id}`, this.k, client_id, JSON.stringify(client), member)) === 1
  }

  async getClient(clientId: string): Promise<ClientRecord | null> {
    const json = await this.redis.hget(`${this.k}clients`, clientId)
    return json === null ? null : (JSON.parse(json) as ClientRecord)
  }

  async listClients(limit: number, cursor: string | null): Promise<{ clients: ClientRecord[]; next: string | null }> {
    const ids = await this.redis.zrangebylex(`${this.k}client-ids`, cursor === null ? '-' : `(${cursor}`, '+', 'LIMIT', 0, limit + 1)
    const more = ids.length > limit
    if (more) ids.length = limit
    if (ids.length === 0) return { clients: [], next: null }
    const records = await this.redis.hmget(`${this.k}clients`, ...ids)
    const clients = records.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as ClientRecord)
    return { clients, next: more ? ids[ids.length - 1]! : null }
  }

  async countClients(): Promise<number> {
    return this.redis.hlen(`${this.k}clients`)
  }

  async roomsOf(clientId: string): Promise<string[]> {
    return this.redis.smembers(`${this.k}cr:${clientId}`)
  }

  async clientsOfNode(nodeId: string): Promise<string[]> {
    return this.redis.smembers(`${this.k}nc:${nodeId}`)
  }

  async heartbeat(node: NodeRecord, ttlMs: number): Promise<boolean> {
    return (await this.script.heartbeat(`${this.k}node-expiry`, `${this.k}nodes`, node.node_id, JSON.stringify(node), ttlMs)) === 1
  }

  async nodes(): Promise<NodeRecord[]> {
    const records = (await this.script.liveNodes(`${this.k}node-expiry`, `${this.k}nodes`)) as Array<string | null>
    return records.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as NodeRecord)
  }

  // The expiry each node wrote with its heartbeat decides, not `_ttlMs`: a node beats with its own TTL.
  async sweepDeadNodes(_ttlMs: number): Promise<Array<{ room: string; member: MemberRecord }>> {
    const k = this.k
    const flat = (await this.script.sweep(`${k}node-expiry`, `${k}nodes`, `${k}clients`, `${k}client-ids`, k)) as string[]
    const removed: Array<{ room: string; member: MemberRecord }> = []
    for (let i = 0; i < flat.length; i += 2) removed.push({ room: flat[i]!, member: JSON.parse(flat[i + 1]!) as MemberRecord })
    return removed
  }

  async dedupClaim(key: string, ttlMs: number): Promise<DedupOutcome | DedupPending | null> {
    const redisKey = `${this.spread}d:{${key}}`
    if ((await this.redis.set(redisKey, pending, 'PX', ttlMs, 'NX')) === 'OK') return null
    const earlier = await this.redis.get(redisKey)
    // Expired between the two commands: claim it again (another claim in between is pending).
    if (earlier === null) return (await this.redis.set(redisKey, pending, 'PX', ttlMs, 'NX')) === 'OK' ? null : { pending: true }
    return JSON.parse(earlier) as DedupOutcome | DedupPending
  }

  async dedupSettle(key: string, outcome: DedupOutcome, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.spread}d:{${key}}`, JSON.stringify(outcome), 'PX', ttlMs)
  }

  async takeToken(key: string, rate: number, burst: number): Promise<number> {
    return Number(await this.script.takeToken(`${this.spread}tb:{${key}}`, rate, burst))
  }

  async appendHistory(roomId: string, size: number, makeFrame: (offset: number) => string): Promise<HistoryEntry> {
    const k = this.k
    const taken = (await reach(this.script.nextOffset(`${k}rooms`, `${k}hn:${roomId}`, `${k}offset-epoch`, roomId, this.epoch ?? ''))) as [number, string] | null
    if (taken === null) throw new MissingRoomError(roomId)
    const [offset, epoch] = taken
    this.epoch = epoch
    const frame = makeFrame(offset)
    if ((await reach(this.script.appendHistory(`${k}h:${roomId}`, `${k}offset-epoch`, offset, frame, size, epoch))) === 0) {
      // Redis went away and came back empty between the two steps: the offset belongs to
      // the history that was lost, and kept in the new one it would sit below its offsets.
      throw new StateUnavailableError(`the history of room ${roomId} was lost (Redis came back empty) while this message was written`)
    }
    return { offset, frame }
  }

  async history(roomId: string, since: number): Promise<HistoryReplay> {
    const out = (await this.script.readHistory(`${this.k}h:${roomId}`, `${this.k}hn:${roomId}`, since)) as Array<number | string>
    const last = out[0] as number
    const first = out[1] as number
    // A `since` past the last offset written was seen before the history was lost (a Redis that came back empty).
    if (since > last) return { recovered: false, entries: [] }
    if (since < last && (first === -1 || first > since + 1)) return { recovered: false, entries: [] }
    const entries: HistoryEntry[] = []
    for (let i = 2; i < out.length; i += 2) entries.push({ offset: out[i] as number, frame: out[i + 1] as string })
    return { recovered: true, entries }
  }
}

/** A Redis call whose failure for want of Redis becomes a {@link StateUnavailableError}. */
async function reach<T>(call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (err) {
    if (isRedisUnreachable(err)) throw new StateUnavailableError(`the cluster state (Redis) is out of reach: ${(err as Error).message}`, { cause: err })
    throw err
  }
}

function nodeOf(clientId: string): string {
  const dot = clientId.indexOf('.')
  return dot > 0 ? clientId.slice(0, dot) : clientId
}
