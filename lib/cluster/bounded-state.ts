/**
 * A bound on every call of a cluster state: one that has not settled within
 * `cluster.state_timeout_ms` fails with {@link StateUnavailableError}, so a client waiting
 * on it gets its answer in time (error 1003, or a room message without offset) instead of
 * waiting for whatever the state's client library waits for. Redis bounds each command
 * (2 s), but a call may chain several; JetStream bounds each request (5 s), but a call may
 * chain several, retry on contention for 30 s, or wait behind another call on the same
 * key. Where the state says its connection dropped (`onConnectionLost`: NATS), the calls
 * in flight fail then, not at the bound: their replies were lost with the connection. The
 * call itself is not cancelled: a write may still land after its caller gave up, as after
 * any timeout (docs/reliability.md).
 */
import {
  StateUnavailableError,
  type ClientRecord, type ClusterState, type DedupOutcome, type DedupPending, type HistoryEntry, type HistoryReplay, type JoinOutcome, type MemberRecord, type NodeRecord, type RoomRecord,
} from './state.js'

export class BoundedState implements ClusterState {
  /**
   * @example
   * ```ts
   * const state = new BoundedState(new RedisState('redis://127.0.0.1:6379', 'wshub'), 5000)
   * await state.connect()
   * await state.members('lobby')   // rejects with StateUnavailableError after 5 s without an answer
   * ```
   */
  constructor(readonly inner: ClusterState, readonly timeoutMs: number) {
    if (inner.onConnectionLost === undefined) return
    const inFlight = (this.inFlight = new Map())
    inner.onConnectionLost(() => {
      for (const [fail, what] of inFlight) fail(new StateUnavailableError(`the cluster state's connection dropped during ${what}`))
    })
  }

  /** The rejecters of the calls not yet settled, with what each call was; null where the state never says its connection dropped. */
  private readonly inFlight: Map<(err: Error) => void, string> | null = null

  private bound<T>(what: string, call: () => Promise<T>): Promise<T> {
    let pending: Promise<T>
    try {
      pending = call()
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise<T>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer)
        this.inFlight?.delete(fail)
      }
      const fail = (err: Error) => {
        settle()
        reject(err)
      }
      const timer = setTimeout(() => fail(new StateUnavailableError(`the cluster state did not answer ${what} within ${this.timeoutMs} ms (cluster.state_timeout_ms)`)), this.timeoutMs)
      this.inFlight?.set(fail, what)
      pending.then((value) => {
        settle()
        resolve(value)
      }, fail)
    })
  }

  // Not bounded: each backend bounds its own connect (and a node refuses to start without it).
  connect(): Promise<void> {
    return this.inner.connect()
  }

  close(): Promise<void> {
    return this.inner.close()
  }

  createRoom(room: RoomRecord): Promise<boolean> {
    return this.bound('createRoom', () => this.inner.createRoom(room))
  }

  getRoom(id: string): Promise<RoomRecord | null> {
    return this.bound('getRoom', () => this.inner.getRoom(id))
  }

  deleteRoom(id: string): Promise<MemberRecord[] | null> {
    return this.bound('deleteRoom', () => this.inner.deleteRoom(id))
  }

  listRooms(): Promise<Array<RoomRecord & { members: number }>> {
    return this.bound('listRooms', () => this.inner.listRooms())
  }

  join(roomId: string, member: MemberRecord, autoCreate: RoomRecord | null): Promise<JoinOutcome> {
    return this.bound('join', () => this.inner.join(roomId, member, autoCreate))
  }

  leave(roomId: string, clientId: string): Promise<boolean> {
    return this.bound('leave', () => this.inner.leave(roomId, clientId))
  }

  members(roomId: string): Promise<MemberRecord[] | null> {
    return this.bound('members', () => this.inner.members(roomId))
  }

  addClient(client: ClientRecord): Promise<void> {
    return this.bound('addClient', () => this.inner.addClient(client))
  }

  removeClient(clientId: string): Promise<void> {
    return this.bound('removeClient', () => this.inner.removeClient(clientId))
  }

  updateClient(client: ClientRecord): Promise<boolean> {
    return this.bound('updateClient', () => this.inner.updateClient(client))
  }

  clientsOfUser(userId: string): Promise<ClientRecord[]> {
    return this.bound('clientsOfUser', () => this.inner.clientsOfUser(userId))
  }

  getClient(clientId: string): Promise<ClientRecord | null> {
    return this.bound('getClient', () => this.inner.getClient(clientId))
  }

  listClients(limit: number, cursor: string | null): Promise<{ clients: ClientRecord[]; next: string | null }> {
    return this.bound('listClients', () => this.inner.listClients(limit, cursor))
  }

  countClients(): Promise<number> {
    return this.bound('countClients', () => this.inner.countClients())
  }

  roomsOf(clientId: string): Promise<string[]> {
    return this.bound('roomsOf', () => this.inner.roomsOf(clientId))
  }

  clientsOfNode(nodeId: string): Promise<string[]> {
    return this.bound('clientsOfNode', () => this.inner.clientsOfNode(nodeId))
  }

  heartbeat(node: NodeRecord, ttlMs: number): Promise<boolean> {
    return this.bound('heartbeat', () => this.inner.heartbeat(node, ttlMs))
  }

  nodes(): Promise<NodeRecord[]> {
    return this.bound('nodes', () => this.inner.nodes())
  }

  sweepDeadNodes(ttlMs: number): Promise<Array<{ room: string; member: MemberRecord }>> {
    return this.bound('sweepDeadNodes', () => this.inner.sweepDeadNodes(ttlMs))
  }

  dedupClaim(key: string, ttlMs: number): Promise<DedupOutcome | DedupPending | null> {
    return this.bound('dedupClaim', () => this.inner.dedupClaim(key, ttlMs))
  }

  dedupSettle(key: string, outcome: DedupOutcome, ttlMs: number): Promise<void> {
    return this.bound('dedupSettle', () => this.inner.dedupSettle(key, outcome, ttlMs))
  }

  takeToken(key: string, rate: number, burst: number): Promise<number> {
    return this.bound('takeToken', () => this.inner.takeToken(key, rate, burst))
  }

  appendHistory(roomId: string, size: number, makeFrame: (offset: number) => string): Promise<HistoryEntry> {
    return this.bound('appendHistory', () => this.inner.appendHistory(roomId, size, makeFrame))
  }

  history(roomId: string, since: number): Promise<HistoryReplay> {
    return this.bound('history', () => this.inner.history(roomId, since))
  }
}
