/**
 * PROTOCOL.md section 6 across real node processes: three `wshub` processes on one real
 * Redis, then on one real NATS (with JetStream history), each client on its own node.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { spawnCluster, type ProcessCluster } from '../support/cluster.js'
import type { TestClient } from '../support/ws-client.js'

let roomCounter = 0
const newRoom = () => `room-${process.pid}-${++roomCounter}`

async function joinAll(clients: TestClient[], room: string, data: Record<string, unknown> = {}) {
  const replies = await Promise.all(clients.map((c) => c.request('join_room', { room_id: room, ...data })))
  for (const r of replies) assert.equal(r.message_type, 'room_joined', JSON.stringify(r.data))
  return replies
}

for (const name of ['redis', 'nats'] as const) {
  describe(`a three-node cluster on ${name}`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    let cluster: ProcessCluster
    before(async () => {
      cluster = await spawnCluster(backend, 3, {
        WSHUB_ROOMS_DEFAULT_MAX_CLIENTS: '10',
        WSHUB_ROOMS_HISTORY_SIZE: '5',
        WSHUB_ROOMS_PRESENCE_EVENTS: 'true',
        ...(name === 'nats' ? { WSHUB_CLUSTER_NATS_JETSTREAM: 'true' } : {}),
      })
    })
    after(async () => {
      await cluster?.close()
    })

    describe('room_message', () => {
      it('reaches the members on every node but the sender', async () => {
        const [a, b, c] = [await cluster.connect(0), await cluster.connect(1), await cluster.connect(2)]
        const room = newRoom()
        await joinAll([a, b, c], room)
        const ack = await b.request('room_message', { room_id: room, content: { text: 'hi' } })
        assert.equal(ack.message_type, 'ack')
        for (const receiver of [a, c]) {
          const got = await receiver.next('room_message')
          assert.deepEqual(got.data.content, { text: 'hi' })
          assert.equal(got.data.sender_id, b.id)
        }
        assert.deepEqual((await b.quiet()).filter((f) => f.message_type === 'room_message'), [])
      })

      it('is delivered once to each member, on the sender\'s node as on the others, in order', async () => {
        const [a, local, b, c] = [await cluster.connect(0), await cluster.connect(0), await cluster.connect(1), await cluster.connect(2)]
        const room = newRoom()
        await joinAll([a, local, b, c], room)
        for (let i = 0; i < 5; i++) await a.request('room_message', { room_id: room, content: i })
        for (const member of [local, c]) {
          const got = []
          for (let i = 0; i < 5; i++) got.push((await member.next('room_message')).data.content)
          assert.deepEqual(got, [0, 1, 2, 3, 4])
          assert.deepEqual((await member.quiet(300)).filter((f) => f.message_type === 'room_message'), [])
        }
      })

      it('stops reaching a member that left', async () => {
        const [a, b] = [await cluster.connect(0), await cluster.connect(1)]
        const room = newRoom()
        await joinAll([a, b], room)
        assert.equal((await b.request('leave_room', { room_id: room })).message_type, 'room_left')
        await a.request('room_message', { room_id: room, content: 'after' })
        assert.deepEqual((await b.quiet(300)).filter((f) => f.message_type === 'room_message'), [])
      })
    })

    describe('direct_message', () => {
      it('reaches a client on another node', async () => {
        const [a, c] = [await cluster.connect(0), await cluster.connect(2)]
        const ack = await a.request('direct_message', { target_id: c.id, content: 'psst' })
        assert.equal(ack.message_type, 'ack')
        const got = await c.next('direct_message')
        assert.deepEqual(got.data, { content: 'psst', sender_id: a.id, sender_user_id: null })
      })

      it('answers 4000 for a client no node has', async () => {
        const a = await cluster.connect(0)
        const reply = await a.request('direct_message', { target_id: `${cluster.prefix}n2.nobody`, content: 'x' })
        assert.equal(reply.message_type, 'error')
        assert.equal(reply.data.code, 4000)
      })
    })

    describe('room_members', () => {
      it('lists the members of every node, with their node ids', async () => {
        const [a, b, c] = [await cluster.connect(0), await cluster.connect(1), await cluster.connect(2)]
        const room = newRoom()
        await joinAll([a, b, c], room)
        const reply = await b.request('room_members', { room_id: room })
        const members = (reply.data.members as Array<{ client_id: string; node_id: string }>).sort((x, y) => x.client_id.localeCompare(y.client_id))
        const expected = [a, b, c].map((x) => ({ client_id: x.id, user_id: null, node_id: x.welcome.data.node_id })).sort((x, y) => x.client_id.localeCompare(y.client_id))
        assert.deepEqual(members, expected)
      })
    })

    describe('presence events', () => {
      it('tell members on other nodes who joined, left, and disconnected', async () => {
        const [a, b, c] = [await cluster.connect(0), await cluster.connect(2), await cluster.connect(1)]
        const room = newRoom()
        await joinAll([a], room)
        const of = (type: string, who: TestClient) => (f: { message_type: string; data: any }) => f.message_type === type && f.data.client_id === who.id
        await joinAll([b, c], room)
        assert.deepEqual((await a.next(of('member_joined', b))).data, { room_id: room, client_id: b.id, user_id: null })
        await a.next(of('member_joined', c))
        await b.request('leave_room', { room_id: room })
        assert.deepEqual((await a.next(of('member_left', b))).data, { room_id: room, client_id: b.id, user_id: null })
        c.socket.terminate()
        assert.deepEqual((await a.next(of('member_left', c))).data, { room_id: room, client_id: c.id, user_id: null })
      })
    })

    describe('join_room', () => {
      it('lets exactly max_clients in when clients on two nodes join at once', async () => {
        const clients = await Promise.all(Array.from({ length: 24 }, (_, i) => cluster.connect(i % 2)))
        const room = newRoom()
        const replies = await Promise.all(clients.map((c) => c.request('join_room', { room_id: room })))
        assert.equal(replies.filter((r) => r.message_type === 'room_joined').length, 10)
        assert.deepEqual(new Set(replies.filter((r) => r.message_type !== 'room_joined').map((r) => r.data.code)), new Set([3002]))
        const member = clients.find((_, i) => replies[i]!.message_type === 'room_joined')!
        assert.equal((await member.request('room_members', { room_id: room })).data.members.length, 10)
      })

      it('replays the history kept on another node after `since`, then says recovered', async () => {
        const [a, b] = [await cluster.connect(0), await cluster.connect(1)]
        const room = newRoom()
        await joinAll([a], room)
        for (const text of ['one', 'two', 'three']) await a.request('room_message', { room_id: room, content: text })
        b.send({ message_type: 'join_room', data: { room_id: room, since: 1 }, message_id: 'j1' })
        const first = await b.next('room_message')
        const second = await b.next('room_message')
        const joined = await b.next('room_joined')
        assert.deepEqual([first.data.content, first.data.offset, second.data.content, second.data.offset], ['two', 2, 'three', 3])
        assert.equal(joined.data.recovered, true)
      })

      it('says recovered false when the history no longer reaches back', async () => {
        const [a, b] = [await cluster.connect(0), await cluster.connect(2)]
        const room = newRoom()
        await joinAll([a], room)
        for (let i = 0; i < 8; i++) await a.request('room_message', { room_id: room, content: i })
        const joined = await b.request('join_room', { room_id: room, since: 1 })
        assert.equal(joined.data.recovered, false)
        assert.deepEqual((await b.quiet(200)).filter((f) => f.message_type === 'room_message'), [])
      })
    })
  })
}
