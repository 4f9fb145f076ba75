import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { eventually } from '../support/expect.js'
import { AppError } from '../../lib/errors.js'

let node: TestNode
let roomCounter = 0
const freshRoom = () => `sdk-${++roomCounter}`

before(async () => {
  node = await startNode()
})
after(() => node.close())

describe('app.to(room).send', () => {
  it('reaches every member of the room with a timestamp, and nobody else', async () => {
    const [a, b, outsider] = [await node.connect(), await node.connect(), await node.connect()]
    const room = freshRoom()
    await a.request('join_room', { room_id: room })
    await b.request('join_room', { room_id: room })
    await node.app.to(room).send('notice', { text: 'noon' })
    for (const member of [a, b]) {
      const got = await member.next('notice')
      assert.deepEqual(got.data, { text: 'noon' })
      assert.equal(typeof got.timestamp, 'number')
    }
    assert.deepEqual(await outsider.quiet(100), [])
  })

  it('leaves out the clients named by except', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await a.request('join_room', { room_id: room })
    await b.request('join_room', { room_id: room })
    await node.app.to(room).except(a.id).send('notice', 1)
    await b.next('notice')
    assert.deepEqual(await a.quiet(100), [])
  })

  it('sends once to a member of several of the rooms', async () => {
    const client = await node.connect()
    const [r1, r2] = [freshRoom(), freshRoom()]
    await client.request('join_room', { room_id: r1 })
    await client.request('join_room', { room_id: r2 })
    await node.app.to(r1).to(r2).send('notice', 'once')
    await client.next('notice')
    assert.deepEqual(await client.quiet(100), [])
  })

  it('refuses a bad room id with 1001, also when added with .to()', () => {
    assert.throws(() => node.app.to('bad room'), (err: AppError) => err.code === 1001)
    assert.throws(() => node.app.to('good').to('bad room'), (err: AppError) => err.code === 1001)
  })

  it('is immutable: except() returns a new target', () => {
    const target = node.app.to('x')
    const narrowed = target.except('someone')
    assert.deepEqual(target.excluded, [])
    assert.deepEqual(narrowed.excluded, ['someone'])
  })
})

describe('app.broadcast', () => {
  it('reaches every client with a timestamp', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    await node.app.broadcast('announcement', { v: 2 })
    for (const client of [a, b]) {
      const got = await client.next('announcement')
      assert.deepEqual(got.data, { v: 2 })
      assert.equal(typeof got.timestamp, 'number')
    }
  })
})

describe('app.sendTo', () => {
  it('reaches one client', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    await node.app.sendTo(a.id, 'private', { x: 1 })
    assert.deepEqual((await a.next('private')).data, { x: 1 })
    assert.deepEqual(await b.quiet(100), [])
  })

  it('fails with 4000 for a client that does not exist', async () => {
    await assert.rejects(node.app.sendTo(`${node.app.nodeId}.ghost`, 'x', null), (err: AppError) => err.code === 4000)
    await assert.rejects(node.app.sendTo('elsewhere.ghost', 'x', null), (err: AppError) => err.code === 4000)
  })
})

describe('app.kick', () => {
  it('closes the client with 4000 and the reason', async () => {
    const client = await node.connect()
    await node.app.kick(client.id, 'bye')
    assert.deepEqual(await client.waitClose(), { code: 4000, reason: 'bye' })
  })

  it('cuts a reason longer than a close frame holds instead of failing', async () => {
    const client = await node.connect()
    await node.app.kick(client.id, 'é'.repeat(100))
    const closed = await client.waitClose()
    assert.equal(closed.code, 4000)
    assert.equal(closed.reason, 'é'.repeat(61))
  })

  it('removes the kicked client from its rooms', async () => {
    const [a, kicked] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await a.request('join_room', { room_id: room })
    await kicked.request('join_room', { room_id: room })
    await node.app.kick(kicked.id)
    await kicked.waitClose()
    await eventually(async () => (await node.app.rooms.members(room))?.length === 1, 3000, 'kicked member removed')
  })

  it('fails with 4000 for a client that does not exist', async () => {
    await assert.rejects(node.app.kick(`${node.app.nodeId}.ghost`), (err: AppError) => err.code === 4000)
  })
})

describe('app.rooms', () => {
  it('create fails with 3001 for a room that exists', async () => {
    const room = freshRoom()
    await node.app.rooms.create({ id: room })
    await assert.rejects(node.app.rooms.create({ id: room }), (err: AppError) => err.code === 3001)
  })

  it('delete sends room_left with reason deleted to members and forgets their membership', async () => {
    const client = await node.connect()
    const room = freshRoom()
    await client.request('join_room', { room_id: room })
    await node.app.rooms.delete(room)
    assert.deepEqual((await client.next('room_left')).data, { room_id: room, status: 'left', reason: 'deleted' })
    const reply = await client.request('room_message', { room_id: room, content: 'x' })
    assert.equal(reply.data.code, 3003)
  })

  it('delete fails with 3000 for a room that does not exist', async () => {
    await assert.rejects(node.app.rooms.delete(freshRoom()), (err: AppError) => err.code === 3000)
  })
})
