import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { nodesClosedAfter } from '../support/node.js'

const nodeWith = nodesClosedAfter()

describe('app.binaryCodec', () => {
  it('runs binary frames through the chain once the application registered a codec', async () => {
    const node = await nodeWith()
    node.app.binaryCodec = (frame) => JSON.parse(frame.toString('utf8'))
    const client = await node.connect()
    client.socket.send(Buffer.from(JSON.stringify({ message_type: 'ping', message_id: 9, data: { ts: 1 } })), { binary: true })
    const pong = await client.next('pong')
    assert.equal(pong.request_id, 9)
    assert.equal(pong.data.ts, 1)
  })

  it('answers 1001 and keeps the connection when the codec cannot decode a frame', async () => {
    const node = await nodeWith()
    node.app.binaryCodec = () => {
      throw new Error('not our format')
    }
    const client = await node.connect()
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true })
    const error = await client.next('error')
    assert.equal(error.data.code, 1001)
    assert.equal((await client.request('ping')).message_type, 'pong')
  })

  it('answers the codec\'s envelope errors as for text frames', async () => {
    const node = await nodeWith()
    node.app.binaryCodec = () => ({ message_type: 'bad type!', message_id: 4 })
    const client = await node.connect()
    client.socket.send(Buffer.from([0]), { binary: true })
    const error = await client.next('error')
    assert.deepEqual([error.data.code, error.request_id], [1001, 4])
  })
})
