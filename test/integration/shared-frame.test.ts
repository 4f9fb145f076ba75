// Fan-outs write a WebSocket frame built once by wshub (lib/shared-frame.ts), not by ws:
// real ws clients must read every length form of its header, and the frames must keep
// their order with the replies ws frames itself.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { encodeDelivery } from '../../lib/protocol.js'
import { SharedFrame } from '../../lib/shared-frame.js'

let node: TestNode
before(async () => {
  node = await startNode()
})
after(() => node.close())

/** Text whose `notice` broadcast frame is exactly `bytes` long; `ü` makes it multi-byte. */
function textForFrameOf(bytes: number): string {
  const overhead = Buffer.byteLength(encodeDelivery('notice', '', Date.now()))
  const room = bytes - overhead
  const twoByte = Math.min(10, Math.floor(room / 2))
  return 'ü'.repeat(twoByte) + 'x'.repeat(room - twoByte * 2)
}

describe('a frame framed once for every recipient', () => {
  // 125: the 7-bit length; 126 and 65535: the 16-bit length; 65536: the 64-bit length.
  for (const bytes of [125, 126, 65535, 65536, 200_000]) {
    it(`reaches real ws clients intact at ${bytes} bytes`, async () => {
      const clients = [await node.connect(), await node.connect()]
      const sizes: number[][] = clients.map(() => [])
      clients.forEach((client, i) => client.socket.on('message', (raw: Buffer) => sizes[i]!.push(raw.length)))
      const text = textForFrameOf(bytes)
      await node.app.broadcast('notice', text)
      for (const [i, client] of clients.entries()) {
        const got = await client.next('notice')
        assert.equal(got.data, text)
        assert.deepEqual(sizes[i], [bytes])
      }
    })
  }

  it('keeps its place among the frames ws frames itself', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    await a.request('join_room', { room_id: 'order' })
    await b.request('join_room', { room_id: 'order' })
    const seen: string[] = []
    b.socket.on('message', (raw: Buffer) => seen.push(JSON.parse(raw.toString()).message_type))
    const conn = node.app.server.connections.get(b.id)!
    conn.send(encodeDelivery('first', null, Date.now()))
    await node.app.to('order').send('second', null)
    conn.send(encodeDelivery('third', null, Date.now()))
    await b.next('third')
    assert.deepEqual(seen, ['first', 'second', 'third'])
  })

  it('gives the envelope bytes as its payload, behind a header that states their length', () => {
    for (const text of ['', 'héllo', 'x'.repeat(70_000)]) {
      const envelope = encodeDelivery('notice', text, 1)
      const frame = new SharedFrame(envelope)
      const wire = frame.wire[0]
      assert.equal(frame.payload.toString(), envelope)
      assert.equal(wire[0], 0x81, 'FIN and the text opcode, unmasked')
      assert.equal(wire.length - frame.payload.length, text.length < 100 ? 2 : text.length < 65000 ? 4 : 10)
      assert.equal(SharedFrame.payloadOf(wire).toString(), envelope)
    }
  })
})
