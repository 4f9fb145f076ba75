/**
 * The ClusterState contract: the same assertions over every implementation (memory,
 * redis, nats; nats twice for history, with and without the JetStream stream) and every
 * engine (a Redis Cluster, Redis with Sentinels, a NATS cluster with 3 replicas). Redis
 * and NATS run on real servers started for this file; each test uses its own prefix.
 */
import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { MissingRoomError, type ClusterState, type MemberRecord, type RoomRecord } from '../../lib/cluster/state.js'
import { backendNames, engineNames, serviceOf, testPrefix, useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { NatsState } from '../../lib/cluster/nats.js'
import type { NatsCluster } from '../support/nats-cluster.js'
import { cli, type RedisCluster } from '../support/redis-cluster.js'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'

const room = (id: string, max_clients = 0): RoomRecord => ({ id, name: id, max_clients, presence_events: null, created_at: 1 })
const member = (client_id: string, node_id = client_id.split('.')[0]!, user_id: string | null = null): MemberRecord => ({ client_id, user_id, node_id })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const byId = (a: MemberRecord, b: MemberRecord) => a.client_id.localeCompare(b.client_id)

for (const name of [...backendNames, ...engineNames]) {
  describe(`ClusterState (${name})`, { skip: name === 'memory' ? false : skipUnless(serviceOf(name)!) }, () => {
    const backend = useBackend(name)
    const open: ClusterState[] = []
    /** A connected state handle on a fresh cluster, or on the cluster of `prefix`. */
    async function state(prefix = testPrefix(), options: { jetstream?: boolean } = {}): Promise<ClusterState & { prefix: string }> {
      const s = backend.state(prefix, options)
      open.push(s)
      await s.connect()
      return Object.assign(s, { prefix })
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()))
    })

    describe('createRoom', () => {
      it('creates a room once and refuses the same id again', async () => {
        const s = await state()
        assert.equal(await s.createRoom(room('lobby', 5)), true)
        assert.equal(await s.createRoom(room('lobby', 9)), false)
        assert.deepEqual(await s.getRoom('lobby'), room('lobby', 5))
      })

      it('keeps room ids with dots, colons and dashes apart', async () => {
        const s = await state()
        for (const id of ['a.b', 'a:b', 'a-b', 'a_b', '..x', 'a']) assert.equal(await s.createRoom(room(id)), true, id)
        assert.deepEqual((await s.listRooms()).map((r) => r.id).sort(), ['..x', 'a', 'a-b', 'a.b', 'a:b', 'a_b'])
      })
    })

    describe('getRoom', () => {
      it('answers null for a room that does not exist', async () => {
        const s = await state()
        assert.equal(await s.getRoom('nope'), null)
      })
    })

    describe('deleteRoom', () => {
      it('removes the room and answers the members it had', async () => {
        const s = await state()
        await s.createRoom(room('r'))
        await s.join('r', member('n1.a'), null)
        assert.deepEqual(await s.deleteRoom('r'), [member('n1.a')])
        assert.equal(await s.getRoom('r'), null)
        assert.equal(await s.members('r'), null)
        assert.deepEqual(await s.roomsOf('n1.a'), [])
      })

      it('answers null when there was no room', async () => {
        const s = await state()
        assert.equal(await s.deleteRoom('nope'), null)
      })
    })

    describe('listRooms', () => {
      it('lists every room with its member count', async () => {
        const s = await state()
        await s.createRoom(room('a'))
        await s.createRoom(room('b', 3))
        await s.join('b', member('n1.x'), null)
        await s.join('b', member('n2.y'), null)
        const rooms = (await s.listRooms()).sort((x, y) => x.id.localeCompare(y.id))
        assert.deepEqual(rooms, [{ ...room('a'), members: 0 }, { ...room('b', 3), members: 2 }])
      })
    })

    describe('join', () => {
      it('answers not_found for a missing room without a record to create', async () => {
        const s = await state()
        assert.deepEqual(await s.join('r', member('n1.a'), null), { status: 'not_found' })
      })

      it('creates a missing room from the record given, and says so', async () => {
        const s = await state()
        assert.deepEqual(await s.join('r', member('n1.a'), room('r', 4)), { status: 'joined', members: 1, created: true, room: room('r', 4) })
        assert.deepEqual(await s.join('r', member('n1.b'), room('r', 9)), { status: 'joined', members: 2, created: false, room: room('r', 4) })
      })

      it('answers already_member for a second join of the same client', async () => {
        const s = await state()
        await s.join('r', member('n1.a'), room('r'))
        assert.deepEqual(await s.join('r', member('n1.a'), room('r')), { status: 'already_member' })
      })

      it('answers full at max_clients', async () => {
        const s = await state()
        await s.createRoom(room('r', 2))
        await s.join('r', member('n1.a'), null)
        await s.join('r', member('n1.b'), null)
        assert.deepEqual(await s.join('r', member('n1.c'), null), { status: 'full' })
      })

      it('lets exactly max_clients in when many join at once through two handles', async () => {
        const a = await state()
        const b = await state(a.prefix)
        await a.createRoom(room('race', 10))
        const outcomes = await Promise.all(
          Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).join('race', member(`n${i % 2}.c${i}`), null)),
        )
        assert.equal(outcomes.filter((o) => o.status === 'joined').length, 10)
        assert.equal(outcomes.filter((o) => o.status === 'full').length, 20)
        assert.equal((await a.members('race'))!.length, 10)
      })

      // A popular room filling up at once (a live event starting): a thundering herd on one room.
      const HERD = 1000
      /** HERD joins at once, half through each of two handles on one cluster, each ready to auto-create the room. */
      async function herd(roomId: string, maxClients: number) {
        const a = await state()
        const b = await state(a.prefix)
        const outcomes = await Promise.all(
          Array.from({ length: HERD }, (_, i) => (i % 2 === 0 ? a : b).join(roomId, member(`n${i % 2}.h${i}`), room(roomId, maxClients))),
        )
        return { outcomes, members: (await a.members(roomId))! }
      }

      it('lets every one of a thousand concurrent joiners in where the room has no limit', { timeout: 120_000 }, async () => {
        const { outcomes, members } = await herd('herd', 0)
        assert.equal(outcomes.filter((o) => o.status === 'joined').length, HERD)
        assert.equal(outcomes.filter((o) => o.status === 'joined' && o.created).length, 1, 'one join created the room')
        assert.equal(members.length, HERD)
      })

      it('lets exactly max_clients of a thousand concurrent joiners in, and tells the rest the room is full', { timeout: 120_000 }, async () => {
        const { outcomes, members } = await herd('herd-capped', 100)
        assert.equal(outcomes.filter((o) => o.status === 'joined').length, 100)
        assert.equal(outcomes.filter((o) => o.status === 'full').length, HERD - 100)
        assert.equal(members.length, 100)
      })
    })

    describe('leave', () => {
      it('removes a member and answers whether it was one', async () => {
        const s = await state()
        await s.join('r', member('n1.a'), room('r'))
        await s.join('r', member('n1.b'), null)
        assert.equal(await s.leave('r', 'n1.a'), true)
        assert.equal(await s.leave('r', 'n1.a'), false)
        assert.deepEqual(await s.members('r'), [member('n1.b')])
        assert.deepEqual(await s.roomsOf('n1.a'), [])
      })
    })

    describe('members', () => {
      it('answers the members of a room across nodes, and null for no room', async () => {
        const s = await state()
        await s.join('r', member('n1.a', 'n1', 'u1'), room('r'))
        await s.join('r', member('n2.b', 'n2'), null)
        assert.deepEqual((await s.members('r'))!.sort(byId), [member('n1.a', 'n1', 'u1'), member('n2.b', 'n2')])
        assert.equal(await s.members('nope'), null)
      })
    })

    describe('addClient', () => {
      it('registers a client that getClient then finds', async () => {
        const s = await state()
        const client = { ...member('n1.a', 'n1', 'u1'), connected_at: 42 }
        await s.addClient(client)
        assert.deepEqual(await s.getClient('n1.a'), client)
        assert.equal(await s.getClient('n1.zz'), null)
      })
    })

    describe('clientsOfUser', () => {
      const byClient = (a: { client_id: string }, b: { client_id: string }) => a.client_id.localeCompare(b.client_id)

      it('answers every client of a user on every node, and none for a user with none', async () => {
        const a = await state()
        const b = await state(a.prefix)
        const one = { ...member('n1.a', 'n1', 'alice'), connected_at: 1 }
        const two = { ...member('n2.b', 'n2', 'alice'), connected_at: 2 }
        await a.addClient(one)
        await b.addClient(two)
        await a.addClient({ ...member('n1.c', 'n1', 'bob'), connected_at: 3 })
        await a.addClient({ ...member('n1.d'), connected_at: 4 })
        assert.deepEqual((await b.clientsOfUser('alice')).sort(byClient), [one, two])
        assert.deepEqual(await a.clientsOfUser('carol'), [])
      })

      it('keeps user ids with dots, spaces and other characters apart', async () => {
        const s = await state()
        const ids = ['a.b', 'a b', 'a', 'a.>', 'é', '']
        for (const [i, user] of ids.entries()) await s.addClient({ ...member(`n1.c${i}`, 'n1', user), connected_at: i })
        for (const [i, user] of ids.entries()) assert.deepEqual((await s.clientsOfUser(user)).map((c) => c.client_id), [`n1.c${i}`], JSON.stringify(user))
      })

      it('drops a removed client, follows a user id changed by updateClient, and drops the clients of a swept node', async () => {
        const s = await state()
        await s.heartbeat({ node_id: 'live', started_at: 1, seen_at: Date.now(), clients: 2 }, 60_000)
        await s.heartbeat({ node_id: 'dead', started_at: 1, seen_at: Date.now(), clients: 1 }, 200)
        await s.addClient({ ...member('live.a', 'live', 'u1'), connected_at: 1 })
        await s.addClient({ ...member('live.b', 'live', 'u1'), connected_at: 1 })
        await s.addClient({ ...member('dead.c', 'dead', 'u1'), connected_at: 1 })
        await s.removeClient('live.a')
        assert.equal(await s.updateClient({ ...member('live.b', 'live', 'u2'), connected_at: 1 }), true)
        assert.deepEqual((await s.clientsOfUser('u1')).map((c) => c.client_id), ['dead.c'])
        assert.deepEqual((await s.clientsOfUser('u2')).map((c) => c.client_id), ['live.b'])
        await sleep(500)
        await s.sweepDeadNodes(200)
        assert.deepEqual(await s.clientsOfUser('u1'), [])
      })
    })

    describe('removeClient', () => {
      it('drops the client and every membership it had', async () => {
        const s = await state()
        await s.addClient({ ...member('n1.a'), connected_at: 1 })
        await s.join('r1', member('n1.a'), room('r1'))
        await s.join('r2', member('n1.a'), room('r2'))
        await s.removeClient('n1.a')
        assert.equal(await s.getClient('n1.a'), null)
        assert.deepEqual(await s.members('r1'), [])
        assert.deepEqual(await s.members('r2'), [])
        assert.equal(await s.countClients(), 0)
      })
    })

    describe('updateClient', () => {
      it('replaces the client record and the member record of every room it is in, and answers true', async () => {
        const s = await state()
        await s.addClient({ ...member('n1.a'), connected_at: 7 })
        await s.join('r1', member('n1.a'), room('r1'))
        await s.join('r:2', member('n1.a'), room('r:2'))
        await s.join('r1', member('n2.b', 'n2', 'other'), null)
        assert.equal(await s.updateClient({ ...member('n1.a', 'n1', 'late'), connected_at: 7 }), true)
        assert.deepEqual(await s.getClient('n1.a'), { ...member('n1.a', 'n1', 'late'), connected_at: 7 })
        assert.deepEqual((await s.members('r1'))!.sort(byId), [member('n1.a', 'n1', 'late'), member('n2.b', 'n2', 'other')])
        assert.deepEqual(await s.members('r:2'), [member('n1.a', 'n1', 'late')])
        assert.deepEqual((await s.listClients(10, null)).clients, [{ ...member('n1.a', 'n1', 'late'), connected_at: 7 }])
        assert.equal(await s.updateClient({ ...member('n1.a'), connected_at: 7 }), true)
        assert.deepEqual(await s.members('r:2'), [member('n1.a')], 'and back to no user id')
      })

      it('answers false and writes nothing for a client it does not hold, nor for one removed meanwhile', async () => {
        const s = await state()
        assert.equal(await s.updateClient({ ...member('n1.x', 'n1', 'u'), connected_at: 1 }), false)
        assert.equal(await s.getClient('n1.x'), null)
        await s.addClient({ ...member('n1.a'), connected_at: 1 })
        await s.join('r', member('n1.a'), room('r'))
        await s.removeClient('n1.a')
        assert.equal(await s.updateClient({ ...member('n1.a', 'n1', 'u'), connected_at: 1 }), false)
        assert.equal(await s.getClient('n1.a'), null)
        assert.equal(await s.countClients(), 0)
        assert.deepEqual(await s.members('r'), [])
      })

      it('leaves a room the client left alone', async () => {
        const s = await state()
        await s.addClient({ ...member('n1.a'), connected_at: 1 })
        await s.join('r', member('n1.a'), room('r'))
        await s.join('r', member('n1.b'), null)
        await s.leave('r', 'n1.a')
        assert.equal(await s.updateClient({ ...member('n1.a', 'n1', 'u'), connected_at: 1 }), true)
        assert.deepEqual(await s.members('r'), [member('n1.b')])
      })
    })

    describe('listClients', () => {
      it('pages through every client in id order with a cursor', async () => {
        const s = await state()
        const ids = ['n2.b', 'n1.a', 'n1.c', 'n2.d', 'n1.e']
        for (const id of ids) await s.addClient({ ...member(id), connected_at: 1 })
        const seen: string[] = []
        let cursor: string | null = null
        let pages = 0
        do {
          const page: { clients: Array<{ client_id: string }>; next: string | null } = await s.listClients(2, cursor)
          seen.push(...page.clients.map((c) => c.client_id))
          cursor = page.next
          pages++
        } while (cursor !== null && pages < 10)
        assert.deepEqual(seen, [...ids].sort())
        assert.equal(pages, 3)
      })

      it('answers an empty last page after the last id', async () => {
        const s = await state()
        await s.addClient({ ...member('n1.a'), connected_at: 1 })
        assert.deepEqual(await s.listClients(10, 'n1.a'), { clients: [], next: null })
      })
    })

    describe('countClients', () => {
      it('counts the clients of every node', async () => {
        const s = await state()
        await s.addClient({ ...member('n1.a'), connected_at: 1 })
        await s.addClient({ ...member('n2.b'), connected_at: 1 })
        assert.equal(await s.countClients(), 2)
      })
    })

    describe('roomsOf', () => {
      it('answers the rooms one client is in', async () => {
        const s = await state()
        await s.join('r1', member('n1.a'), room('r1'))
        await s.join('r:2', member('n1.a'), room('r:2'))
        assert.deepEqual((await s.roomsOf('n1.a')).sort(), ['r1', 'r:2'].sort())
      })
    })

    describe('clientsOfNode', () => {
      it('answers the clients and members one node holds', async () => {
        const s = await state()
        await s.addClient({ ...member('n1.a'), connected_at: 1 })
        await s.join('r', member('n1.b'), room('r'))
        await s.addClient({ ...member('n2.c'), connected_at: 1 })
        assert.deepEqual((await s.clientsOfNode('n1')).sort(), ['n1.a', 'n1.b'])
      })
    })

    describe('heartbeat', () => {
      it('answers false for a node the state does not know, true once it does', async () => {
        const s = await state()
        const node = { node_id: 'n1', started_at: 1, seen_at: Date.now(), clients: 0 }
        assert.equal(await s.heartbeat(node, 60_000), false)
        assert.equal(await s.heartbeat(node, 60_000), true)
      })
    })

    describe('nodes', () => {
      it('lists the nodes whose heartbeat is within their TTL', async () => {
        const s = await state()
        await s.heartbeat({ node_id: 'alive', started_at: 1, seen_at: Date.now(), clients: 3 }, 60_000)
        await s.heartbeat({ node_id: 'gone', started_at: 1, seen_at: Date.now(), clients: 0 }, 100)
        await sleep(300)
        assert.deepEqual((await s.nodes()).map((n) => [n.node_id, n.clients]), [['alive', 3]])
      })
    })

    describe('heartbeat with a TTL of 0', () => {
      it('takes the node out of the node list at once, and the next sweep removes what it held', async () => {
        const s = await state()
        await s.heartbeat({ node_id: 'stays', started_at: 1, seen_at: Date.now(), clients: 0 }, 60_000)
        await s.heartbeat({ node_id: 'leaves', started_at: 1, seen_at: Date.now(), clients: 1 }, 60_000)
        await s.join('r', member('leaves.a'), room('r'))
        await s.heartbeat({ node_id: 'leaves', started_at: 1, seen_at: Date.now(), clients: 1 }, 0)
        assert.deepEqual((await s.nodes()).map((n) => n.node_id), ['stays'])
        assert.deepEqual((await s.sweepDeadNodes(60_000)).map((r) => r.member.client_id), ['leaves.a'])
      })
    })

    describe('sweepDeadNodes', () => {
      it('removes the clients and members of a dead node once, whoever sweeps', async () => {
        const a = await state()
        const b = await state(a.prefix)
        await a.heartbeat({ node_id: 'live', started_at: 1, seen_at: Date.now(), clients: 1 }, 60_000)
        await a.heartbeat({ node_id: 'dead', started_at: 1, seen_at: Date.now(), clients: 2 }, 200)
        await a.addClient({ ...member('dead.x'), connected_at: 1 })
        await a.join('r1', member('dead.x'), room('r1'))
        await a.join('r2', member('dead.x'), room('r2'))
        await a.join('r1', member('live.y'), null)
        await sleep(500)
        const [fromA, fromB] = await Promise.all([a.sweepDeadNodes(200), b.sweepDeadNodes(200)])
        const removed = [...fromA, ...fromB].map((r) => `${r.room}:${r.member.client_id}`).sort()
        assert.deepEqual(removed, ['r1:dead.x', 'r2:dead.x'])
        assert.deepEqual(await a.members('r1'), [member('live.y')])
        assert.deepEqual(await a.members('r2'), [])
        assert.equal(await a.getClient('dead.x'), null)
        assert.deepEqual((await a.nodes()).map((n) => n.node_id), ['live'])
      })

      it('makes the next heartbeat of a swept node answer false', async () => {
        const s = await state()
        const node = { node_id: 'slow', started_at: 1, seen_at: Date.now(), clients: 0 }
        await s.heartbeat(node, 100)
        await sleep(300)
        await s.sweepDeadNodes(100)
        assert.equal(await s.heartbeat({ ...node, seen_at: Date.now() }, 100), false)
      })

      it('removes nothing while every node is alive', async () => {
        const s = await state()
        await s.heartbeat({ node_id: 'n1', started_at: 1, seen_at: Date.now(), clients: 1 }, 60_000)
        await s.join('r', member('n1.a'), room('r'))
        assert.deepEqual(await s.sweepDeadNodes(60_000), [])
        assert.deepEqual(await s.members('r'), [member('n1.a')])
      })
    })

    describe('dedupClaim', () => {
      it('answers null for a new key and pending for a repeat before the first settles', async () => {
        const s = await state()
        assert.equal(await s.dedupClaim('u1:abc', 10_000), null)
        assert.deepEqual(await s.dedupClaim('u1:abc', 10_000), { pending: true })
      })

      it('answers ok once the first request settled as ok', async () => {
        const s = await state()
        await s.dedupClaim('u1:def', 10_000)
        await s.dedupSettle('u1:def', { ok: true }, 10_000)
        assert.deepEqual(await s.dedupClaim('u1:def', 10_000), { ok: true })
      })

      it('answers the settled outcome of the first request', async () => {
        const s = await state()
        await s.dedupClaim('u/1 x', 10_000)
        await s.dedupSettle('u/1 x', { ok: false, code: 3002, message: 'room full' }, 10_000)
        assert.deepEqual(await s.dedupClaim('u/1 x', 10_000), { ok: false, code: 3002, message: 'room full' })
      })

      it('forgets a key after its window', async () => {
        const s = await state()
        await s.dedupClaim('k', 1000)
        await sleep(1300)
        assert.equal(await s.dedupClaim('k', 1000), null)
      })
    })

    describe('takeToken', () => {
      it('gives a burst of tokens, then the wait until the next', async () => {
        const s = await state()
        const waits = []
        for (let i = 0; i < 4; i++) waits.push(await s.takeToken('user:1', 1, 3))
        assert.deepEqual(waits.slice(0, 3), [0, 0, 0])
        assert.ok(waits[3]! > 0 && waits[3]! <= 1000, `wait ${waits[3]}`)
      })

      it('shares one bucket between two handles', async () => {
        const a = await state()
        const b = await state(a.prefix)
        assert.equal(await a.takeToken('u', 1, 1), 0)
        assert.ok((await b.takeToken('u', 1, 1)) > 0)
      })
    })

    for (const jetstream of name === 'nats' ? [false, true] : [false]) {
      const suffix = name === 'nats' ? (jetstream ? ' (jetstream stream)' : ' (kv documents)') : ''
      describe(`appendHistory${suffix}`, () => {
        it('gives each message of a room the next offset, across handles', async () => {
          const a = await state(testPrefix(), { jetstream })
          const b = await state(a.prefix, { jetstream })
          await a.createRoom(room('r'))
          const entries = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).appendHistory('r', 10, (o) => `m${o}`)))
          assert.deepEqual(entries.map((e) => e.offset).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6])
          for (const e of entries) assert.equal(e.frame, `m${e.offset}`)
        })

        it('rejects with MissingRoomError for a room that does not exist', async () => {
          const s = await state(testPrefix(), { jetstream })
          await assert.rejects(s.appendHistory('nope', 10, (o) => `m${o}`), (err) => err instanceof MissingRoomError && err.roomId === 'nope')
        })
      })

      describe(`history${suffix}`, () => {
        it('replays every message after an offset, in order', async () => {
          const s = await state(testPrefix(), { jetstream })
          await s.createRoom(room('r'))
          for (let i = 0; i < 5; i++) await s.appendHistory('r', 10, (o) => `m${o}`)
          assert.deepEqual(await s.history('r', 2), { recovered: true, entries: [3, 4, 5].map((o) => ({ offset: o, frame: `m${o}` })) })
          assert.deepEqual(await s.history('r', 5), { recovered: true, entries: [] })
        })

        it('keeps the last N and answers recovered false when the history no longer reaches back', async () => {
          const s = await state(testPrefix(), { jetstream })
          await s.createRoom(room('r'))
          for (let i = 0; i < 6; i++) await s.appendHistory('r', 3, (o) => `m${o}`)
          assert.deepEqual(await s.history('r', 1), { recovered: false, entries: [] })
          assert.deepEqual(await s.history('r', 3), { recovered: true, entries: [4, 5, 6].map((o) => ({ offset: o, frame: `m${o}` })) })
        })

        it('answers recovered with nothing for a room without history', async () => {
          const s = await state(testPrefix(), { jetstream })
          assert.deepEqual(await s.history('nope', 0), { recovered: true, entries: [] })
        })

        it('answers recovered false to a since past the last offset written (the history was lost)', async () => {
          const s = await state(testPrefix(), { jetstream })
          await s.createRoom(room('r'))
          for (let i = 0; i < 2; i++) await s.appendHistory('r', 10, (o) => `m${o}`)
          assert.deepEqual(await s.history('r', 7), { recovered: false, entries: [] })
          assert.deepEqual(await s.history('gone', 7), { recovered: false, entries: [] })
        })

        it('starts again from offset 1 after the room is deleted and made again', async () => {
          const s = await state(testPrefix(), { jetstream })
          await s.createRoom(room('r'))
          await s.appendHistory('r', 10, (o) => `old${o}`)
          await s.deleteRoom('r')
          await s.createRoom(room('r'))
          const entry = await s.appendHistory('r', 10, (o) => `new${o}`)
          assert.equal(entry.offset, 1)
          assert.deepEqual(await s.history('r', 0), { recovered: true, entries: [{ offset: 1, frame: 'new1' }] })
        })
      })
    }

    if (name === 'redis-cluster') {
      describe('slots', () => {
        it('spreads dedup claims and token buckets over the masters, and keeps the rest of the state in the slot of its prefix', async () => {
          const engine = backend.engine as RedisCluster
          const s = await state()
          await s.createRoom(room('r'))
          await s.addClient({ client_id: 'n1.a', user_id: 'u', node_id: 'n1', connected_at: 1 })
          await s.join('r', member('n1.a'), null)
          for (let i = 0; i < 24; i++) {
            await s.dedupClaim(`claim-${i}`, 60_000)
            await s.takeToken(`bucket-${i}`, 1, 5)
          }
          /** The masters holding a key that matches `pattern`. */
          const holders = async (pattern: string) => {
            const ports: number[] = []
            for (const port of await engine.masters()) if ((await cli(port, '--scan', '--pattern', pattern)).trim() !== '') ports.push(port)
            return ports
          }
          assert.ok((await holders(`${s.prefix}:d:*`)).length > 1, 'dedup keys on more than one master')
          assert.ok((await holders(`${s.prefix}:tb:*`)).length > 1, 'token buckets on more than one master')
          assert.equal((await holders(`{${s.prefix}}:*`)).length, 1, 'rooms, members and clients on one master')
        })
      })
    }

    if (name === 'nats-cluster') {
      describe('cluster.nats.replicas', () => {
        it('keeps 3 copies of the state bucket where the servers replicate safely, and refuses 3 naming the key where they do not', async () => {
          const engine = backend.engine as NatsCluster
          const s = new NatsState(engine.urls, testPrefix(), { replicas: 3 })
          if (engine.replicas === 1) {
            await assert.rejects(s.connect(), /cluster\.nats\.replicas: 3 needs nats-server 2\.9\.21 or later; this one is 2\./)
            return
          }
          open.push(s)
          await s.connect()
          const nc = await connect({ servers: engine.urls })
          try {
            const jsm = await jetstreamManager(nc)
            const names: string[] = []
            for await (const n of jsm.streams.names()) names.push(n)
            const mine = names.filter((n) => n.startsWith(`KV_${(s as unknown as { bucket: string }).bucket}_`))
            assert.ok(mine.length > 0)
            for (const n of mine) assert.equal((await jsm.streams.info(n)).config.num_replicas, 3, n)
          } finally {
            await nc.close()
          }
        })
      })
    }
  })
}
