/**
 * The cluster state in NATS JetStream KV (the server must run with JetStream, `-js`).
 * Data model, buckets named from `cluster.prefix` (`<p>` below, made bucket-safe):
 *
 * | bucket, key | holds |
 * | --- | --- |
 * | `<p>_state`, `r.<room>` | the room: `{record, members: {client id: MemberRecord}}`, one document, so a join checks `max_clients` and writes in one revision-checked update |
 * | `<p>_state`, `c.<node>.<suffix>` | a ClientRecord (client ids are `<node>.<suffix>`: one node's clients list by `c.<node>.>`) |
 * | `<p>_state`, `cr.<node>.<suffix>` | the rooms of a client (an index, written after the room document) |
 * | `<p>_state`, `u.<user>.<node>.<suffix>` | one client of a user (an index: its client record decides whether it is live) |
 * | `<p>_state`, `n.<node>` | a NodeRecord with its TTL (lib/cluster/nats-nodes.ts) |
 * | `<p>_state`, `offset-epoch` | where new history counters start (lib/cluster/nats-offset-epoch.ts) |
 * | `<p>_dedup`, `<p>_rate` | dedup outcomes and token buckets (lib/cluster/nats-expiring.ts) |
 * | history | see lib/cluster/nats-history.ts |
 *
 * Every read-modify-write is a compare-and-set on one key's revision (nats-kv.ts). Room
 * ids and other free-form keys are key tokens (plain, or `=` + base64url).
 * Listing (rooms, clients) reads every key of its kind: fine for thousands, not millions.
 */
import { jetstream, type JetStreamManager } from '@nats-io/jetstream'
import type { Kvm, KV } from '@nats-io/kv'
import { checkReplicas, ReplicatedKvm } from './nats-replicas.js'
import type { Logger } from 'pino'
import { isNatsUnreachable, openNats, watchConnection, type NatsConnection } from '../bus/nats-client.js'
import { bucketOptions, clientKey, clientOfKey, compareAndSet, forget, listKeys, token, valueOf, type RoomDoc } from './nats-kv.js'
import { KvHistory, StreamHistory, type History } from './nats-history.js'
import { NatsNodes } from './nats-nodes.js'
import { NatsExpiring } from './nats-expiring.js'
import { learnOffsetEpoch, type OffsetEpoch } from './nats-offset-epoch.js'
import {
  StateUnavailableError,
  type ClientRecord, type ClusterState, type DedupOutcome, type DedupPending, type HistoryEntry, type HistoryReplay, type JoinOutcome, type MemberRecord, type NodeRecord, type RoomRecord,
} from './state.js'

export interface NatsStateOptions {
  /** Keep room history in a JetStream stream (true) or in KV documents (false). */
  jetstream?: boolean
  /** Copies of each bucket and of the history stream in a NATS cluster (`cluster.nats.replicas`, default 1). */
  replicas?: number
  log?: Logger
}

export class NatsState implements ClusterState {
  private nc: NatsConnection | null = null
  private kv!: KV
  private jsm!: JetStreamManager
  private expiring!: NatsExpiring
  private nodeList!: NatsNodes
  private historyStore!: History
  private epoch: OffsetEpoch | null = null
  private up = false
  private readonly bucket: string
  private readonly lostListeners: Array<() => void> = []

  /**
   * @example
   * ```ts
   * const state = new NatsState(['nats://127.0.0.1:4222'], 'wshub', { jetstream: true })
   * await state.connect()
   * ```
   */
  constructor(private readonly servers: string[], prefix: string, private readonly options: NatsStateOptions = {}) {
    this.bucket = prefix.replace(/[^A-Za-z0-9_-]/g, '_')
  }

  async connect(): Promise<void> {
    const nc = (this.nc = await openNats(this.servers, 'wshub-state', 'cluster state'))
    try {
      checkReplicas(nc.info?.version, this.options.replicas ?? 1)
    } catch (err) {
      await this.close()
      throw err
    }
    // Generous: a loaded server may take a while to make a bucket; an outage is caught by `up`, not by this.
    const js = jetstream(nc, { timeout: 5000 })
    const kvm = new ReplicatedKvm(js, this.options.replicas ?? 1)
    try {
      this.kv = await kvm.create(`${this.bucket}_state`, bucketOptions)
      this.jsm = await js.jetstreamManager()
      this.expiring = new NatsExpiring(kvm, this.bucket)
      await this.expiring.ensure()
      this.epoch = await learnOffsetEpoch(this.kv, null)
    } catch (err) {
      await this.close()
      throw new Error(`NATS JetStream KV is not available (run nats-server with -js): ${(err as Error).message}`)
    }
    this.nodeList = new NatsNodes((keys) => forget(this.jsm, `${this.bucket}_state`, keys))
    const base = async () => (this.epoch = await learnOffsetEpoch(this.kv, this.epoch)).base
    this.historyStore = this.options.jetstream ? new StreamHistory(js, this.kv, this.bucket, base, kvm.replicas) : new KvHistory(kvm, this.kv, this.bucket, base)
    this.up = true
    void watchConnection(nc, (connected) => {
      if (this.nc !== nc) return
      this.up = false
      if (connected) void this.reopen(nc, kvm)
      else for (const listener of this.lostListeners) listener()
    })
  }

  /**
   * After a reconnect: a server that came back without its JetStream data has no
   * buckets, so make them again before answering (the node then finds itself unknown
   * and writes itself back), and learn the offset epoch, setting a new one if the data
   * was lost. JetStream may need a moment after the server: retry.
   */
  private async reopen(nc: NatsConnection, kvm: Kvm): Promise<void> {
    while (this.nc === nc && !nc.isClosed()) {
      try {
        await kvm.create(`${this.bucket}_state`, bucketOptions)
        await this.expiring.ensure()
        this.epoch = await learnOffsetEpoch(this.kv, this.epoch)
        this.historyStore.reset()
        if (this.nc === nc) this.up = true
        return
      } catch (err) {
        this.options.log?.debug({ err: (err as Error).message }, 'nats state buckets not ready yet')
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
  }

  /** The replies of requests in flight are lost with the connection: a wrapper fails those calls now (BoundedState). */
  onConnectionLost(listener: () => void): void {
    this.lostListeners.push(listener)
  }

  async close(): Promise<void> {
    const nc = this.nc
    this.nc = null
    this.up = false
    if (nc !== null && !nc.isClosed()) await nc.close().catch(() => {})
  }

  /** Fails now rather than after a request timeout while NATS is away. */
  private state(): KV {
    if (!this.up) throw new StateUnavailableError('the cluster state (NATS) is out of reach: disconnected')
    return this.kv
  }

  async createRoom(room: RoomRecord): Promise<boolean> {
    return compareAndSet<RoomDoc, boolean>(this.state(), `r.${token(room.id)}`, (doc) => (doc === null ? { next: { record: room, members: {} }, result: true } : { result: false }))
  }

  async getRoom(id: string): Promise<RoomRecord | null> {
    return valueOf<RoomDoc>(await this.state().get(`r.${token(id)}`))?.record ?? null
  }

  async deleteRoom(id: string): Promise<MemberRecord[] | null> {
    const members = await compareAndSet<RoomDoc, MemberRecord[] | null>(this.state(), `r.${token(id)}`, (doc) =>
      doc === null ? { result: null } : { next: null, result: Object.values(doc.members) },
    )
    if (members === null) return null
    await Promise.all([...members.map((m) => this.unindex(m.client_id, id)), this.historyStore.drop(id)])
    return members
  }

  async listRooms(): Promise<Array<RoomRecord & { members: number }>> {
    const kv = this.state()
    const docs = await Promise.all((await listKeys(kv, 'r.>')).map(async (key) => valueOf<RoomDoc>(await kv.get(key))))
    return docs.filter((doc): doc is RoomDoc => doc !== null).map((doc) => ({ ...doc.record, members: Object.keys(doc.members).length }))
  }

  async join(roomId: string, member: MemberRecord, autoCreate: RoomRecord | null): Promise<JoinOutcome> {
    const outcome = await compareAndSet<RoomDoc, JoinOutcome>(this.state(), `r.${token(roomId)}`, (doc) => {
      const created = doc === null
      if (doc === null) {
        if (autoCreate === null) return { result: { status: 'not_found' } }
        doc = { record: autoCreate, members: {} }
      }
      if (doc.members[member.client_id] !== undefined) return { result: { status: 'already_member' } }
      const count = Object.keys(doc.members).length
      if (doc.record.max_clients > 0 && count >= doc.record.max_clients) return { result: { status: 'full' } }
      return {
        next: { record: doc.record, members: { ...doc.members, [member.client_id]: member } },
        result: { status: 'joined', members: count + 1, created, room: doc.record },
      }
    })
    if (outcome.status === 'joined') await this.index(member.client_id, roomId)
    return outcome
  }

  async leave(roomId: string, clientId: string): Promise<boolean> {
    const left = await this.removeMember(roomId, clientId)
    await this.unindex(clientId, roomId)
    return left
  }

  private removeMember(roomId: string, clientId: string): Promise<boolean> {
    return compareAndSet<RoomDoc, boolean>(this.state(), `r.${token(roomId)}`, (doc) => {
      if (doc === null || doc.members[clientId] === undefined) return { result: false }
      const members = { ...doc.members }
      delete members[clientId]
      return { next: { record: doc.record, members }, result: true }
    })
  }

  private index(clientId: string, roomId: string): Promise<void> {
    return compareAndSet<string[], void>(this.state(), clientKey('cr', clientId), (rooms) =>
      rooms?.includes(roomId) ? { result: undefined } : { next: [...(rooms ?? []), roomId], result: undefined },
    )
  }

  private unindex(clientId: string, roomId: string): Promise<void> {
    return compareAndSet<string[], void>(this.state(), clientKey('cr', clientId), (rooms) => {
      if (rooms === null || !rooms.includes(roomId)) return { result: undefined }
      const rest = rooms.filter((r) => r !== roomId)
      return { next: rest.length === 0 ? null : rest, result: undefined }
    })
  }

  async members(roomId: string): Promise<MemberRecord[] | null> {
    const doc = valueOf<RoomDoc>(await this.state().get(`r.${token(roomId)}`))
    return doc === null ? null : Object.values(doc.members)
  }

  async addClient(client: ClientRecord): Promise<void> {
    const kv = this.state()
    await kv.put(clientKey('c', client.client_id), JSON.stringify(client))
    if (client.user_id !== null) await kv.put(userKey(client.user_id, client.client_id), '1')
  }

  async removeClient(clientId: string): Promise<void> {
    const kv = this.state()
    const [rooms, record] = await Promise.all([kv.get(clientKey('cr', clientId)), kv.get(clientKey('c', clientId))])
    await Promise.all((valueOf<string[]>(rooms) ?? []).map((room) => this.removeMember(room, clientId)))
    const user = valueOf<ClientRecord>(record)?.user_id ?? null
    await forget(this.jsm, `${this.bucket}_state`, [clientKey('cr', clientId), clientKey('c', clientId), ...(user === null ? [] : [userKey(user, clientId)])])
  }

  // The index may name clients gone without removeClient (swept with a dead node, or a
  // user id changed by updateClient): the client record decides, and stale keys go.
  async clientsOfUser(userId: string): Promise<ClientRecord[]> {
    const kv = this.state()
    const prefix = `u.${token(userId)}.`
    const keys = await listKeys(kv, `${prefix}>`)
    const found = await Promise.all(keys.map(async (key) => ({ key, record: valueOf<ClientRecord>(await kv.get(clientKey('c', clientOfKey(`c.${key.slice(prefix.length)}`)))) })))
    const stale = found.filter(({ record }) => record === null || record.user_id !== userId).map(({ key }) => key)
    if (stale.length > 0) await forget(this.jsm, `${this.bucket}_state`, stale)
    return found.flatMap(({ record }) => (record !== null && record.user_id === userId ? [record] : []))
  }

  // Each key by its own revision check: a client that left meanwhile is not written back,
  // nor a member that left one of its rooms.
  async updateClient(client: ClientRecord): Promise<boolean> {
    const kv = this.state()
    const id = client.client_id
    const known = await compareAndSet<ClientRecord, boolean>(kv, clientKey('c', id), (current) => (current === null ? { result: false } : { next: client, result: true }))
    if (!known) return false
    // The previous user's key is left for clientsOfUser to find stale and forget.
    if (client.user_id !== null) await kv.put(userKey(client.user_id, id), '1')
    const member: MemberRecord = { client_id: id, user_id: client.user_id, node_id: client.node_id }
    const rooms = valueOf<string[]>(await kv.get(clientKey('cr', id))) ?? []
    await Promise.all(
      rooms.map((room) =>
        compareAndSet<RoomDoc, void>(kv, `r.${token(room)}`, (doc) =>
          doc === null || doc.members[id] === undefined ? { result: undefined } : { next: { record: doc.record, members: { ...doc.members, [id]: member } }, result: undefined },
        ),
      ),
    )
    return true
  }

  async getClient(clientId: string): Promise<ClientRecord | null> {
    return valueOf<ClientRecord>(await this.state().get(clientKey('c', clientId)))
  }

  async listClients(limit: number, cursor: string | null): Promise<{ clients: ClientRecord[]; next: string | null }> {
    const kv = this.state()
    const ids = (await listKeys(kv, 'c.>')).map(clientOfKey).sort()
    const start = cursor === null ? 0 : ids.findIndex((id) => id > cursor)
    if (start === -1) return { clients: [], next: null }
    const page = ids.slice(start, start + limit)
    const records = await Promise.all(page.map(async (id) => valueOf<ClientRecord>(await kv.get(clientKey('c', id)))))
    return { clients: records.filter((r): r is ClientRecord => r !== null), next: start + limit < ids.length ? page[page.length - 1]! : null }
  }

  async countClients(): Promise<number> {
    return (await listKeys(this.state(), 'c.>')).length
  }

  async roomsOf(clientId: string): Promise<string[]> {
    return valueOf<string[]>(await this.state().get(clientKey('cr', clientId))) ?? []
  }

  async clientsOfNode(nodeId: string): Promise<string[]> {
    const kv = this.state()
    const node = token(nodeId)
    const keys = [...(await listKeys(kv, `c.${node}.>`)), ...(await listKeys(kv, `cr.${node}.>`))]
    return [...new Set(keys.map(clientOfKey))]
  }

  async heartbeat(node: NodeRecord, ttlMs: number): Promise<boolean> {
    return this.nodeList.heartbeat(this.state(), node, ttlMs)
  }

  async nodes(): Promise<NodeRecord[]> {
    return this.nodeList.live(this.state())
  }

  async sweepDeadNodes(_ttlMs: number): Promise<Array<{ room: string; member: MemberRecord }>> {
    return this.nodeList.sweep(this.state())
  }

  async dedupClaim(key: string, ttlMs: number): Promise<DedupOutcome | DedupPending | null> {
    this.state()
    return this.expiring.dedupClaim(key, ttlMs)
  }

  async dedupSettle(key: string, outcome: DedupOutcome, ttlMs: number): Promise<void> {
    this.state()
    return this.expiring.dedupSettle(key, outcome, ttlMs)
  }

  async takeToken(key: string, rate: number, burst: number): Promise<number> {
    this.state()
    return this.expiring.takeToken(key, rate, burst)
  }

  async appendHistory(roomId: string, size: number, makeFrame: (offset: number) => string): Promise<HistoryEntry> {
    this.state()
    try {
      return await this.historyStore.append(roomId, size, makeFrame)
    } catch (err) {
      // The connection may have dropped under the call, whatever the error it ended with.
      if (err instanceof StateUnavailableError || !(isNatsUnreachable(err) || !this.up)) throw err
      throw new StateUnavailableError(`the cluster state (NATS) is out of reach: ${(err as Error).message}`, { cause: err })
    }
  }

  async history(roomId: string, since: number): Promise<HistoryReplay> {
    this.state()
    return this.historyStore.read(roomId, since)
  }
}

/** `u.<user token>.<node>.<suffix>`: one client of a user, listed by `u.<user token>.>`. */
function userKey(userId: string, clientId: string): string {
  return `u.${token(userId)}.${clientKey('c', clientId).slice(2)}`
}
