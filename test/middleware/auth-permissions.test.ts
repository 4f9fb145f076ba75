/**
 * Every permission pattern of PROTOCOL.md section 5, end to end: a real token carries
 * the `permissions` claim, a real client asks, and the built-ins and routes decide.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { hs256, SECRET } from '../support/tokens.js'

describe('permissions from the token', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ auth: { secret: SECRET, allow_anonymous: false } })
    node.app.route('launch', { permission: 'launch:rocket' }, (ctx) => ctx.reply('launched', null))
    await node.app.rooms.create({ id: 'lobby' })
    await node.app.rooms.create({ id: 'team-red' })
    await node.app.rooms.create({ id: 'vault' })
    await node.app.rooms.create({ id: 'team' })
    await node.app.rooms.create({ id: 'team:admins' })
    node.app.route('paint', { permission: 'paint:wall:{wall_id}' }, (ctx) => ctx.reply('painted', null))
  })
  after(() => node.close())

  let users = 0
  const as = (permissions: string[]) => node.connect(`?token=${hs256({ sub: `user-${++users}`, permissions })}`)
  const code = (frame: { message_type: string; data: any }) => (frame.message_type === 'error' ? frame.data.code : frame.message_type)

  it('join:room grants every room', async () => {
    const client = await as(['join:room'])
    assert.equal(code(await client.request('join_room', { room_id: 'lobby' })), 'room_joined')
    assert.equal(code(await client.request('join_room', { room_id: 'vault' })), 'room_joined')
  })

  it('join:room:* grants every room', async () => {
    const client = await as(['join:room:*'])
    assert.equal(code(await client.request('join_room', { room_id: 'vault' })), 'room_joined')
  })

  it('join:room:lobby grants that room and no other (2001)', async () => {
    const client = await as(['join:room:lobby'])
    assert.equal(code(await client.request('join_room', { room_id: 'lobby' })), 'room_joined')
    assert.equal(code(await client.request('join_room', { room_id: 'vault' })), 2001)
  })

  it('a glob in the resource grants the rooms it matches', async () => {
    const client = await as(['join:room:team-*'])
    assert.equal(code(await client.request('join_room', { room_id: 'team-red' })), 'room_joined')
    assert.equal(code(await client.request('join_room', { room_id: 'lobby' })), 2001)
  })

  it('no permission at all refuses join_room with 2001', async () => {
    const client = await as([])
    assert.equal(code(await client.request('join_room', { room_id: 'lobby' })), 2001)
  })

  it('create:room lets a join create a missing room; without it the join gets 3000', async () => {
    const creator = await as(['join:room', 'create:room'])
    assert.equal(code(await creator.request('join_room', { room_id: 'made-by-join' })), 'room_joined')
    const joiner = await as(['join:room'])
    assert.equal(code(await joiner.request('join_room', { room_id: 'never-made' })), 3000)
  })

  it('create:room:<id> creates only that room', async () => {
    const client = await as(['join:room', 'create:room:mine'])
    assert.equal(code(await client.request('join_room', { room_id: 'mine' })), 'room_joined')
    assert.equal(code(await client.request('join_room', { room_id: 'not-mine' })), 3000)
  })

  it('send:message is needed for room_message (2001 without)', async () => {
    const sender = await as(['join:room', 'send:message'])
    const mute = await as(['join:room'])
    await sender.request('join_room', { room_id: 'lobby' })
    await mute.request('join_room', { room_id: 'lobby' })
    assert.equal(code(await mute.request('room_message', { room_id: 'lobby', content: 'hi' })), 2001)
    assert.equal(code(await sender.request('room_message', { room_id: 'lobby', content: 'hi' })), 'ack')
  })

  it('send:message:<room> lets its holder send to that room and no other (2001)', async () => {
    const sender = await as(['join:room', 'send:message:lobby'])
    await sender.request('join_room', { room_id: 'lobby' })
    await sender.request('join_room', { room_id: 'vault' })
    assert.equal(code(await sender.request('room_message', { room_id: 'lobby', content: 'hi' })), 'ack')
    const refused = await sender.request('room_message', { room_id: 'vault', content: 'hi' })
    assert.deepEqual([refused.data.code, refused.data.message], [2001, 'missing permission send:message:vault'])
  })

  it('send:message:* and a glob in the resource grant the rooms they match', async () => {
    const all = await as(['join:room', 'send:message:*'])
    const teams = await as(['join:room', 'send:message:team-*'])
    for (const c of [all, teams]) for (const room of ['team-red', 'lobby']) await c.request('join_room', { room_id: room })
    assert.equal(code(await all.request('room_message', { room_id: 'lobby', content: 'hi' })), 'ack')
    assert.equal(code(await teams.request('room_message', { room_id: 'team-red', content: 'hi' })), 'ack')
    assert.equal(code(await teams.request('room_message', { room_id: 'lobby', content: 'hi' })), 2001)
  })

  it('a grant for one room does not cover a room whose id starts with it and a colon', async () => {
    const client = await as(['join:room:team'])
    assert.equal(code(await client.request('join_room', { room_id: 'team' })), 'room_joined')
    assert.equal(code(await client.request('join_room', { room_id: 'team:admins' })), 2001)
  })

  it('a route permission with a :{field} tail takes the resource from that field of data', async () => {
    const bare = await as(['paint:wall'])
    const one = await as(['paint:wall:north'])
    assert.equal(code(await bare.request('paint', { wall_id: 'south' })), 'painted')
    assert.equal(code(await one.request('paint', { wall_id: 'north' })), 'painted')
    assert.equal(code(await one.request('paint', { wall_id: 'south' })), 2001)
    assert.equal(code(await one.request('paint', { wall_id: 7 })), 2001, 'a field that is not a string names no resource')
    assert.equal(code(await one.request('paint')), 2001)
  })

  it('send:message is needed for direct_message (2001 without)', async () => {
    const target = await as([])
    const mute = await as([])
    const sender = await as(['send:message'])
    assert.equal(code(await mute.request('direct_message', { target_id: target.id, content: 'psst' })), 2001)
    assert.equal(code(await sender.request('direct_message', { target_id: target.id, content: 'psst' })), 'ack')
    assert.equal((await target.next('direct_message')).data.content, 'psst')
  })

  it('read:presence lets a non-member list a room; without it the answer is 3003', async () => {
    const reader = await as(['read:presence'])
    const stranger = await as([])
    assert.equal(code(await reader.request('room_members', { room_id: 'vault' })), 'room_members')
    assert.equal(code(await stranger.request('room_members', { room_id: 'vault' })), 3003)
  })

  it('read:presence:<room> covers that room only', async () => {
    const reader = await as(['read:presence:lobby'])
    assert.equal(code(await reader.request('room_members', { room_id: 'lobby' })), 'room_members')
    assert.equal(code(await reader.request('room_members', { room_id: 'vault' })), 3003)
  })

  it('a route declaring a permission refuses clients without it (2001) and runs for those with it', async () => {
    const without = await as(['send:message'])
    const holder = await as(['launch:rocket'])
    assert.equal(code(await without.request('launch')), 2001)
    assert.equal(code(await holder.request('launch')), 'launched')
  })

  it('an action glob grants every object of the action', async () => {
    const client = await as(['launch:*'])
    assert.equal(code(await client.request('launch')), 'launched')
  })

  it('admin:system grants everything', async () => {
    const admin = await as(['admin:system'])
    assert.equal(code(await admin.request('join_room', { room_id: 'brand-new' })), 'room_joined')
    assert.equal(code(await admin.request('room_members', { room_id: 'vault' })), 'room_members')
    assert.equal(code(await admin.request('launch')), 'launched')
  })

  it('a permissions claim that is not an array grants nothing', async () => {
    const client = await node.connect(`?token=${hs256({ sub: 'odd', permissions: 'admin:system' })}`)
    assert.equal(code(await client.request('launch')), 2001)
  })
})

describe('anonymous permissions', () => {
  it('anonymous clients hold exactly auth.anonymous_permissions', async () => {
    const node = await startNode({ auth: { secret: SECRET, anonymous_permissions: ['join:room:public-*'] } })
    try {
      await node.app.rooms.create({ id: 'public-1' })
      await node.app.rooms.create({ id: 'private-1' })
      const client = await node.connect()
      assert.equal((await client.request('join_room', { room_id: 'public-1' })).message_type, 'room_joined')
      assert.equal((await client.request('join_room', { room_id: 'private-1' })).data.code, 2001)
      assert.equal((await client.request('room_message', { room_id: 'public-1', content: 'x' })).data.code, 2001)
    } finally {
      await node.close()
    }
  })
})
