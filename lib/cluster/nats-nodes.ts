/**
 * Node heartbeats and the sweep of dead nodes in the NATS state bucket. A node's key
 * `n.<node>` holds its NodeRecord and TTL; it is alive while the entry's server timestamp
 * is younger than the TTL (the server's clock, compared with this node's: keep clocks in
 * NTP sync, as usual).
 *
 * A sweeper first marks a dead node's record `dead` with a revision check, so a node that
 * beat again meanwhile is left alone, and a node that beats after the mark finds itself
 * unknown and writes itself back. Then it removes the node's members room by room (each
 * a revision-checked update, so with several sweepers each removal is reported once),
 * its clients, and last the mark: a sweeper that dies midway leaves the mark for the next.
 *
 * A beat is revision-checked too: one that read the record before the mark must not write
 * over it (it would report the node known while its members are removed, and the node
 * would never write them back). A node that beat after the mark may write itself back
 * while the sweeper is still removing what it held: the mark's revision is then gone, and
 * the sweeper flags the record `rewrite`, so the node's next beat reports it unknown and
 * it writes itself back once more.
 */
import type { KV } from '@nats-io/kv'
import { compareAndSet, listKeys, token, untoken, valueOf, type RoomDoc } from './nats-kv.js'
import type { MemberRecord, NodeRecord } from './state.js'

type NodeDoc = NodeRecord & { ttl: number; dead?: true; rewrite?: true }

export class NatsNodes {
  /** @param forget removes keys with no trace (see `forget` in nats-kv.ts). */
  constructor(private readonly forget: (keys: string[]) => Promise<void>) {}

  /** Resolves to whether the state knew the node alive before this beat. */
  async heartbeat(kv: KV, node: NodeRecord, ttlMs: number): Promise<boolean> {
    const next: NodeDoc = { ...node, ttl: ttlMs }
    return compareAndSet<NodeDoc, boolean>(kv, `n.${token(node.node_id)}`, (before) => ({ next, result: before !== null && before.dead !== true && before.rewrite !== true }))
  }

  async live(kv: KV): Promise<NodeRecord[]> {
    return (await this.entries(kv)).filter((n) => n.alive).map(({ doc: { ttl: _ttl, dead: _dead, rewrite: _rewrite, ...node } }) => node)
  }

  async sweep(kv: KV): Promise<Array<{ room: string; member: MemberRecord }>> {
    const dead: Array<{ id: string; revision: number }> = []
    for (const entry of await this.entries(kv)) {
      if (entry.alive) continue
      const marked = await this.mark(kv, entry.doc.node_id, entry.revision)
      if (marked !== null) dead.push({ id: entry.doc.node_id, revision: marked })
    }
    if (dead.length === 0) return []
    const deadIds = new Set(dead.map((n) => n.id))
    const removed: Array<{ room: string; member: MemberRecord }> = []
    // A node's death is rare: scanning every room is simpler than trusting an index.
    for (const key of await listKeys(kv, 'r.>')) {
      const room = untoken(key.slice(2))
      const gone = await compareAndSet<RoomDoc, MemberRecord[]>(kv, key, (doc) => {
        const leaving = doc === null ? [] : Object.values(doc.members).filter((m) => deadIds.has(m.node_id))
        if (leaving.length === 0) return { result: [] }
        const members = { ...doc!.members }
        for (const m of leaving) delete members[m.client_id]
        return { next: { record: doc!.record, members }, result: leaving }
      })
      for (const member of gone) removed.push({ room, member })
    }
    for (const { id, revision } of dead) {
      const node = token(id)
      await this.forget([...(await listKeys(kv, `c.${node}.>`)), ...(await listKeys(kv, `cr.${node}.>`)), ...(await listKeys(kv, `u.*.${node}.>`))])
      const deleted = await kv.delete(`n.${node}`, { previousSeq: revision }).then(() => true, () => false)
      // It beat after the mark (or the delete failed): what it wrote back since may be gone with the rest.
      if (!deleted) await compareAndSet<NodeDoc, void>(kv, `n.${node}`, (doc) => (doc === null || doc.dead === true ? { result: undefined } : { next: { ...doc, rewrite: true }, result: undefined }))
    }
    return removed
  }

  /** Marks a node dead unless it beat since `revision`; resolves to the mark's revision, or null when it is alive after all. */
  private async mark(kv: KV, nodeId: string, revision: number): Promise<number | null> {
    const key = `n.${token(nodeId)}`
    const entry = await kv.get(key)
    const doc = valueOf<NodeDoc>(entry)
    if (doc === null || entry!.revision !== revision) return null
    if (doc.dead) return revision
    try {
      return await kv.update(key, JSON.stringify({ ...doc, dead: true }), revision)
    } catch {
      return null
    }
  }

  /** Each node with whether it is alive: not marked dead, and its last beat (server time) younger than its TTL. */
  private async entries(kv: KV): Promise<Array<{ doc: NodeDoc; revision: number; alive: boolean }>> {
    const now = Date.now()
    const entries = await Promise.all((await listKeys(kv, 'n.>')).map((key) => kv.get(key)))
    return entries.flatMap((entry) => {
      const doc = valueOf<NodeDoc>(entry)
      if (doc === null) return []
      return [{ doc, revision: entry!.revision, alive: doc.dead !== true && doc.ttl > 0 && now - entry!.created.getTime() <= doc.ttl }]
    })
  }
}
