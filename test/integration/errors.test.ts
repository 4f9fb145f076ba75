import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { assertError, assertUsable } from '../support/expect.js'
import { AppError, ErrorCode } from '../../lib/errors.js'

let node: TestNode
const appErrors: unknown[] = []

before(async () => {
  node = await startNode({ auth: { anonymous_permissions: ['join:room', 'create:room'] } })
  const { app } = node
  app.on('error', (err) => appErrors.push(err))
  app.route('explode', () => {
    throw new Error('secret internals at /srv/app/db.ts:42 password=hunter2')
  })
  app.route('explode_async', async () => {
    await new Promise((r) => setTimeout(r, 5))
    throw new TypeError('cannot read properties of undefined (reading "x")')
  })
  app.route('app_error', () => {
    throw new AppError(ErrorCode.RoomFull, 'the party is full', { capacity: 3 })
  })
  app.route('bigint_details', () => {
    throw new AppError(ErrorCode.InvalidFormat, 'bad amount', { amount: 10n })
  })
  app.route('ctx_throw', (ctx) => ctx.throw(ErrorCode.NotInRoom))
  app.route('reply_then_throw', (ctx) => {
    ctx.reply('partial', { ok: true })
    throw new Error('after the reply')
  })
  app.route('silent', () => {})
  app.route('reply_twice', (ctx) => {
    ctx.reply('first', 1)
    ctx.reply('second', 2)
    ctx.ack()
  })
  app.route('bad_reply_type', (ctx) => ctx.reply('bad"type', null))
  app.route('bigint_reply', (ctx) => ctx.reply('amount', { amount: 10n }))
  app.route('echo', (ctx) => ctx.reply('echo_reply', ctx.data))
  app.route('guarded', { permission: 'admin:room' }, (ctx) => ctx.reply('guarded_reply', null))
  app.route('small', { maxDataBytes: 20 }, (ctx) => ctx.reply('small_reply', null))
})
after(() => node.close())

describe('a thrown plain Error', () => {
  it('becomes 1003 with no internals in the message, and the connection stays usable', async () => {
    const client = await node.connect()
    const reply = await client.request('explode', null, 'e1')
    assertError(reply, ErrorCode.ServerError, 'e1')
    assert.doesNotMatch(JSON.stringify(reply), /secret|hunter2|db\.ts|stack/)
    assert.equal('details' in reply.data, false)
    await assertUsable(client)
  })

  it('becomes 1003 from an async handler too', async () => {
    const client = await node.connect()
    const reply = await client.request('explode_async', null, 2)
    assertError(reply, ErrorCode.ServerError, 2)
    assert.doesNotMatch(reply.data.message, /undefined|reading/)
  })

  it('reaches the app error event', async () => {
    const client = await node.connect()
    const before = appErrors.length
    await client.request('explode')
    assert.equal(appErrors.length, before + 1)
    assert.match((appErrors.at(-1) as Error).message, /secret internals/)
  })

  it('is answered with 1003 and no request_id when the frame had no message_id', async () => {
    const client = await node.connect()
    client.send({ message_type: 'explode' })
    assertError(await client.next('error'), ErrorCode.ServerError)
  })
})

describe('a thrown AppError', () => {
  it('reaches the client with its code, message and details', async () => {
    const client = await node.connect()
    const reply = await client.request('app_error', null, 3)
    assertError(reply, ErrorCode.RoomFull, 3)
    assert.deepEqual(reply.data, { code: 3002, message: 'the party is full', details: { capacity: 3 } })
  })

  it('still reaches the client, without details, when its details cannot be encoded', async () => {
    const client = await node.connect()
    assert.deepEqual((await client.request('bigint_details', null, 'b')).data, { code: 1001, message: 'bad amount' })
    await assertUsable(client)
  })

  it('from ctx.throw carries the default message of its code', async () => {
    const client = await node.connect()
    assert.deepEqual((await client.request('ctx_throw', null, 4)).data, { code: 3003, message: 'not in room' })
  })
})

describe('terminal replies', () => {
  it('are not followed by an error when the handler throws after replying', async () => {
    const client = await node.connect()
    const reply = await client.request('reply_then_throw', null, 'r1')
    assert.equal(reply.message_type, 'partial')
    await assertUsable(client)
    assert.deepEqual(client.frames.filter((f) => f.request_id === 'r1'), [])
  })

  it('are sent once: a second reply or an ack to the same request is not sent', async () => {
    const client = await node.connect()
    assert.deepEqual(await client.request('reply_twice', null, 't1'), { message_type: 'first', request_id: 't1', data: 1 })
    await assertUsable(client)
    assert.deepEqual(client.frames.filter((f) => f.request_id === 't1'), [])
  })

  it('do not limit replies to a frame that was not a request', async () => {
    const client = await node.connect()
    client.send({ message_type: 'reply_twice' })
    assert.deepEqual((await client.next('first')).data, 1)
    assert.deepEqual((await client.next('second')).data, 2)
  })

  it('are an ack when a request handler does not reply', async () => {
    const client = await node.connect()
    assert.deepEqual(await client.request('silent', null, 'a1'), { message_type: 'ack', request_id: 'a1', data: { status: 'ok' } })
  })

  it('are the handler reply only, with no ack after it', async () => {
    const client = await node.connect()
    assert.deepEqual(await client.request('echo', { v: 1 }, 'x1'), { message_type: 'echo_reply', request_id: 'x1', data: { v: 1 } })
    await assertUsable(client)
    assert.deepEqual(client.frames.filter((f) => f.request_id === 'x1'), [])
  })

  it('are absent for a frame without message_id whose handler does not reply', async () => {
    const client = await node.connect()
    client.send({ message_type: 'silent' })
    assert.deepEqual(await client.quiet(100), [])
  })
})

describe('a reply that cannot be encoded', () => {
  it('is not sent when its type is invalid: the client gets 1003 instead of a frame it cannot parse', async () => {
    const client = await node.connect()
    assertError(await client.request('bad_reply_type', null, 'bt'), ErrorCode.ServerError, 'bt')
    await assertUsable(client)
  })

  it('is not sent when its data is not JSON: the request still gets its terminal 1003', async () => {
    const client = await node.connect()
    assertError(await client.request('bigint_reply', null, 'bi'), ErrorCode.ServerError, 'bi')
  })
})

describe('route options', () => {
  it('permission: answers 2001 to a client without it', async () => {
    const client = await node.connect()
    assertError(await client.request('guarded', null, 5), ErrorCode.Forbidden, 5)
  })

  it('maxDataBytes: answers 4002 to data over the limit and runs data under it', async () => {
    const client = await node.connect()
    assertError(await client.request('small', { text: 'x'.repeat(50) }, 6), ErrorCode.MessageTooLarge, 6)
    assert.equal((await client.request('small', { t: 'x' })).message_type, 'small_reply')
  })
})
