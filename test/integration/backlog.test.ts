import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { eventually } from '../support/expect.js'

let node: TestNode
let release: () => void = () => {}

before(async () => {
  node = await startNode()
  node.app.route('hold', () => new Promise<void>((resolve) => (release = resolve)))
})
after(() => {
  release()
  return node.close()
})

describe('per-connection backlog', () => {
  it('runs frames that wait behind a slow one, in order, once it settles', async () => {
    const client = await node.connect()
    client.send({ message_type: 'hold', message_id: 'h' })
    for (let i = 1; i <= 5; i++) client.send({ message_type: 'ping', data: { ts: i }, message_id: i })
    assert.deepEqual(await client.quiet(100), [])
    release()
    const replies = []
    for (let i = 0; i < 6; i++) replies.push(await client.next(() => true))
    assert.deepEqual(replies.map((f) => f.request_id), ['h', 1, 2, 3, 4, 5])
  })

  it('cuts off with 1008 a client that floods past the backlog behind a frame in the chain', async () => {
    const client = await node.connect()
    const codes: number[] = []
    node.app.on('disconnect', (conn, info) => {
      if (conn.id === client.id) codes.push(info.code)
    })
    client.send({ message_type: 'hold' })
    for (let i = 0; i < 1100; i++) client.send({ message_type: 'ping' })
    await client.waitClose(5000)
    await eventually(() => codes.length === 1, 3000, 'disconnect event')
    assert.deepEqual(codes, [1008])
    release()
  })
})
