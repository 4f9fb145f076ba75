import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'

let node: TestNode

before(async () => {
  node = await startNode()
})
after(() => node.close())

describe('ping', () => {
  it('answers pong with the client ts and the server ts', async () => {
    const client = await node.connect()
    const before = Date.now()
    const pong = await client.request('ping', { ts: 12345 })
    assert.equal(pong.message_type, 'pong')
    assert.equal(pong.data.ts, 12345)
    assert.ok(Number.isInteger(pong.data.server_ts) && pong.data.server_ts >= before, JSON.stringify(pong))
  })

  it('answers pong with ts null when none was given', async () => {
    const client = await node.connect()
    const pong = await client.request('ping')
    assert.equal(pong.data.ts, null)
    assert.equal(typeof pong.data.server_ts, 'number')
  })

  it('never fails (PROTOCOL.md section 3 lists no failure): any data gets a pong, its ts echoed as given', async () => {
    const client = await node.connect()
    const odd = await client.request('ping', { ts: 'now' })
    assert.deepEqual([odd.message_type, odd.data.ts], ['pong', 'now'])
    const notAnObject = await client.request('ping', 'hello')
    assert.deepEqual([notAnObject.message_type, notAnObject.data.ts], ['pong', null])
  })

  it('answers a ping without message_id with a pong without request_id', async () => {
    const client = await node.connect()
    client.send({ message_type: 'ping', data: { ts: 1 } })
    const pong = await client.next('pong')
    assert.equal('request_id' in pong, false)
    assert.deepEqual(await client.quiet(100), [])
  })
})
