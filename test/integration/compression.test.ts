/**
 * `ws.compression`: permessage-deflate negotiated with clients that offer it, fan-outs
 * deflated once and written to every compressing member, the threshold, the memory
 * budget, order kept when ws is still compressing a reply, and off by default.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { nodesClosedAfter, type TestNode } from '../support/node.js'
import type { TestClient } from '../support/ws-client.js'
import { eventually } from '../support/http.js'
import { resolveConfig, ConfigError } from '../../lib/config.js'
import { deflateFrame } from '../../lib/compression.js'
import { inflateRawSync } from 'node:zlib'

const startNode = nodesClosedAfter()
const on = (compression: Record<string, unknown> = {}) => ({ ws: { compression: { enabled: true, threshold: 256, ...compression } } })

/** A chat message of about `bytes` bytes of JSON, repetitive as chat JSON is. */
function chat(bytes: number) {
  const lines = []
  for (let i = 0; lines.join('').length < bytes; i++) lines.push({ user: `user-${i % 7}`, text: `message number ${i} in the lobby`, at: 1_700_000_000_000 + i })
  return { lines }
}

function bytesRead(client: TestClient): number {
  return (client.socket as unknown as { _socket: { bytesRead: number } })._socket.bytesRead
}

async function members(node: TestNode, room: string, n: number, options: { perMessageDeflate?: boolean } = {}): Promise<TestClient[]> {
  const clients = []
  for (let i = 0; i < n; i++) {
    const client = await node.connect('', options)
    await client.request('join_room', { room_id: room })
    clients.push(client)
  }
  return clients
}

describe('ws.compression', () => {
  it('negotiates permessage-deflate with server_no_context_takeover with a client that offers it', async () => {
    const node = await startNode(on())
    const client = await node.connect()
    assert.match(client.socket.extensions, /permessage-deflate/)
    const params = (client.socket as unknown as { _extensions: Record<string, { params: Record<string, unknown> }> })._extensions['permessage-deflate']!.params
    assert.equal(params.server_no_context_takeover, true)
    const plain = await node.connect('', { perMessageDeflate: false })
    assert.equal(plain.socket.extensions, '')
    assert.equal(node.app.server.compression?.active, 1)
  })

  it('delivers a fan-out above the threshold compressed to every compressing member, and plain to the others', async () => {
    const node = await startNode(on())
    const [sender, ...compressing] = await members(node, 'deflate', 4)
    const [plain] = await members(node, 'deflate', 1, { perMessageDeflate: false })
    const content = chat(4000)
    const size = JSON.stringify(content).length
    const before = [...compressing, plain!].map(bytesRead)
    await sender!.request('room_message', { room_id: 'deflate', content })
    for (const [i, member] of [...compressing, plain!].entries()) {
      assert.deepEqual((await member.next('room_message')).data.content, content)
      const onWire = bytesRead(member) - before[i]!
      if (member === plain) assert.ok(onWire > size, `plain member read ${onWire} bytes for ${size} of content`)
      else assert.ok(onWire < size / 3, `compressing member read ${onWire} bytes for ${size} of content`)
    }
  })

  it('sends a frame under the threshold uncompressed', async () => {
    const node = await startNode(on({ threshold: 100_000 }))
    const [sender, member] = await members(node, 'small', 2)
    const content = chat(4000)
    const before = bytesRead(member!)
    await sender!.request('room_message', { room_id: 'small', content })
    assert.deepEqual((await member!.next('room_message')).data.content, content)
    assert.ok(bytesRead(member!) - before > JSON.stringify(content).length)
  })

  it('keeps the order of a compressed reply and the fan-outs right behind it', async () => {
    const node = await startNode(on())
    node.app.route('burst', async (ctx) => {
      for (let i = 0; i < 20; i++) {
        ctx.client.send(JSON.stringify({ message_type: 'seq', data: { i: i * 2, pad: chat(1500) } }))
        await ctx.app.to('order').send('seq', { i: i * 2 + 1, pad: chat(1500) })
      }
      ctx.reply('burst_done', null)
    })
    const [client] = await members(node, 'order', 1)
    await client!.request('burst')
    const seen = []
    for (let i = 0; i < 40; i++) seen.push((await client!.next('seq')).data.i)
    assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i))
  })

  it('inflates what a client sends compressed', async () => {
    const node = await startNode(on())
    const [sender, member] = await members(node, 'inbound', 2)
    const content = chat(3000)
    sender!.socket.send(JSON.stringify({ message_type: 'room_message', message_id: 999, data: { room_id: 'inbound', content } }), { compress: true })
    assert.deepEqual((await member!.next('room_message')).data.content, content)
  })

  it('serves handshakes past ws.compression.max_memory_mb uncompressed, and compresses again once one leaves', async () => {
    const node = await startNode(on({ max_memory_mb: 1 }))
    const max = node.app.server.compression!.maxConnections
    assert.ok(max >= 1 && max < 10, `1 MB holds ${max} connections`)
    const clients = []
    for (let i = 0; i < max; i++) clients.push(await node.connect())
    for (const client of clients) assert.match(client.socket.extensions, /permessage-deflate/)
    const past = await node.connect()
    assert.equal(past.socket.extensions, '')
    clients[0]!.close()
    await eventually(() => node.app.server.compression!.active === max - 1, 3000, 'the closed connection released its share')
    assert.match((await node.connect()).socket.extensions, /permessage-deflate/)
  })

  it('is off by default: a client that offers it gets plain frames', async () => {
    const node = await startNode()
    const client = await node.connect()
    assert.equal(client.socket.extensions, '')
    assert.equal(node.app.server.compression, null)
  })

  it('refuses a bad threshold or memory bound, naming the key', () => {
    assert.throws(() => resolveConfig({ ws: { compression: { threshold: -1 } } }), (err: Error) => err instanceof ConfigError && /ws\.compression\.threshold/.test(err.message))
    assert.throws(() => resolveConfig({ ws: { compression: { max_memory_mb: 0 } } }), (err: Error) => err instanceof ConfigError && /ws\.compression\.max_memory_mb/.test(err.message))
  })
})

describe('deflateFrame', () => {
  it('makes a FIN+RSV1 text frame whose payload inflates back with the sync-flush tail', () => {
    const payload = Buffer.from(JSON.stringify(chat(70_000)))
    for (const bits of [9, 12, 15]) {
      const frame = deflateFrame(payload, bits)
      assert.equal(frame[0], 0xc1)
      const lengthByte = frame[1]!
      const header = lengthByte < 126 ? 2 : lengthByte === 126 ? 4 : 10
      const body = frame.subarray(header)
      assert.equal(lengthByte < 126 ? lengthByte : lengthByte === 126 ? frame.readUInt16BE(2) : Number(frame.readBigUInt64BE(2)), body.length)
      const inflated = inflateRawSync(Buffer.concat([body, Buffer.from([0x00, 0x00, 0xff, 0xff])]), { windowBits: bits, finishFlush: 2 })
      assert.deepEqual(inflated, payload)
    }
  })
})
