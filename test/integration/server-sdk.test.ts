import { describe, it, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode, startMemoryPair } from '../support/node.js'
import { eventually } from '../support/http.js'
import type { AppEvents } from '../../lib/events.js'

const startCluster = () => startMemoryPair()

/** Collects the payloads of one event. */
function record<K extends keyof AppEvents>(node: TestNode, event: K): AppEvents[K][] {
  const seen: AppEvents[K][] = []
  ;(node.app.on as (e: K, l: (...args: AppEvents[K]) => void) => void)(event, (...args) => seen.push(args))
  return seen
}

describe('server SDK across two nodes', () => {
  let a: TestNode
  let b: TestNode
  beforeEach(async () => ([a, b] = await startCluster()))
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('app.broadcast reaches every client on every node', async () => {
    const onA = await a.connect()
    const onB = await b.connect()
    await b.app.broadcast('notice', { text: 'hello all' })
    for (const client of [onA, onB]) assert.deepEqual((await client.next('notice')).data, { text: 'hello all' })
  })

  it('app.to(room).send reaches the members on every node, leaving out options.except', async () => {
    const onA = await a.connect()
    const onB = await b.connect()
    const skipped = await b.connect()
    for (const client of [onA, onB, skipped]) await client.request('join_room', { room_id: 'lobby' })
    await a.app.to('lobby').send('notice', { n: 1 }, { except: skipped.id })
    assert.deepEqual((await onA.next('notice')).data, { n: 1 })
    assert.deepEqual((await onB.next('notice')).data, { n: 1 })
    assert.deepEqual((await skipped.quiet()).filter((f) => f.message_type === 'notice'), [])
  })

  it('app.sendTo reaches a client on another node, and fails with 4000 for nobody', async () => {
    const onB = await b.connect()
    await eventually(async () => (await a.app.clients.get(onB.id)) !== null, 5000, 'client registered')
    await a.app.sendTo(onB.id, 'private', { secret: 42 })
    assert.deepEqual((await onB.next('private')).data, { secret: 42 })
    await assert.rejects(a.app.sendTo(`${b.app.nodeId}.nobody`, 'private', {}), (err: { code?: number }) => err.code === 4000)
  })

  it('app.rooms.create, get, list, members and delete see the whole cluster', async () => {
    await a.app.rooms.create({ id: 'shared', name: 'Shared', max_clients: 3 })
    await assert.rejects(b.app.rooms.create({ id: 'shared' }), (err: { code?: number }) => err.code === 3001)
    const onB = await b.connect()
    await onB.request('join_room', { room_id: 'shared' })
    assert.equal((await a.app.rooms.get('shared'))?.name, 'Shared')
    assert.deepEqual((await a.app.rooms.list()).map((r) => [r.id, r.members]), [['shared', 1]])
    assert.deepEqual(await a.app.rooms.members('shared'), [{ client_id: onB.id, user_id: null, node_id: b.app.nodeId }])
    await a.app.rooms.delete('shared')
    assert.equal((await onB.next('room_left')).data.reason, 'deleted')
    assert.equal(await b.app.rooms.get('shared'), null)
    await assert.rejects(a.app.rooms.delete('shared'), (err: { code?: number }) => err.code === 3000)
  })

  it('app.clients counts, lists and kicks clients of every node', async () => {
    await a.connect()
    const onB = await b.connect()
    await eventually(async () => (await a.app.clients.count()) === 2, 5000, 'two registered clients')
    const page = await a.app.clients.list()
    assert.deepEqual(page.clients.map((c) => c.node_id).sort(), [a.app.nodeId, b.app.nodeId].sort())
    await a.app.clients.kick(onB.id)
    assert.equal((await onB.waitClose()).code, 4000)
  })
})

describe('app events', () => {
  let node: TestNode
  beforeEach(async () => (node = await startNode()))
  afterEach(() => node.close())

  it('connection carries the client id, user id, claims, time and remote address', async () => {
    const seen = record(node, 'connection')
    const client = await node.connect()
    const [conn, info] = seen[0]!
    assert.equal(conn.id, client.id)
    assert.deepEqual({ ...info, time: 0 }, { clientId: client.id, userId: null, claims: null, time: 0, remoteAddress: '127.0.0.1' })
    assert.equal(typeof info.time, 'number')
  })

  it('disconnect carries the client facts with the close code and reason', async () => {
    const seen = record(node, 'disconnect')
    const client = await node.connect()
    await node.app.kick(client.id, 'bye')
    await eventually(() => seen.length === 1, 5000, 'disconnect event')
    const [, info] = seen[0]!
    assert.equal(info.clientId, client.id)
    assert.equal(info.code, 4000)
    assert.equal(info.reason, 'bye')
  })

  it('room_created names the room, its record and the client whose join made it', async () => {
    const seen = record(node, 'room_created')
    const client = await node.connect()
    await client.request('join_room', { room_id: 'auto' })
    await node.app.rooms.create({ id: 'made' })
    assert.deepEqual(seen.map(([e]) => [e.room, e.record.id, e.clientId]), [['auto', 'auto', client.id], ['made', 'made', null]])
  })

  it('room_joined and room_left carry the room, the client facts and why it left', async () => {
    const joined = record(node, 'room_joined')
    const left = record(node, 'room_left')
    const client = await node.connect()
    for (const room of ['r1', 'r2', 'r3']) await client.request('join_room', { room_id: room })
    await client.request('leave_room', { room_id: 'r1' })
    await node.app.rooms.delete('r2')
    client.close()
    await eventually(() => left.length === 3, 5000, 'three room_left events')
    assert.deepEqual(joined.map(([e]) => [e.room, e.clientId, e.userId]), [['r1', client.id, null], ['r2', client.id, null], ['r3', client.id, null]])
    assert.deepEqual(left.map(([e]) => [e.room, e.reason, e.clientId]), [['r1', 'left', client.id], ['r2', 'deleted', client.id], ['r3', 'disconnect', client.id]])
  })

  it('room_deleted names the room', async () => {
    const seen = record(node, 'room_deleted')
    await node.app.rooms.create({ id: 'gone' })
    await node.app.rooms.delete('gone')
    assert.deepEqual(seen.map(([e]) => e.room), ['gone'])
  })
})
