/** Delivery made without an Application: two nodes put together by hand from Rooms, ClusterLink and Delivery over one MemoryHub and one MemoryState. */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryHub } from '../../lib/bus/memory.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import { encodeDelivery } from '../../lib/protocol.js'
import { ErrorCode } from '../../lib/errors.js'
import { PartsNode, type RecordingSocket } from '../support/parts.js'

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.ok(done(), what)
}

describe('Delivery without an Application', () => {
  const hub = new MemoryHub()
  const state = new MemoryState()
  const a = new PartsNode('na', hub, state)
  const b = new PartsNode('nb', hub, state)
  let a1: RecordingSocket
  let b1: RecordingSocket
  let b2: RecordingSocket

  before(async () => {
    await Promise.all([a.link.start(), b.link.start()])
    const ca1 = await a.connect('a1')
    const cb1 = await b.connect('b1')
    const cb2 = await b.connect('b2')
    ;[a1, b1, b2] = [ca1.socket, cb1.socket, cb2.socket]
    await a.rooms.join(ca1.conn, 'lobby', null)
    await b.rooms.join(cb1.conn, 'lobby', null)
  })
  after(async () => {
    await b.link.stop()
    await a.link.stop()
  })

  it('delivers a room frame to the local members now and to the other node over the bus, leaving out the excluded', async () => {
    const sentBefore = [a1.sent.length, b1.sent.length, b2.sent.length]
    await a.delivery.toRooms(['lobby'], encodeDelivery('note', { n: 1 }, 7), ['na.a1'])
    await until(() => b1.sent.length > sentBefore[1]!, 'b1 got the frame from the other node')
    assert.deepEqual(b1.sent.at(-1), { message_type: 'note', data: { n: 1 }, timestamp: 7 })
    assert.equal(a1.sent.length, sentBefore[0], 'the excluded sender got nothing')
    assert.equal(b2.sent.length, sentBefore[2], 'b2, not in the room, got nothing')
  })

  it('sends to one client on the other node, and fails with 4000 for a client no node holds', async () => {
    await a.delivery.toClient('nb.b2', 'dm', { hi: 1 })
    await until(() => b2.sent.some((f) => f.message_type === 'dm'), 'b2 got its direct message')
    await assert.rejects(a.delivery.toClient('nb.nobody', 'dm', {}), { code: ErrorCode.ClientNotFound })
    await assert.rejects(a.delivery.toClient('na.nobody', 'dm', {}), { code: ErrorCode.ClientNotFound })
  })

  it('broadcasts to every client of both nodes, through the wrappers around remote deliveries', async () => {
    const kinds: string[] = []
    b.delivery.around((envelope, deliver) => {
      kinds.push(envelope.kind)
      deliver(envelope)
    })
    await a.delivery.toAll('news', { n: 2 })
    await until(() => b1.sent.some((f) => f.message_type === 'news') && b2.sent.some((f) => f.message_type === 'news'), 'both clients of nb got the broadcast')
    assert.ok(a1.sent.some((f) => f.message_type === 'news'))
    assert.deepEqual(kinds, ['broadcast'])
  })

  it('kicks a client of the other node with 4000 and the reason', async () => {
    const { socket: b3 } = await b.connect('b3')
    await a.delivery.kick('nb.b3', 'bye')
    await until(() => b3.closed !== null, 'b3 was closed')
    assert.deepEqual(b3.closed, { code: 4000, reason: 'bye' })
  })
})
