/**
 * Writes one node's clients and memberships back into the cluster state after the state
 * may have missed writes: it lost everything (a Redis restarted empty), it swept this
 * node after a long silence, or writes failed during a bus outage. The state ends up
 * holding exactly what the node holds: missing clients and memberships are added,
 * leftovers (clients gone, rooms left during the outage) removed, and the user id of a
 * client whose identity changed meanwhile written into the member records kept. Each
 * client's writes run in turn with that client's identity changes and its removal
 * (`serially`), so an `auth` during the resync is written after the record the resync
 * read, not under it, and a client that disconnects during the resync is not added back
 * after its removal.
 */
import type { ClientRecord, ClusterState, RoomRecord } from './state.js'

/** A client as the node holds it: its record and the rooms it is in (with their records, to recreate a lost room as it was). */
export interface LocalClient {
  id: string
  /** Its record as it is now: read when it is written, since an `auth` may change it while the resync runs. */
  record(): ClientRecord
  rooms: RoomRecord[]
  /** Whether it is still connected: one gone before its turn is not written back (its removal is queued after). */
  open(): boolean
  /** Whether the client is in a room now (it may have joined while the resync ran). */
  isIn(roomId: string): boolean
  /** Its identity changed while the state could not hear it: the member records the state kept carry the old user id. */
  updated: boolean
  /**
   * Runs `write` after this client's other writes of its records (an identity change's) and
   * before the next: a write-back holding the old user id must not land after the new one.
   */
  serially<T>(write: () => Promise<T>): Promise<T>
}

export interface ResyncReport {
  /** Clients the state held for this node that the node no longer has. */
  removed: number
  /** Memberships written back. */
  restored: number
  /** Memberships that could not be written back because the room filled up meanwhile. */
  refused: number
}

/** Clients resynced at once: enough to be quick, few enough not to flood the state. */
const BATCH = 32

export async function resyncNode(state: ClusterState, nodeId: string, locals: () => LocalClient[]): Promise<ResyncReport> {
  const report: ResyncReport = { removed: 0, restored: 0, refused: 0 }
  const held = new Set(locals().map((l) => l.id))
  const stale = (await state.clientsOfNode(nodeId)).filter((id) => !held.has(id))
  await Promise.all(stale.map((id) => state.removeClient(id)))
  report.removed = stale.length
  // Read the node's clients again: some may have come or gone while the state answered.
  const clients = locals()
  for (let i = 0; i < clients.length; i += BATCH) {
    await Promise.all(clients.slice(i, i + BATCH).map((client) => resyncClient(state, client, report)))
  }
  return report
}

function resyncClient(state: ClusterState, client: LocalClient, report: ResyncReport): Promise<void> {
  return client.serially(async () => {
    if (!client.open()) return
    const record = client.record()
    await state.addClient(record)
    const inState = new Set(await state.roomsOf(record.client_id))
    const member = { client_id: record.client_id, user_id: record.user_id, node_id: record.node_id }
    for (const room of client.rooms) {
      if (inState.delete(room.id)) continue
      const outcome = await state.join(room.id, member, room)
      if (outcome.status === 'joined') report.restored++
      else if (outcome.status === 'full') report.refused++
    }
    for (const roomId of inState) if (!client.isIn(roomId)) await state.leave(roomId, record.client_id)
    if (client.updated) await state.updateClient(record)
  })
}
