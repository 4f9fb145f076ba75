import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect as tcpConnect, type Socket } from 'node:net'
import WebSocket from 'ws'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { startNode, type TestNode } from '../support/node.js'
import type { ConfigInput } from '../../lib/config.js'

const nodes: TestNode[] = []
after(() => Promise.all(nodes.map((n) => n.close())))

async function nodeWith(config: ConfigInput): Promise<TestNode> {
  const node = await startNode(config)
  nodes.push(node)
  return node
}

const UPGRADE_HEAD = 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n'

/** Trickles an upgrade's header lines over a raw socket, one every `everyMs`, never finishing them. */
function slowLoris(port: number, everyMs: number): { socket: Socket; closed: Promise<string>; stop(): void } {
  const socket = tcpConnect(port, '127.0.0.1')
  let received = ''
  let n = 0
  socket.on('data', (chunk) => (received += chunk.toString()))
  socket.on('error', () => {})
  socket.write(UPGRADE_HEAD)
  const timer = setInterval(() => {
    if (!socket.destroyed && n < 1000) socket.write(`X-Trickle-${n++}: ${'a'.repeat(10)}\r\n`)
  }, everyMs)
  const closed = new Promise<string>((resolve) => socket.on('close', () => (clearInterval(timer), resolve(received))))
  return { socket, closed, stop: () => (clearInterval(timer), socket.destroy()) }
}

/** Opens a WebSocket from a given loopback source address; resolves to 101 or the refusal's status. */
function handshake(node: TestNode, localAddress = '127.0.0.1', keep: WebSocket[] = []): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(node.url, { localAddress })
    socket.on('open', () => (keep.push(socket), resolve(101)))
    socket.on('unexpected-response', (_req, res) => (res.resume(), resolve(res.statusCode ?? 0)))
    socket.on('error', () => resolve(0))
  })
}

describe('a slow-loris upgrade', () => {
  it('is dropped once http.handshake_timeout_ms has passed, however it trickles its headers', async () => {
    const node = await nodeWith({ http: { handshake_timeout_ms: 500 } })
    const refused: number[] = []
    node.app.on('http_refused', ({ status }) => refused.push(status))
    const loris = slowLoris(node.port, 100)
    let answer: string
    try {
      // Node checks headersTimeout on a timer of its own (30 s by default): the drop must come far sooner.
      answer = await Promise.race([loris.closed, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('the slow-loris socket was not dropped within 10 s')), 10_000))])
    } finally {
      loris.stop()
    }
    assert.match(answer, /^HTTP\/1\.1 408 /)
    assert.equal(node.app.server.size, 0)
    assert.deepEqual(refused, [408])
  })

  it('does not hold a connection slot: a normal client gets in while lorises wait', async () => {
    const node = await nodeWith({ http: { handshake_timeout_ms: 60_000 }, ws: { max_connections: 1 } })
    const lorises = Array.from({ length: 20 }, () => slowLoris(node.port, 50))
    try {
      const client = await node.connect()
      assert.equal(client.welcome.message_type, 'welcome')
    } finally {
      for (const l of lorises) l.stop()
    }
  })
})

describe('a flood of connections from one address', () => {
  it('is capped at ws.max_connections_per_ip (429 for the rest) while another address still gets in', async () => {
    const node = await nodeWith({ ws: { max_connections_per_ip: 20 } })
    const open: WebSocket[] = []
    try {
      const statuses = await Promise.all(Array.from({ length: 200 }, () => handshake(node, '127.0.0.1', open)))
      assert.equal(statuses.filter((s) => s === 101).length, 20)
      assert.equal(statuses.filter((s) => s === 429).length, 180)
      assert.equal(await handshake(node, '127.0.0.2', open), 101)
      assert.equal(node.app.server.size, 21)
    } finally {
      for (const socket of open) socket.terminate()
    }
  })
})

describe('a client sending 10,000 frames a second', () => {
  it('gets 1005 past its bucket and is closed with 1008 after rate_limit.max_violations, while the others get every answer', async () => {
    const node = await nodeWith({})
    const flooder = await node.connect()
    const others = await Promise.all(Array.from({ length: 5 }, () => node.connect()))
    for (const o of others) await o.request('join_room', { room_id: 'calm' })

    const answers: string[] = []
    let retryAfter = 0
    flooder.socket.on('message', (raw) => {
      const f = JSON.parse(raw.toString())
      answers.push(f.message_type === 'error' ? String(f.data.code) : f.message_type)
      if (f.message_type === 'error' && f.data.code === 1005) retryAfter = f.data.details.retry_after_ms
    })
    // 100 frames every 10 ms: 10,000 a second, for up to a second.
    const frame = JSON.stringify({ message_type: 'ping', data: { ts: 1 } })
    let sent = 0
    const flood = setInterval(() => {
      if (flooder.socket.readyState !== WebSocket.OPEN || sent >= 10_000) return clearInterval(flood)
      for (let i = 0; i < 100; i++) flooder.socket.send(frame)
      sent += 100
    }, 10)

    // Meanwhile every other client keeps asking and must get every answer.
    const othersAnswers = await Promise.all(
      others.map(async (client, i) => {
        const replies: string[] = []
        for (let n = 0; n < 20; n++) {
          replies.push((await client.request('ping', { ts: n })).message_type)
          replies.push((await client.request('room_message', { room_id: 'calm', content: `${i}-${n}` })).message_type)
        }
        return replies
      }),
    )
    const closed = await flooder.waitClose(10_000)
    clearInterval(flood)

    const { max_violations, per_connection } = node.app.config.rate_limit
    assert.equal(closed.code, 1008)
    // The close follows max_violations refusals in a row, and no frame is answered after them.
    const lastPong = answers.lastIndexOf('pong')
    assert.deepEqual(answers.slice(lastPong + 1), Array(max_violations).fill('1005'))
    assert.ok(retryAfter > 0)
    const pongs = answers.filter((a) => a === 'pong').length
    assert.ok(pongs >= per_connection.burst && pongs < sent, `${pongs} pongs for ${sent} pings`)
    for (const replies of othersAnswers) assert.deepEqual(new Set(replies), new Set(['pong', 'ack']))
    for (const o of others) assert.equal(o.closed, null)
  })
})

describe('a client sending JSON nested 15,000 deep (valid, under ws.max_payload)', () => {
  const deep = `${'['.repeat(15_000)}${']'.repeat(15_000)}`
  const errorLines: string[] = []
  let node: TestNode
  let sender: Awaited<ReturnType<TestNode['connect']>>
  let member: Awaited<ReturnType<TestNode['connect']>>

  it('gets 1001 for a room_message whose content cannot be encoded again, with no error-level log line, and nothing is delivered', async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line.includes('"level":50')) errorLines.push(line.slice(0, 300))
        done()
      },
    })
    node = await startNode({}, { logger: pino({ level: 'info' }, sink) })
    nodes.push(node)
    node.app.route('echo', (ctx) => ctx.reply('echo_reply', ctx.data))
    node.app.route('measured', { maxDataBytes: 100_000 }, (ctx) => ctx.reply('measured_reply', null))
    sender = await node.connect()
    member = await node.connect()
    for (const c of [sender, member]) assert.equal((await c.request('join_room', { room_id: 'deep' })).message_type, 'room_joined')
    sender.socket.send(`{"message_type":"room_message","message_id":"deep-1","data":{"room_id":"deep","content":${deep}}}`)
    const reply = await sender.next((f) => f.request_id === 'deep-1')
    assert.deepEqual([reply.message_type, reply.data.code], ['error', 1001])
    assert.deepEqual(await member.quiet(200), [], 'the member got nothing')
    assert.deepEqual(errorLines, [])
  })

  it('gets 1001 for a direct_message, a handler reply and a route data limit that cannot measure it, and stays usable', async () => {
    sender.socket.send(`{"message_type":"direct_message","message_id":"deep-2","data":{"target_id":"${member.id}","content":${deep}}}`)
    assert.equal((await sender.next((f) => f.request_id === 'deep-2')).data.code, 1001)
    sender.socket.send(`{"message_type":"echo","message_id":"deep-3","data":${deep}}`)
    assert.equal((await sender.next((f) => f.request_id === 'deep-3')).data.code, 1001)
    sender.socket.send(`{"message_type":"measured","message_id":"deep-4","data":${deep}}`)
    assert.equal((await sender.next((f) => f.request_id === 'deep-4')).data.code, 1001)
    assert.deepEqual(errorLines, [])
    assert.equal((await sender.request('ping')).message_type, 'pong')
  })

  it('takes no history offset for a room_message it refuses, so the next message follows without a gap', async () => {
    const withHistory = await startNode({ rooms: { history_size: 10 } })
    nodes.push(withHistory)
    const [a, b] = [await withHistory.connect(), await withHistory.connect()]
    for (const c of [a, b]) await c.request('join_room', { room_id: 'deep' })
    a.socket.send(`{"message_type":"room_message","message_id":"deep-5","data":{"room_id":"deep","content":${deep}}}`)
    assert.equal((await a.next((f) => f.request_id === 'deep-5')).data.code, 1001)
    await a.request('room_message', { room_id: 'deep', content: 'after' })
    assert.deepEqual((await b.next('room_message')).data, { room_id: 'deep', content: 'after', sender_id: a.id, sender_user_id: null, offset: 1 })
  })
})
