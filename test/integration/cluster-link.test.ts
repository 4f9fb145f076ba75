import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { assertUsable, sleep } from '../support/expect.js'
import { encodeDelivery } from '../../lib/protocol.js'

let node: TestNode

before(async () => {
  node = await startNode({ cluster: { node_id: 'link-node' } })
})
after(() => node.close())

/** Publishes raw bytes on a subject of this node's bus, as another node (or a stranger on a shared server) would. */
async function publish(subject: string, payload: string): Promise<void> {
  await node.app.bus.publish(subject, Buffer.from(payload))
  await sleep(20)
}

describe('envelopes from the bus', () => {
  it('deliver a direct message from another node to a local client', async () => {
    const client = await node.connect()
    const frame = encodeDelivery('direct_message', { content: 'hi', sender_id: 'other.x', sender_user_id: null }, Date.now())
    await publish('wshub.node.link-node', `${JSON.stringify({ kind: 'direct', to: client.id, id: 'e1', origin: 'other', traceparent: null })}\n${frame}`)
    assert.equal((await client.next('direct_message')).data.content, 'hi')
  })

  it('are delivered at most once when the bus repeats them', async () => {
    const client = await node.connect()
    const frame = encodeDelivery('direct_message', { content: 'once' }, Date.now())
    const payload = `${JSON.stringify({ kind: 'direct', to: client.id, id: 'e-repeat', origin: 'other', traceparent: null })}\n${frame}`
    await publish('wshub.node.link-node', payload)
    await publish('wshub.node.link-node', payload)
    await client.next('direct_message')
    assert.deepEqual(await client.quiet(100), [])
  })

  it('from this node itself are not delivered again', async () => {
    const client = await node.connect()
    const frame = encodeDelivery('direct_message', { content: 'self' }, Date.now())
    await publish('wshub.node.link-node', `${JSON.stringify({ kind: 'direct', to: client.id, id: 'e-self', origin: 'link-node', traceparent: null })}\n${frame}`)
    assert.deepEqual(await client.quiet(100), [])
  })

  it('that are malformed are dropped without harming the node', async () => {
    const client = await node.connect()
    await client.request('join_room', { room_id: 'r' })
    await publish('wshub.node.link-node', 'not json at all')
    await publish('wshub.node.link-node', JSON.stringify({ id: 'bad-1', kind: 'room', origin: 'other' }))
    await publish('wshub.room.r', JSON.stringify({ id: 'bad-2', kind: 'room', origin: 'other', rooms: 'r', except: null }))
    await publish('wshub.broadcast', JSON.stringify({ id: 'bad-3', kind: 'broadcast', origin: 'other' }))
    await publish('wshub.node.link-node', JSON.stringify({ id: 'bad-4', kind: 'kick', origin: 'other', to: client.id, code: 'x' }))
    await assertUsable(client)
  })
})
