import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createApp, ErrorCode } from 'wshub'
import { testHarness } from 'wshub/testing'
import { testLogger } from '../support/node.js'

describe('testHarness', () => {
  it('runs a frame through the chain and returns the reply it caused', async () => {
    const app = createApp({}, { defaults: false, logger: testLogger() })
    app.route('echo', (ctx) => ctx.reply('echo_reply', ctx.data))
    const client = (await testHarness(app)).connect()
    const frames = await client.send({ message_type: 'echo', data: { n: 1 }, message_id: 7 })
    assert.deepEqual(frames, [{ message_type: 'echo_reply', request_id: 7, data: { n: 1 } }])
  })

  it('answers an envelope error as the server would', async () => {
    const app = createApp({}, { defaults: false, logger: testLogger() })
    const client = (await testHarness(app)).connect()
    const [frame] = await client.send({ message_type: 'bad type!', message_id: 3 })
    assert.equal(frame?.data.code, ErrorCode.InvalidFormat)
    assert.equal(frame?.request_id, 3)
  })

  it('runs built-in routes against the memory state, with the identity given', async () => {
    const app = createApp({}, { defaults: false, logger: testLogger() })
    const harness = await testHarness(app)
    const member = harness.connect({ userId: 'u1' })
    const other = harness.connect({ permissions: ['join:room'] })
    const [joined] = await member.send({ message_type: 'join_room', data: { room_id: 'lobby' }, message_id: 1 })
    assert.equal(joined?.message_type, 'room_joined')
    const [refused] = await other.send({ message_type: 'join_room', data: { room_id: 'other' }, message_id: 1 })
    assert.equal(refused?.data.code, ErrorCode.RoomNotFound, 'no create:room, so no auto-create')
    await other.send({ message_type: 'join_room', data: { room_id: 'lobby' } })
    await member.send({ message_type: 'room_message', data: { room_id: 'lobby', content: 'hi' } })
    const delivered = other.sent.find((f) => f.message_type === 'room_message')
    assert.equal(delivered?.data.sender_user_id, 'u1')
  })

  it('lets a handler require a permission with ctx.authorize (2001 without it)', async () => {
    const app = createApp({}, { defaults: false, logger: testLogger() })
    app.route('moderate', (ctx) => {
      ctx.authorize(`admin:room:${ctx.data.room_id}`)
      ctx.reply('moderated', null)
    })
    const harness = await testHarness(app)
    const [refused] = await harness.connect().send({ message_type: 'moderate', data: { room_id: 'lobby' }, message_id: 1 })
    assert.equal(refused?.data.code, ErrorCode.Forbidden)
    const [allowed] = await harness.connect({ permissions: ['admin:room:lobby'] }).send({ message_type: 'moderate', data: { room_id: 'lobby' }, message_id: 1 })
    assert.equal(allowed?.message_type, 'moderated')
  })
})
