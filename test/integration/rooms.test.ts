import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { assertError, assertUsable, eventually } from '../support/expect.js'
import type { TestClient } from '../support/ws-client.js'

let node: TestNode
let roomCounter = 0
/** A room id no other test uses. */
const freshRoom = () => `room-${++roomCounter}`

before(async () => {
  node = await startNode()
})
after(() => node.close())

async function joined(client: TestClient, room: string): Promise<void> {
  const reply = await client.request('join_room', { room_id: room })
  assert.equal(reply.message_type, 'room_joined', JSON.stringify(reply))
}

describe('join_room', () => {
  it('joins, creating the room on first join, and answers room_joined with the member count', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    const first = await a.request('join_room', { room_id: room }, 'j1')
    assert.deepEqual(first, { message_type: 'room_joined', request_id: 'j1', data: { room_id: room, status: 'joined', members: 1 } })
    assert.equal((await b.request('join_room', { room_id: room })).data.members, 2)
  })

  it('answers room_joined even without message_id', async () => {
    const client = await node.connect()
    const room = freshRoom()
    client.send({ message_type: 'join_room', data: { room_id: room } })
    const reply = await client.next('room_joined')
    assert.equal(reply.data.room_id, room)
    assert.equal('request_id' in reply, false)
  })

  it('answers 3004 to a second join of the same room', async () => {
    const client = await node.connect()
    const room = freshRoom()
    await joined(client, room)
    assertError(await client.request('join_room', { room_id: room }, 5), 3004, 5)
    await assertUsable(client)
  })

  for (const [name, id] of [['empty', ''], ['129 chars', 'r'.repeat(129)], ['with a space', 'a b'], ['a number', 7], ['missing', undefined]] as const) {
    it(`answers 1001 to a room_id ${name}`, async () => {
      const client = await node.connect()
      assertError(await client.request('join_room', { room_id: id }, 3), 1001, 3)
      await assertUsable(client)
    })
  }

  it('answers 1001 when data is not an object', async () => {
    const client = await node.connect()
    assertError(await client.request('join_room', 'lobby', 3), 1001, 3)
    await assertUsable(client)
  })

  it('accepts a 128-char room id', async () => {
    const client = await node.connect()
    await joined(client, 'r'.repeat(128))
  })

  it('answers 3002 when a room made with max_clients is full', async () => {
    const room = freshRoom()
    await node.app.rooms.create({ id: room, max_clients: 1 })
    const [a, b] = [await node.connect(), await node.connect()]
    await joined(a, room)
    assertError(await b.request('join_room', { room_id: room }, 1), 3002, 1)
    await assertUsable(b)
  })

  it('lets a client in once a member of a full room left', async () => {
    const room = freshRoom()
    await node.app.rooms.create({ id: room, max_clients: 1 })
    const [a, b] = [await node.connect(), await node.connect()]
    await joined(a, room)
    await a.request('leave_room', { room_id: room })
    await joined(b, room)
  })
})

describe('leave_room', () => {
  it('answers room_left', async () => {
    const client = await node.connect()
    const room = freshRoom()
    await joined(client, room)
    assert.deepEqual(await client.request('leave_room', { room_id: room }, 8), { message_type: 'room_left', request_id: 8, data: { room_id: room, status: 'left' } })
  })

  it('answers 3003 when not in the room, whether it exists or not', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await joined(a, room)
    assertError(await b.request('leave_room', { room_id: room }, 1), 3003, 1)
    assertError(await b.request('leave_room', { room_id: freshRoom() }, 2), 3003, 2)
    await assertUsable(b)
  })

  it('answers 1001 to a bad room_id', async () => {
    const client = await node.connect()
    assertError(await client.request('leave_room', { room_id: 'a/b' }, 1), 1001, 1)
    await assertUsable(client)
  })

  it('stops deliveries of the room to the one who left', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await joined(a, room)
    await joined(b, room)
    await b.request('leave_room', { room_id: room })
    await a.request('room_message', { room_id: room, content: 'after' })
    assert.deepEqual((await b.quiet(100)).filter((f) => f.message_type === 'room_message'), [])
  })
})

describe('room_message', () => {
  it('reaches every other member with timestamp, sender ids and content, and not the sender', async () => {
    const [a, b, c] = [await node.connect(), await node.connect(), await node.connect()]
    const room = freshRoom()
    for (const client of [a, b, c]) await joined(client, room)
    const before = Date.now()
    const ack = await a.request('room_message', { room_id: room, content: { text: 'hi' } }, 'm1')
    assert.deepEqual(ack, { message_type: 'ack', request_id: 'm1', data: { status: 'ok' } })
    for (const other of [b, c]) {
      const got = await other.next('room_message')
      assert.deepEqual(got.data, { room_id: room, content: { text: 'hi' }, sender_id: a.id, sender_user_id: null })
      assert.ok(typeof got.timestamp === 'number' && got.timestamp >= before, JSON.stringify(got))
      assert.equal('request_id' in got, false)
    }
    assert.deepEqual((await a.quiet(100)).filter((f) => f.message_type === 'room_message'), [])
  })

  it('gets no ack without message_id', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await joined(a, room)
    await joined(b, room)
    a.send({ message_type: 'room_message', data: { room_id: room, content: 1 } })
    await b.next('room_message')
    assert.deepEqual(await a.quiet(100), [])
  })

  it('does not reach clients outside the room', async () => {
    const [a, outsider] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await joined(a, room)
    await joined(outsider, freshRoom())
    await a.request('room_message', { room_id: room, content: 'x' })
    assert.deepEqual(await outsider.quiet(100), [])
  })

  it('answers 3003 from a non-member, whether the room exists or not', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await joined(a, room)
    assertError(await b.request('room_message', { room_id: room, content: 'x' }, 4), 3003, 4)
    assertError(await b.request('room_message', { room_id: freshRoom(), content: 'x' }, 5), 3003, 5)
    await assertUsable(b)
  })

  it('answers 1001 to a bad room_id or missing content', async () => {
    const client = await node.connect()
    const room = freshRoom()
    await joined(client, room)
    assertError(await client.request('room_message', { room_id: '', content: 'x' }, 'bad-room'), 1001, 'bad-room')
    assertError(await client.request('room_message', { room_id: room }, 'no-content'), 1001, 'no-content')
    await assertUsable(client)
  })

  it('delivers a join immediately followed by a message: frames of one connection run in order', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await joined(b, room)
    a.send({ message_type: 'join_room', data: { room_id: room }, message_id: 1 })
    a.send({ message_type: 'room_message', data: { room_id: room, content: 'first' }, message_id: 2 })
    a.send({ message_type: 'room_message', data: { room_id: room, content: 'second' }, message_id: 3 })
    assert.equal((await a.next((f) => f.request_id === 1)).message_type, 'room_joined')
    assert.equal((await a.next((f) => f.request_id === 2)).message_type, 'ack')
    assert.equal((await a.next((f) => f.request_id === 3)).message_type, 'ack')
    assert.equal((await b.next('room_message')).data.content, 'first')
    assert.equal((await b.next('room_message')).data.content, 'second')
  })

  it('answers replies in the order the requests came', async () => {
    const client = await node.connect()
    const room = freshRoom()
    for (let i = 1; i <= 20; i++) client.send({ message_type: i % 2 ? 'join_room' : 'leave_room', data: { room_id: room }, message_id: i })
    const replies = []
    for (let i = 1; i <= 20; i++) replies.push(await client.next((f) => f.request_id !== undefined))
    assert.deepEqual(replies.map((f) => f.request_id), Array.from({ length: 20 }, (_, i) => i + 1))
    assert.ok(replies.every((f, i) => f.message_type === (i % 2 ? 'room_left' : 'room_joined')))
  })
})

describe('direct_message', () => {
  it('reaches the target with content, sender ids and timestamp; the sender gets an ack', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const ack = await a.request('direct_message', { target_id: b.id, content: { hello: 1 } }, 'd1')
    assert.deepEqual(ack, { message_type: 'ack', request_id: 'd1', data: { status: 'ok' } })
    const got = await b.next('direct_message')
    assert.deepEqual(got.data, { content: { hello: 1 }, sender_id: a.id, sender_user_id: null })
    assert.equal(typeof got.timestamp, 'number')
  })

  it('answers 4000 for a client that does not exist', async () => {
    const a = await node.connect()
    assertError(await a.request('direct_message', { target_id: `${node.app.nodeId}.nobody`, content: 1 }, 1), 4000, 1)
    assertError(await a.request('direct_message', { target_id: 'no-dot-at-all', content: 1 }, 2), 4000, 2)
    assertError(await a.request('direct_message', { target_id: 'other-node.someone', content: 1 }, 3), 4000, 3)
    await assertUsable(a)
  })

  it('answers 4000 for a client that disconnected', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const gone = b.id
    b.close()
    await b.waitClose()
    await eventually(() => !node.app.server.connections.has(gone), 3000, 'server saw the close')
    assertError(await a.request('direct_message', { target_id: gone, content: 1 }, 1), 4000, 1)
    await assertUsable(a)
  })

  it('answers 1001 when target_id or content is missing', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    assertError(await a.request('direct_message', { content: 1 }, 1), 1001, 1)
    assertError(await a.request('direct_message', { target_id: b.id }, 2), 1001, 2)
    await assertUsable(a)
  })
})

describe('room_members', () => {
  it('lists the members to a member', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await joined(a, room)
    await joined(b, room)
    const reply = await a.request('room_members', { room_id: room }, 'rm')
    assert.equal(reply.message_type, 'room_members')
    assert.equal(reply.data.room_id, room)
    const members = [...reply.data.members].sort((x: any, y: any) => x.client_id.localeCompare(y.client_id))
    const expected = [a, b].map((c) => ({ client_id: c.id, user_id: null, node_id: node.app.nodeId })).sort((x, y) => x.client_id.localeCompare(y.client_id))
    assert.deepEqual(members, expected)
  })

  it('answers 3003 to a non-member without read:presence, whether the room exists or not', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await joined(a, room)
    assertError(await b.request('room_members', { room_id: room }, 1), 3003, 1)
    assertError(await b.request('room_members', { room_id: freshRoom() }, 2), 3003, 2)
    await assertUsable(b)
  })

  it('drops a member that disconnected', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await joined(a, room)
    await joined(b, room)
    b.close()
    await b.waitClose()
    await eventually(async () => (await a.request('room_members', { room_id: room })).data.members.length === 1, 3000, 'member removed')
    const reply = await a.request('room_members', { room_id: room })
    assert.deepEqual(reply.data.members.map((m: any) => m.client_id), [a.id])
  })

  it('answers 1001 to a bad room_id', async () => {
    const client = await node.connect()
    assertError(await client.request('room_members', { room_id: 'bad room' }, 1), 1001, 1)
    await assertUsable(client)
  })
})
