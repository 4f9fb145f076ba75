import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fitCloseReason, type Connection } from '../../lib/connection.js'
import { startNode } from '../support/node.js'

describe('fitCloseReason', () => {
  it('keeps a reason that fits a close frame', () => {
    assert.equal(fitCloseReason('server shutting down'), 'server shutting down')
    assert.equal(fitCloseReason('x'.repeat(123)), 'x'.repeat(123))
  })

  it('cuts a longer ASCII reason to 123 bytes', () => {
    assert.equal(fitCloseReason('x'.repeat(500)), 'x'.repeat(123))
  })

  it('cuts multi-byte text on a character boundary', () => {
    const cut = fitCloseReason('é'.repeat(100))
    assert.equal(cut, 'é'.repeat(61))
    assert.ok(Buffer.byteLength(cut) <= 123)
  })

  it('does not split a surrogate pair', () => {
    const cut = fitCloseReason('a' + '😀'.repeat(40))
    assert.ok(Buffer.byteLength(cut) <= 123)
    assert.equal(Buffer.from(cut).toString(), cut)
    assert.equal(cut, 'a' + '😀'.repeat(30))
  })
})

describe('Connection.holdWrites', () => {
  it('sends the replies to frames that arrive in one read in fewer writes than replies', async () => {
    const node = await startNode()
    try {
      const connections: Connection[] = []
      node.app.on('connection', (client) => connections.push(client))
      const client = await node.connect()
      const tcp = (connections[0]!.socket as unknown as { _socket: { _write: Function; _writev: Function } })._socket
      let writes = 0
      for (const method of ['_write', '_writev'] as const) {
        const original = tcp[method]
        tcp[method] = function (this: unknown, ...args: unknown[]) {
          writes++
          return original.apply(this, args)
        }
      }
      // Ten requests in one TCP segment: the server reads them together.
      const socket = (client.socket as unknown as { _socket: { cork(): void; uncork(): void } })._socket
      socket.cork()
      const replies = Array.from({ length: 10 }, () => client.request('ping', {}))
      socket.uncork()
      const frames = await Promise.all(replies)
      assert.deepEqual(
        frames.map((f) => f.message_type),
        Array.from({ length: 10 }, () => 'pong'),
      )
      assert.ok(writes < 10, `10 replies took ${writes} writes`)
    } finally {
      await node.close()
    }
  })
})
