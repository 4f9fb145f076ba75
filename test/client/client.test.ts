import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { WshubClient, WshubError, ClientError, ErrorCode } from '../../lib/client/index.js'
import { startNode, type TestNode } from '../support/node.js'
import { nextEvent, record, until } from './helpers.js'

let node: TestNode
const clients: WshubClient[] = []
/** Frames the test routes saw: type, message id, client id. */
const seen: Array<{ type: string; messageId: unknown; clientId: string; data: unknown }> = []
let releaseSlow: () => void = () => {}

function client(options: ConstructorParameters<typeof WshubClient>[1] = {}): WshubClient {
  const c = new WshubClient(node.url, options)
  clients.push(c)
  return c
}

async function connected(options: ConstructorParameters<typeof WshubClient>[1] = {}): Promise<WshubClient> {
  const c = client(options)
  await c.connect()
  return c
}

let roomCounter = 0
const freshRoom = () => `room-${process.pid}-${++roomCounter}`

before(async () => {
  node = await startNode({ rooms: { history_size: 10 } })
  node.app.route('echo', (ctx) => {
    seen.push({ type: ctx.type, messageId: ctx.messageId, clientId: ctx.client.id, data: ctx.data })
    ctx.reply('echo_reply', ctx.data)
  })
  node.app.route('note', (ctx) => {
    seen.push({ type: ctx.type, messageId: ctx.messageId, clientId: ctx.client.id, data: ctx.data })
  })
  node.app.route('slow', () => new Promise<void>((resolve) => (releaseSlow = resolve)))
})

after(async () => {
  releaseSlow()
  await Promise.all(clients.map((c) => c.close()))
  await node.close()
})

describe('WshubClient#connect', () => {
  it('resolves with the server welcome', async () => {
    const c = client()
    const welcome = await c.connect()
    assert.match(welcome.client_id, /^node-[0-9a-f]+\./)
    assert.equal(welcome.protocol, 1)
    assert.equal(welcome.heartbeat_ms, 30000)
    assert.equal(c.state, 'open')
    assert.deepEqual(c.welcome, welcome)
  })

  it('emits connecting, then open', async () => {
    const c = client()
    const events: string[] = []
    c.on('connecting', () => events.push('connecting'))
    c.on('open', () => events.push('open'))
    await c.connect()
    assert.deepEqual(events, ['connecting', 'open'])
  })

  it('rejects once the client is closed', async () => {
    const c = client()
    await c.close()
    await assert.rejects(c.connect(), (err: unknown) => err instanceof ClientError && err.reason === 'closed')
  })
})

describe('WshubClient#request', () => {
  it('resolves with the reply that carries its message_id as request_id', async () => {
    const c = await connected()
    const reply = await c.request('echo', { n: 1 })
    assert.equal(reply.message_type, 'echo_reply')
    assert.deepEqual(reply.data, { n: 1 })
    const mine = seen.find((s) => s.clientId === c.welcome!.client_id)!
    assert.equal(reply.request_id, mine.messageId)
  })

  it('sends random string message_ids', async () => {
    const c = await connected()
    await Promise.all([c.request('echo', 1), c.request('echo', 2)])
    const ids = seen.filter((s) => s.clientId === c.welcome!.client_id).map((s) => s.messageId)
    assert.equal(ids.length, 2)
    for (const id of ids) assert.match(id as string, /^[0-9a-f]{24}$/)
    assert.notEqual(ids[0], ids[1])
  })

  it('rejects with a WshubError carrying the protocol code', async () => {
    const c = await connected()
    await assert.rejects(c.request('no_such_type'), (err: unknown) => err instanceof WshubError && err.code === ErrorCode.UnknownMessageType && typeof err.requestId === 'string')
  })

  it('rejects with code 1004 when no reply comes in time', async () => {
    const c = await connected()
    await assert.rejects(c.request('slow', null, { timeout: 50 }), (err: unknown) => err instanceof WshubError && err.code === ErrorCode.Timeout)
    releaseSlow()
  })

  it('refuses an invalid message type before sending', async () => {
    const c = await connected()
    await assert.rejects(c.request('has space'), TypeError)
  })
})

describe('WshubClient#send', () => {
  it('sends a frame without a message_id', async () => {
    const c = await connected()
    c.send('note', { hello: true })
    await until(() => seen.some((s) => s.clientId === c.welcome!.client_id && s.type === 'note'))
    const frame = seen.find((s) => s.clientId === c.welcome!.client_id && s.type === 'note')!
    assert.equal(frame.messageId, null)
    assert.deepEqual(frame.data, { hello: true })
  })

  it('throws a TypeError for an invalid message type', async () => {
    const c = await connected()
    assert.throws(() => c.send(''), TypeError)
  })
})

describe('WshubClient#on', () => {
  it('hands a handler the data and the whole frame of its message type', async () => {
    const room = freshRoom()
    const [a, b] = await Promise.all([connected(), connected()])
    await a.join(room)
    await b.join(room)
    const got = nextEvent(a, 'room_message')
    const frames: any[] = []
    a.on('room_message', (_data, frame) => frames.push(frame))
    await b.publish(room, 'hi')
    const data = await got
    assert.equal(data.content, 'hi')
    assert.equal(data.sender_id, b.welcome!.client_id)
    assert.equal(typeof frames[0].timestamp, 'number')
  })

  it('hands every frame to a * handler', async () => {
    const c = client()
    const types = record<unknown>(c, '*')
    const frames: string[] = []
    c.on('*', (_data: unknown, frame: { message_type: string }) => frames.push(frame.message_type))
    await c.connect()
    await c.request('ping')
    assert.deepEqual(frames, ['welcome', 'pong'])
    assert.equal(types.length, 2)
  })
})

describe('WshubClient#off', () => {
  it('stops calling the handler', async () => {
    const room = freshRoom()
    const [a, b] = await Promise.all([connected(), connected()])
    await a.join(room)
    await b.join(room)
    const calls: unknown[] = []
    const handler = (data: unknown) => calls.push(data)
    a.on('room_message', handler)
    a.off('room_message', handler)
    const last = nextEvent(a, 'room_message')
    await b.publish(room, 'x')
    await last
    assert.deepEqual(calls, [])
  })
})

describe('WshubClient#join', () => {
  it('answers with the room_joined data and lists the room', async () => {
    const room = freshRoom()
    const c = await connected()
    const joined = await c.join(room)
    assert.deepEqual(joined, { room_id: room, status: 'joined', members: 1 })
    assert.deepEqual(c.joinedRooms, [room])
  })

  it('replays the room history before answering when given since', async () => {
    const room = freshRoom()
    const writer = await connected()
    await writer.join(room)
    for (const text of ['one', 'two']) await writer.publish(room, text)
    const reader = await connected()
    const replayed = record<{ content: string; offset: number }>(reader, 'room_message')
    const joined = await reader.join(room, { since: 0 })
    assert.equal(joined.recovered, true)
    assert.deepEqual(replayed.map((m) => m.content), ['one', 'two'])
    assert.equal(reader.lastOffset(room), replayed[1]!.offset)
  })

  it('rejects with 3004 when already in the room, and stays in it', async () => {
    const room = freshRoom()
    const c = await connected()
    await c.join(room)
    await assert.rejects(c.join(room), (err: unknown) => err instanceof WshubError && err.code === ErrorCode.AlreadyInRoom)
    assert.deepEqual(c.joinedRooms, [room])
  })
})

describe('WshubClient#leave', () => {
  it('leaves the room', async () => {
    const room = freshRoom()
    const c = await connected()
    await c.join(room)
    await c.leave(room)
    assert.deepEqual(c.joinedRooms, [])
    await assert.rejects(c.publish(room, 'x'), (err: unknown) => err instanceof WshubError && err.code === ErrorCode.NotInRoom)
  })

  it('resolves when the client was not in the room', async () => {
    const c = await connected()
    await c.leave(freshRoom())
  })
})

describe('WshubClient#publish', () => {
  it('resolves on the server ack', async () => {
    const room = freshRoom()
    const c = await connected()
    await c.join(room)
    const ack = await c.publish(room, 'hello')
    assert.equal(ack.message_type, 'ack')
    assert.deepEqual(ack.data, { status: 'ok' })
  })
})

describe('WshubClient#sendTo', () => {
  it('delivers a direct message to another client', async () => {
    const [a, b] = await Promise.all([connected(), connected()])
    const got = nextEvent(b, 'direct_message')
    await a.sendTo(b.welcome!.client_id, { secret: 42 })
    assert.deepEqual(await got, { content: { secret: 42 }, sender_id: a.welcome!.client_id, sender_user_id: null })
  })

  it('rejects with 4000 for a client that does not exist', async () => {
    const a = await connected()
    await assert.rejects(a.sendTo(`${node.app.nodeId}.nobody`, 'x'), (err: unknown) => err instanceof WshubError && err.code === ErrorCode.ClientNotFound)
  })
})

describe('WshubClient#members', () => {
  it('lists the members of a room', async () => {
    const room = freshRoom()
    const [a, b] = await Promise.all([connected(), connected()])
    await a.join(room)
    await b.join(room)
    const members = await a.members(room)
    assert.deepEqual(members.map((m) => m.client_id).sort(), [a.welcome!.client_id, b.welcome!.client_id].sort())
  })
})

describe('WshubClient#close', () => {
  it('closes for good and says so', async () => {
    const c = await connected()
    const closed = nextEvent(c, 'closed')
    await c.close()
    assert.deepEqual(await closed, { code: 1000, reason: 'client closed', reconnect: false })
    assert.equal(c.state, 'closed')
  })

  it('rejects the requests still waiting', async () => {
    const c = await connected()
    const rejected = assert.rejects(c.request('slow'), (err: unknown) => err instanceof ClientError && err.reason === 'closed')
    await c.close()
    await rejected
    releaseSlow()
  })

  it('makes later sends throw', async () => {
    const c = await connected()
    await c.close()
    assert.throws(() => c.send('note'), (err: unknown) => err instanceof ClientError && err.reason === 'closed')
    await assert.rejects(c.request('echo'), (err: unknown) => err instanceof ClientError && err.reason === 'closed')
  })

  it('does not reconnect after the server kicks the client', async () => {
    const c = await connected()
    const closed = nextEvent(c, 'closed')
    await node.app.kick(c.welcome!.client_id)
    const info = await closed
    assert.equal(info.code, 4000)
    assert.equal(info.reconnect, false)
    assert.equal(c.state, 'closed')
  })
})
