import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { nodesClosedAfter } from '../support/node.js'

const nodeWith = nodesClosedAfter()

describe('rooms.presence_events', () => {
  it('on: members get member_joined when another joins, not the joiner', async () => {
    const node = await nodeWith({ rooms: { presence_events: true } })
    const [a, b] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'p' })
    await b.request('join_room', { room_id: 'p' })
    const event = await a.next('member_joined')
    assert.deepEqual(event.data, { room_id: 'p', client_id: b.id, user_id: null })
    assert.deepEqual((await b.quiet(100)).filter((f) => f.message_type === 'member_joined'), [])
  })

  it('on: members get member_left when another leaves', async () => {
    const node = await nodeWith({ rooms: { presence_events: true } })
    const [a, b] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'p' })
    await b.request('join_room', { room_id: 'p' })
    await b.request('leave_room', { room_id: 'p' })
    assert.deepEqual((await a.next('member_left')).data, { room_id: 'p', client_id: b.id, user_id: null })
  })

  it('on: members get member_left when another disconnects', async () => {
    const node = await nodeWith({ rooms: { presence_events: true } })
    const [a, b] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'p' })
    await b.request('join_room', { room_id: 'p' })
    const gone = b.id
    b.socket.terminate()
    assert.deepEqual((await a.next('member_left')).data, { room_id: 'p', client_id: gone, user_id: null })
  })

  it('off (the default): no presence events', async () => {
    const node = await nodeWith({})
    const [a, b] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'p' })
    await b.request('join_room', { room_id: 'p' })
    await b.request('leave_room', { room_id: 'p' })
    assert.deepEqual((await a.quiet(150)).map((f) => f.message_type), [])
  })

  it('a room made with presence_events true sends them where the config is off', async () => {
    const node = await nodeWith({})
    await node.app.rooms.create({ id: 'loud', presence_events: true })
    const [a, b] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'loud' })
    await b.request('join_room', { room_id: 'loud' })
    assert.equal((await a.next('member_joined')).data.client_id, b.id)
  })

  it('a room made with presence_events false sends none where the config is on', async () => {
    const node = await nodeWith({ rooms: { presence_events: true } })
    await node.app.rooms.create({ id: 'quiet', presence_events: false })
    const [a, b] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'quiet' })
    await b.request('join_room', { room_id: 'quiet' })
    await b.request('leave_room', { room_id: 'quiet' })
    assert.deepEqual((await a.quiet(150)).map((f) => f.message_type), [])
  })
})
