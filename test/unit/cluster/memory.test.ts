import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryState } from '../../../lib/cluster/memory.js'
import type { MemberRecord, RoomRecord } from '../../../lib/cluster/state.js'

function room(id: string, max_clients = 0): RoomRecord {
  return { id, name: id, max_clients, presence_events: null, created_at: 1 }
}

function member(client_id: string, node_id = 'n1'): MemberRecord {
  return { client_id, user_id: null, node_id }
}

describe('MemoryState', () => {
  describe('createRoom', () => {
    it('creates a room once and refuses a second one with the same id', async () => {
      const s = new MemoryState()
      assert.equal(await s.createRoom(room('r')), true)
      assert.equal(await s.createRoom(room('r')), false)
      assert.deepEqual(await s.getRoom('r'), room('r'))
    })
  })

  describe('join', () => {
    it('answers not_found for a missing room without autoCreate', async () => {
      assert.deepEqual(await new MemoryState().join('r', member('c1'), null), { status: 'not_found' })
    })

    it('creates the room from autoCreate and says so', async () => {
      const s = new MemoryState()
      const outcome = await s.join('r', member('c1'), room('r'))
      assert.deepEqual(outcome, { status: 'joined', members: 1, created: true, room: room('r') })
      const again = await s.join('r', member('c2'), room('r'))
      assert.equal(again.status === 'joined' && again.created, false)
    })

    it('answers already_member for a second join of the same client', async () => {
      const s = new MemoryState()
      await s.createRoom(room('r'))
      await s.join('r', member('c1'), null)
      assert.deepEqual(await s.join('r', member('c1'), null), { status: 'already_member' })
    })

    it('answers full past max_clients and counts members', async () => {
      const s = new MemoryState()
      await s.createRoom(room('r', 2))
      assert.equal((await s.join('r', member('c1'), null)).status, 'joined')
      const second = await s.join('r', member('c2'), null)
      assert.equal(second.status === 'joined' && second.members, 2)
      assert.deepEqual(await s.join('r', member('c3'), null), { status: 'full' })
    })
  })

  describe('leave', () => {
    it('removes a member and says whether it was one', async () => {
      const s = new MemoryState()
      await s.join('r', member('c1'), room('r'))
      assert.equal(await s.leave('r', 'c1'), true)
      assert.equal(await s.leave('r', 'c1'), false)
      assert.deepEqual(await s.members('r'), [])
      assert.deepEqual(await s.roomsOf('c1'), [])
    })
  })

  describe('members', () => {
    it('lists member records, or null for a missing room', async () => {
      const s = new MemoryState()
      await s.join('r', member('c1'), room('r'))
      assert.deepEqual(await s.members('r'), [member('c1')])
      assert.equal(await s.members('missing'), null)
    })
  })

  describe('deleteRoom', () => {
    it('returns the members it had and forgets the room, or null when there was none', async () => {
      const s = new MemoryState()
      await s.join('r', member('c1'), room('r'))
      assert.deepEqual(await s.deleteRoom('r'), [member('c1')])
      assert.equal(await s.getRoom('r'), null)
      assert.deepEqual(await s.roomsOf('c1'), [])
      assert.equal(await s.deleteRoom('r'), null)
    })
  })

  describe('listRooms', () => {
    it('lists each room with its member count', async () => {
      const s = new MemoryState()
      await s.join('a', member('c1'), room('a'))
      await s.join('a', member('c2'), room('a'))
      await s.createRoom(room('b'))
      const rooms = (await s.listRooms()).map((r) => [r.id, r.members])
      assert.deepEqual(rooms.sort(), [['a', 2], ['b', 0]])
    })
  })

  describe('removeClient', () => {
    it('drops the client record and its memberships', async () => {
      const s = new MemoryState()
      await s.addClient({ ...member('c1'), connected_at: 1 })
      await s.join('a', member('c1'), room('a'))
      await s.join('b', member('c1'), room('b'))
      await s.removeClient('c1')
      assert.equal(await s.getClient('c1'), null)
      assert.deepEqual(await s.members('a'), [])
      assert.deepEqual(await s.members('b'), [])
      assert.equal(await s.countClients(), 0)
    })
  })

  describe('listClients', () => {
    it('pages through clients ordered by id with a cursor', async () => {
      const s = new MemoryState()
      for (const id of ['c3', 'c1', 'c5', 'c2', 'c4']) await s.addClient({ ...member(id), connected_at: 1 })
      const first = await s.listClients(2, null)
      assert.deepEqual(first.clients.map((c) => c.client_id), ['c1', 'c2'])
      const second = await s.listClients(2, first.next)
      assert.deepEqual(second.clients.map((c) => c.client_id), ['c3', 'c4'])
      const third = await s.listClients(2, second.next)
      assert.deepEqual(third.clients.map((c) => c.client_id), ['c5'])
      assert.equal(third.next, null)
    })

    it('answers no next cursor when the page ends exactly at the last client', async () => {
      const s = new MemoryState()
      for (const id of ['a', 'b']) await s.addClient({ ...member(id), connected_at: 1 })
      assert.equal((await s.listClients(2, null)).next, null)
    })
  })

  describe('sweepDeadNodes', () => {
    it('removes the members and clients of nodes not seen within the TTL, and only those', async () => {
      const s = new MemoryState()
      const now = Date.now()
      await s.heartbeat({ node_id: 'dead', started_at: now - 10_000, seen_at: now - 5_000, clients: 1 }, 1_000)
      await s.heartbeat({ node_id: 'live', started_at: now, seen_at: now, clients: 1 }, 1_000)
      await s.addClient({ ...member('d1', 'dead'), connected_at: 1 })
      await s.addClient({ ...member('l1', 'live'), connected_at: 1 })
      await s.join('r', member('d1', 'dead'), room('r'))
      await s.join('r', member('l1', 'live'), room('r'))
      const removed = await s.sweepDeadNodes(1_000)
      assert.deepEqual(removed, [{ room: 'r', member: member('d1', 'dead') }])
      assert.deepEqual(await s.members('r'), [member('l1', 'live')])
      assert.equal(await s.getClient('d1'), null)
      assert.deepEqual((await s.nodes()).map((n) => n.node_id), ['live'])
    })
  })

  describe('dedupClaim', () => {
    it('claims a new key, answers pending until it settles, then the settled outcome within the TTL', async () => {
      const s = new MemoryState()
      assert.equal(await s.dedupClaim('k', 10_000), null)
      assert.deepEqual(await s.dedupClaim('k', 10_000), { pending: true })
      await s.dedupSettle('k', { ok: false, code: 3003, message: 'not in room' }, 10_000)
      assert.deepEqual(await s.dedupClaim('k', 10_000), { ok: false, code: 3003, message: 'not in room' })
    })

    it('forgets a key after its TTL', async () => {
      const s = new MemoryState()
      await s.dedupClaim('k', 1)
      await new Promise((r) => setTimeout(r, 5))
      assert.equal(await s.dedupClaim('k', 1), null)
    })
  })

  describe('takeToken', () => {
    it('gives burst tokens, then the wait until the next one', async () => {
      const s = new MemoryState()
      assert.equal(await s.takeToken('u', 1, 2), 0)
      assert.equal(await s.takeToken('u', 1, 2), 0)
      const wait = await s.takeToken('u', 1, 2)
      assert.ok(wait > 0 && wait <= 1000, `wait ${wait}`)
    })
  })

  describe('appendHistory', () => {
    it('gives increasing offsets from 1 and keeps only the last N', async () => {
      const s = new MemoryState()
      await s.createRoom(room('r'))
      const offsets = []
      for (let i = 0; i < 5; i++) offsets.push((await s.appendHistory('r', 3, (o) => `m${o}`)).offset)
      assert.deepEqual(offsets, [1, 2, 3, 4, 5])
      assert.deepEqual(await s.history('r', 2), { recovered: true, entries: [{ offset: 3, frame: 'm3' }, { offset: 4, frame: 'm4' }, { offset: 5, frame: 'm5' }] })
    })
  })

  describe('history', () => {
    async function withFive(): Promise<MemoryState> {
      const s = new MemoryState()
      await s.createRoom(room('r'))
      for (let i = 0; i < 5; i++) await s.appendHistory('r', 3, (o) => `m${o}`)
      return s
    }

    it('replays what came after since, in order', async () => {
      const s = await withFive()
      assert.deepEqual((await s.history('r', 3)).entries.map((e) => e.offset), [4, 5])
    })

    it('answers recovered with nothing to replay when since is the latest offset', async () => {
      assert.deepEqual(await (await withFive()).history('r', 5), { recovered: true, entries: [] })
    })

    it('answers not recovered when the history no longer reaches back to since', async () => {
      assert.deepEqual(await (await withFive()).history('r', 1), { recovered: false, entries: [] })
    })

    it('answers recovered from 0 while nothing was dropped', async () => {
      const s = new MemoryState()
      await s.createRoom(room('r'))
      await s.appendHistory('r', 3, (o) => `m${o}`)
      assert.deepEqual((await s.history('r', 0)).entries.map((e) => e.offset), [1])
    })
  })
})
