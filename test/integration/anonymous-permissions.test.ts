import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { nodesClosedAfter } from '../support/node.js'
import { assertError, assertUsable } from '../support/expect.js'

const nodeWith = nodesClosedAfter()

/** A node whose anonymous clients hold exactly these permissions. */
const anonymousCan = (...permissions: string[]) => nodeWith({ auth: { anonymous_permissions: permissions } })

describe('auth.anonymous_permissions', () => {
  it('is what the core checks when no auth middleware is installed: a join without join:room gets 2001', async () => {
    const node = await anonymousCan('leave:room', 'send:message', 'create:room')
    const client = await node.connect()
    assertError(await client.request('join_room', { room_id: 'lobby' }, 1), 2001, 1)
    await assertUsable(client)
  })

  it('grants one room only when the grant names it', async () => {
    const node = await anonymousCan('join:room:lobby', 'create:room')
    const client = await node.connect()
    assert.equal((await client.request('join_room', { room_id: 'lobby' })).message_type, 'room_joined')
    assertError(await client.request('join_room', { room_id: 'other' }, 2), 2001, 2)
    await assertUsable(client)
  })

  it('answers 2001 to a room_message without send:message', async () => {
    const node = await anonymousCan('join:room', 'create:room')
    const client = await node.connect()
    await client.request('join_room', { room_id: 'lobby' })
    assertError(await client.request('room_message', { room_id: 'lobby', content: 'x' }, 3), 2001, 3)
    await assertUsable(client)
  })

  it('answers 2001 to a direct_message without send:message', async () => {
    const node = await anonymousCan('join:room')
    const [a, b] = [await node.connect(), await node.connect()]
    assertError(await a.request('direct_message', { target_id: b.id, content: 'x' }, 4), 2001, 4)
    await assertUsable(a)
    assert.deepEqual(await b.quiet(100), [])
  })

  it('answers 3000 to a join of a missing room without create:room', async () => {
    const node = await anonymousCan('join:room', 'send:message')
    const client = await node.connect()
    assertError(await client.request('join_room', { room_id: 'nowhere' }, 5), 3000, 5)
    await assertUsable(client)
  })

  it('lets a client without create:room join a room that exists', async () => {
    const node = await anonymousCan('join:room')
    await node.app.rooms.create({ id: 'made' })
    const client = await node.connect()
    assert.equal((await client.request('join_room', { room_id: 'made' })).message_type, 'room_joined')
  })

  it('gives read:presence holders the member list of a room they are not in', async () => {
    const node = await anonymousCan('join:room', 'create:room', 'read:presence')
    const [a, watcher] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'watched' })
    const reply = await watcher.request('room_members', { room_id: 'watched' })
    assert.equal(reply.message_type, 'room_members')
    assert.deepEqual(reply.data.members.map((m: any) => m.client_id), [a.id])
  })

  it('answers 3000 to a read:presence holder asking for a room that does not exist', async () => {
    const node = await anonymousCan('read:presence')
    const watcher = await node.connect()
    assertError(await watcher.request('room_members', { room_id: 'ghost' }, 6), 3000, 6)
    await assertUsable(watcher)
  })

  it('honours a read:presence grant scoped to one room', async () => {
    const node = await anonymousCan('join:room', 'create:room', 'read:presence:seen')
    const [a, watcher] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'seen' })
    await a.request('join_room', { room_id: 'unseen' })
    assert.equal((await watcher.request('room_members', { room_id: 'seen' })).message_type, 'room_members')
    assertError(await watcher.request('room_members', { room_id: 'unseen' }, 7), 3003, 7)
    await assertUsable(watcher)
  })
})

describe('rooms.auto_create', () => {
  it('off: a join of a missing room gets 3000 even with create:room', async () => {
    const node = await nodeWith({ rooms: { auto_create: false } })
    const client = await node.connect()
    assertError(await client.request('join_room', { room_id: 'lobby' }, 1), 3000, 1)
    await assertUsable(client)
  })

  it('off: a room made through the server SDK can be joined', async () => {
    const node = await nodeWith({ rooms: { auto_create: false } })
    await node.app.rooms.create({ id: 'lobby' })
    const client = await node.connect()
    assert.equal((await client.request('join_room', { room_id: 'lobby' })).message_type, 'room_joined')
  })
})

describe('rooms.default_max_clients', () => {
  it('limits rooms made on first join: 3002 past it', async () => {
    const node = await nodeWith({ rooms: { default_max_clients: 2 } })
    const [a, b, c] = [await node.connect(), await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'small' })
    await b.request('join_room', { room_id: 'small' })
    assertError(await c.request('join_room', { room_id: 'small' }, 1), 3002, 1)
    await assertUsable(c)
  })

  it('gives way to the max_clients a room was made with', async () => {
    const node = await nodeWith({ rooms: { default_max_clients: 1 } })
    await node.app.rooms.create({ id: 'bigger', max_clients: 2 })
    const [a, b] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'bigger' })
    assert.equal((await b.request('join_room', { room_id: 'bigger' })).message_type, 'room_joined')
  })
})
