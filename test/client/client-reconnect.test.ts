import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { WshubClient, backoffDelay, type ClientOptions } from '../../lib/client/index.js'
import { MemoryBus, MemoryHub } from '../../lib/bus/memory.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import { startNode, type TestNode } from '../support/node.js'
import type { TestClient } from '../support/ws-client.js'
import { BrowserLikeWebSocket, gate, nextEvent, record, until } from './helpers.js'

// Every test cleans up what it started, whatever its outcome.
const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function node(config: Parameters<typeof startNode>[0] = {}, options: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const started = await startNode(config, options)
  let closed = false
  const close = started.close.bind(started)
  started.close = async () => {
    if (closed) return
    closed = true
    await close()
  }
  cleanups.push(() => started.close())
  return started
}

function client(url: string, options: ClientOptions = {}): WshubClient {
  const c = new WshubClient(url, { backoff: { baseMs: 20, maxMs: 100 }, ...options })
  cleanups.push(() => c.close())
  return c
}

async function member(n: TestNode, room: string): Promise<TestClient> {
  const tc = await n.connect()
  const joined = await tc.request('join_room', { room_id: room })
  assert.equal(joined.message_type, 'room_joined')
  return tc
}

/** A cluster that survives its nodes: one hub, one state, nodes started on the same port in turn. */
function cluster(history: number) {
  const hub = new MemoryHub()
  const state = new MemoryState()
  return (port = 0) => node({ http: { port }, rooms: { history_size: history } }, { bus: new MemoryBus(hub), state })
}

describe('WshubClient reconnect', () => {
  it('reconnects after the server restarts on the same port, rejoins its rooms and replays what it missed', async () => {
    const start = cluster(50)
    const node1 = await start()
    const away = gate()
    const c = client(node1.url, { token: async () => (await away.wait(), null) })
    const received = record<{ content: string; offset: number }>(c, 'room_message')
    await c.connect()
    await c.join('lobby', { since: 0 })
    const writer1 = await member(node1, 'lobby')
    assert.equal((await writer1.request('room_message', { room_id: 'lobby', content: 'before' })).message_type, 'ack')
    await until(() => received.length === 1, 5000, 'the first message')

    away.close()
    const closed = nextEvent(c, 'closed')
    await node1.close()
    assert.deepEqual(await closed, { code: 1001, reason: 'server shutting down', reconnect: true })
    const node2 = await start(node1.port)
    const writer2 = await member(node2, 'lobby')
    for (const content of ['while away 1', 'while away 2']) {
      assert.equal((await writer2.request('room_message', { room_id: 'lobby', content })).message_type, 'ack')
    }
    assert.equal(received.length, 1, 'nothing arrives while the client is away')
    assert.notEqual(c.state, 'open')
    const queuedAck = c.publish('lobby', 'sent while away')
    assert.equal(c.queued, 1)

    const rejoined = nextEvent(c, 'rejoined')
    away.open()
    assert.deepEqual(await rejoined, { room: 'lobby', recovered: true })
    assert.equal((await queuedAck).message_type, 'ack', 'the queued message went out after the rejoin')
    assert.equal((await writer2.next((f) => f.message_type === 'room_message' && f.data.content === 'sent while away')).data.sender_id, c.welcome!.client_id)
    assert.deepEqual(received.map((m) => m.content), ['before', 'while away 1', 'while away 2'])
    assert.deepEqual(c.joinedRooms, ['lobby'])
    assert.equal(c.welcome!.node_id, node2.app.nodeId)

    const live = nextEvent(c, 'room_message')
    writer2.send({ message_type: 'room_message', data: { room_id: 'lobby', content: 'live again' } })
    assert.equal((await live).content, 'live again')
  })

  it('says the gap was not recovered when the history no longer reaches back', async () => {
    const start = cluster(2)
    const node1 = await start()
    const away = gate()
    const c = client(node1.url, { token: async () => (await away.wait(), null) })
    await c.connect()
    await c.join('lobby', { since: 0 })
    away.close()
    await node1.close()
    const node2 = await start(node1.port)
    const writer = await member(node2, 'lobby')
    for (let i = 0; i < 5; i++) await writer.request('room_message', { room_id: 'lobby', content: i })
    const replayed = record(c, 'room_message')
    const rejoined = nextEvent(c, 'rejoined')
    away.open()
    assert.deepEqual(await rejoined, { room: 'lobby', recovered: false })
    assert.deepEqual(replayed, [])
    assert.deepEqual(c.joinedRooms, ['lobby'])
  })

  it('says the gap was not recovered when the server keeps no history', async () => {
    const start = cluster(0)
    const node1 = await start()
    const c = client(node1.url)
    await c.connect()
    await c.join('lobby')
    const rejoined = nextEvent(c, 'rejoined')
    await node1.close()
    await start(node1.port)
    assert.deepEqual(await rejoined, { room: 'lobby', recovered: false })
  })

  it('emits closed, reconnecting and open again, in that order', async () => {
    const start = cluster(0)
    const node1 = await start()
    const c = client(node1.url)
    await c.connect()
    const events: string[] = []
    for (const name of ['closed', 'reconnecting', 'connecting', 'open'] as const) c.on(name, () => events.push(name))
    const reopened = nextEvent(c, 'open')
    await node1.close()
    await start(node1.port)
    await reopened
    assert.equal(events[0], 'closed')
    assert.equal(events[1], 'reconnecting')
    assert.deepEqual(events.slice(-2), ['connecting', 'open'])
    assert.equal(c.state, 'open')
  })

  it('waits the backoff delays between attempts and gives up after maxAttempts', async () => {
    const n = await node()
    const options = { baseMs: 10, maxMs: 40 }
    const c = client(n.url, { backoff: options, random: () => 0.5, maxAttempts: 4 })
    await c.connect()
    const attempts = record<{ attempt: number; delay: number }>(c, 'reconnecting')
    const final = nextEvent(c, 'closed', (info: { reconnect: boolean }) => !info.reconnect, 10_000)
    await n.close()
    const info = await final
    assert.equal(info.reconnect, false)
    assert.equal(c.state, 'closed')
    assert.deepEqual(attempts, [1, 2, 3, 4].map((attempt) => ({ attempt, delay: backoffDelay(attempt, options, () => 0.5) })))
    assert.deepEqual(attempts.map((a) => a.delay), [5, 10, 20, 20])
  })

  it('does not reconnect when told not to', async () => {
    const n = await node()
    const c = client(n.url, { reconnect: false })
    await c.connect()
    const closed = nextEvent(c, 'closed')
    await n.close()
    assert.equal((await closed).reconnect, false)
    assert.equal(c.state, 'closed')
  })
})

describe('WshubClient#request across a reconnect', () => {
  it('sends a request whose connection was lost again with the same message_id', async () => {
    const n = await node()
    const calls: Array<{ messageId: unknown; clientId: string }> = []
    n.app.route('fragile', (ctx) => {
      calls.push({ messageId: ctx.messageId, clientId: ctx.client.id })
      // The first time the connection dies before any reply can be sent.
      if (calls.length === 1) ctx.client.close(1006, 'cut', true)
      else ctx.reply('fragile_reply', { call: calls.length })
    })
    const c = client(n.url)
    await c.connect()
    const reply = await c.request('fragile', null, { timeout: 10_000 })
    assert.equal(calls.length, 2)
    assert.equal(calls[0]!.messageId, calls[1]!.messageId)
    assert.equal(typeof calls[0]!.messageId, 'string')
    assert.notEqual(calls[0]!.clientId, calls[1]!.clientId, 'the retry came on a new connection')
    assert.equal(reply.request_id, calls[0]!.messageId)
    assert.deepEqual(reply.data, { call: 2 })
  })

  it('joins a room whose join was cut off once the client is back', async () => {
    const n = await node()
    let cut = false
    n.app.use(async (ctx, next) => {
      if (ctx.type === 'join_room' && !cut) {
        cut = true
        ctx.client.close(1006, 'cut', true)
        return
      }
      await next()
    })
    const c = client(n.url)
    await c.connect()
    const joined = await c.join('lobby', { timeout: 10_000 })
    assert.equal(joined.status, 'joined')
    assert.deepEqual(c.joinedRooms, ['lobby'])
    assert.deepEqual((await c.members('lobby')).map((m) => m.client_id), [c.welcome!.client_id])
  })
})

describe('WshubClient heartbeat', () => {
  it('takes a server that went silent for dead and reconnects', async () => {
    // A server that welcomes and then never speaks again (no pings, no frames).
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    cleanups.push(() => new Promise((r) => wss.close(r)))
    let connections = 0
    wss.on('connection', (ws) => {
      connections++
      ws.send(JSON.stringify({ message_type: 'welcome', data: { client_id: `silent.${connections}`, node_id: 'silent', user_id: null, protocol: 1, heartbeat_ms: 100 } }))
    })
    await new Promise((r) => wss.once('listening', r))
    const c = client(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { heartbeatMarginMs: 50 })
    await c.connect()
    const closed = await nextEvent(c, 'closed')
    assert.deepEqual(closed, { code: 1006, reason: 'no heartbeat from the server', reconnect: true })
    await nextEvent(c, 'open')
    assert.equal(connections, 2)
    for (const ws of wss.clients) ws.terminate()
  })

  it('stays connected while the server pings (Node: ws shows the pings)', async () => {
    const n = await node({ heartbeat: { interval_ms: 200, timeout_ms: 1500 } })
    const c = client(n.url, { heartbeatMarginMs: 1000 })
    const closed = record(c, 'closed')
    const appPings = record(c, 'pong')
    await c.connect()
    await new Promise((r) => setTimeout(r, 1200))
    assert.deepEqual(closed, [])
    assert.deepEqual(appPings, [], 'no application ping is needed where pings are visible')
    assert.equal(c.state, 'open')
  })

  it('sends application pings when quiet where pings are invisible (browsers)', async () => {
    const n = await node({ heartbeat: { interval_ms: 200, timeout_ms: 1500 } })
    const c = client(n.url, { WebSocket: BrowserLikeWebSocket, heartbeatMarginMs: 1000 })
    const closed = record(c, 'closed')
    const pongs = record(c, 'pong')
    await c.connect()
    await until(() => pongs.length >= 3, 5000, 'three pongs')
    assert.deepEqual(closed, [])
    assert.equal(c.state, 'open')
  })
})
