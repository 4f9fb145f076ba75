import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { eventually } from '../support/expect.js'
import type { Connection } from '../../lib/connection.js'

const nodes: TestNode[] = []
after(() => Promise.all(nodes.map((n) => n.close())))

describe('ws.max_buffered_bytes', () => {
  it('cuts off a member that stopped reading (1008, slow_consumer) while another keeps every message', async () => {
    const node = await startNode({ ws: { max_buffered_bytes: 256 * 1024 } })
    nodes.push(node)
    const slowEvents: Connection[] = []
    const disconnects: Array<{ id: string; code: number }> = []
    node.app.on('slow_consumer', (client) => slowEvents.push(client))
    node.app.on('disconnect', (client, info) => disconnects.push({ id: client.id, code: info.code }))

    const [reader, stalled] = [await node.connect(), await node.connect()]
    await reader.request('join_room', { room_id: 'firehose' })
    await stalled.request('join_room', { room_id: 'firehose' })
    // Stop reading from the TCP socket: the kernel buffers fill, then the server's queue grows.
    ;(stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause()

    const total = 600
    const blob = 'x'.repeat(32 * 1024)
    let received = 0
    let lastSeq = -1
    let inOrder = true
    reader.socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString())
      if (frame.message_type !== 'bulk') return
      if (frame.data.seq !== lastSeq + 1) inOrder = false
      lastSeq = frame.data.seq
      received++
    })
    for (let seq = 0; seq < total; seq++) {
      await node.app.to('firehose').send('bulk', { seq, blob })
      // Let the sockets drain now and then, as a real producer would not hold the loop.
      if (seq % 20 === 0) await new Promise((r) => setImmediate(r))
    }

    await eventually(() => slowEvents.length === 1, 10_000, 'slow_consumer event')
    assert.equal(slowEvents[0]!.id, stalled.id)
    await eventually(() => disconnects.some((d) => d.id === stalled.id), 5000, 'disconnect of the stalled client')
    assert.deepEqual(disconnects.find((d) => d.id === stalled.id), { id: stalled.id, code: 1008 })
    await eventually(() => received === total, 10_000, `all ${total} messages at the reader (got ${received})`)
    assert.equal(inOrder, true)
    assert.equal(reader.closed, null)
    const members = await reader.request('room_members', { room_id: 'firehose' })
    assert.deepEqual(members.data.members.map((m: any) => m.client_id), [reader.id])
  })
})
