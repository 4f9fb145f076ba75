import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'
import { nodesClosedAfter } from '../support/node.js'
import { assertError, eventually } from '../support/expect.js'
import type { Connection } from '../../lib/connection.js'
import type { Context } from '../../lib/context.js'
import { useBackend } from '../support/backends.js'
import { skipUnless, testPrefix } from '../support/services.js'

const nodeWith = nodesClosedAfter()

/** A pino logger at `level` whose JSON lines land in `lines`. */
function capture(level: 'debug' | 'info'): { logger: Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return { logger: pino({ level }, stream), lines }
}

describe('app events', () => {
  it('emits connection once with the connected client', async () => {
    const node = await nodeWith()
    const seen: Connection[] = []
    node.app.on('connection', (client) => seen.push(client))
    const client = await node.connect()
    assert.equal(seen.length, 1)
    assert.equal(seen[0]!.id, client.id)
    assert.equal(seen[0]!.userId, null)
  })

  it('emits disconnect with the close code and reason the client sent', async () => {
    const node = await nodeWith()
    const seen: Array<{ id: string; code: number; reason: string }> = []
    node.app.on('disconnect', (client, info) => seen.push({ id: client.id, code: info.code, reason: info.reason }))
    const client = await node.connect()
    client.socket.close(4321, 'bye now')
    await eventually(() => seen.length === 1, 3000, 'disconnect event')
    assert.deepEqual(seen, [{ id: client.id, code: 4321, reason: 'bye now' }])
  })

  it('emits disconnect with 1006 when the socket drops without a close frame', async () => {
    const node = await nodeWith()
    const codes: number[] = []
    node.app.on('disconnect', (_c, info) => codes.push(info.code))
    const client = await node.connect()
    client.socket.terminate()
    await eventually(() => codes.length === 1, 3000, 'disconnect event')
    assert.deepEqual(codes, [1006])
  })

  it('emits message with the context of each valid frame', async () => {
    const node = await nodeWith()
    const seen: Array<[string, unknown, unknown]> = []
    node.app.on('message', (ctx: Context) => seen.push([ctx.type, ctx.data, ctx.messageId]))
    const client = await node.connect()
    await client.request('ping', { ts: 9 }, 'm')
    client.send('not json')
    await client.next('error')
    assert.deepEqual(seen, [['ping', { ts: 9 }, 'm']])
  })

  it('answers 1003 when a message listener throws, and keeps the connection usable', async () => {
    const node = await nodeWith()
    let calls = 0
    node.app.on('message', () => {
      calls++
      if (calls === 1) throw new Error('listener bug')
    })
    const client = await node.connect()
    client.send({ message_type: 'ping', message_id: 1 })
    assertError(await client.next((f) => f.request_id === 1), 1003, 1)
    assert.equal((await client.request('ping', null, 2)).message_type, 'pong')
  })
})

describe('per-frame logs', () => {
  it('at debug: one line per frame in and per frame out, with client id and message type', async () => {
    const { logger, lines } = capture('debug')
    const node = await nodeWith({ log: { level: 'debug' } }, { logger })
    const [a, b] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'logged' })
    await b.request('join_room', { room_id: 'logged' })
    lines.length = 0
    await a.request('ping', { ts: 1 })
    await a.request('room_message', { room_id: 'logged', content: 'x' })
    await b.next('room_message')
    await a.request('nope')
    const frames = lines.filter((l) => l.msg === 'frame in' || l.msg === 'frame out').map((l) => [l.msg, l.client_id, l.message_type])
    assert.deepEqual(frames, [
      ['frame in', a.id, 'ping'],
      ['frame out', a.id, 'pong'],
      ['frame in', a.id, 'room_message'],
      ['frame out', b.id, 'room_message'],
      ['frame out', a.id, 'ack'],
      ['frame in', a.id, 'nope'],
      ['frame out', a.id, 'error'],
    ])
  })

  it('at info: no per-frame lines', async () => {
    const { logger, lines } = capture('info')
    const node = await nodeWith({}, { logger })
    const client = await node.connect()
    await client.request('ping')
    await client.request('nope')
    assert.deepEqual(lines.filter((l) => l.msg === 'frame in' || l.msg === 'frame out'), [])
    assert.ok(lines.some((l) => l.msg === 'connection' && l.client_id === client.id))
  })

  it('follows app.setLogLevel at run time', async () => {
    const { logger, lines } = capture('info')
    const node = await nodeWith({}, { logger })
    const client = await node.connect()
    node.app.setLogLevel('debug')
    await client.request('ping')
    assert.ok(lines.some((l) => l.msg === 'frame in' && l.message_type === 'ping'))
  })
})

describe('error logs', () => {
  it('log a handler exception at error level with the trace id a middleware set, also at debug', async () => {
    const { logger, lines } = capture('debug')
    const node = await nodeWith({}, { logger })
    node.app.use(async (ctx, next) => {
      ctx.traceId = 'trace-abc'
      await next()
    })
    node.app.route('boom', () => {
      throw new Error('kaput')
    })
    const client = await node.connect()
    await client.request('boom')
    const line = lines.find((l) => l.msg === 'handler failed')
    assert.ok(line, 'no handler failed line')
    assert.equal(line.level, 50)
    assert.equal(line.trace_id, 'trace-abc')
    assert.equal(line.client_id, client.id)
    assert.match(line.err.stack, /kaput/)
  })

  /** A W3C trace id: 32 lowercase hex digits, not all zero. */
  const W3C_TRACE_ID = /^(?!0{32}$)[0-9a-f]{32}$/

  it('log a handler exception with a W3C trace id of its own frame when no OpenTelemetry SDK is installed', async () => {
    const { logger, lines } = capture('info')
    const node = await nodeWith({}, { logger })
    node.app.route('boom', () => {
      throw new Error('kaput')
    })
    const client = await node.connect()
    assertError(await client.request('boom', null, 'first'), 1003, 'first')
    assertError(await client.request('boom', null, 'second'), 1003, 'second')
    const failures = lines.filter((l) => l.msg === 'handler failed')
    assert.equal(failures.length, 2)
    for (const line of failures) {
      assert.match(line.trace_id, W3C_TRACE_ID)
      assert.equal('span_id' in line, false, 'no span, so no span id')
    }
    assert.notEqual(failures[0]!.trace_id, failures[1]!.trace_id, 'each frame its own trace')
  })

  it('give ctx.traceId and the frame\'s log lines the same trace id', async () => {
    const { logger, lines } = capture('info')
    const node = await nodeWith({}, { logger })
    let read = ''
    node.app.route('which_trace', (ctx) => {
      read = ctx.traceId
      ctx.log.info('handled')
      ctx.reply('which_trace_reply', null)
    })
    const client = await node.connect()
    await client.request('which_trace')
    assert.match(read, W3C_TRACE_ID)
    assert.equal(lines.find((l) => l.msg === 'handled')?.trace_id, read)
  })

  describe('during a Redis outage', { skip: skipUnless('redis') }, () => {
    const redis = useBackend('redis')

    it('log the exception of a frame that needed the state at error level with a trace id', async () => {
      const { logger, lines } = capture('info')
      const node = await nodeWith({ cluster: redis.cluster(testPrefix()) }, { logger })
      node.app.route('read_state', async (ctx) => {
        await ctx.app.state.getRoom('anything')
        ctx.reply('read_state_reply', null)
      })
      const client = await node.connect()
      assert.equal((await client.request('read_state')).message_type, 'read_state_reply')
      await redis.service!.stop()
      assertError(await client.request('read_state', null, 'during-outage'), 1003, 'during-outage')
      const line = lines.find((l) => l.msg === 'handler failed' && l.message_type === 'read_state')
      assert.ok(line, 'no handler failed line')
      assert.equal(line.level, 50)
      assert.match(line.trace_id, W3C_TRACE_ID)
    })
  })
})
