import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { startNode, type TestNode } from '../support/node.js'

let node: TestNode

before(async () => {
  node = await startNode({ cluster: { node_id: 'welcome-node' }, heartbeat: { interval_ms: 25000, timeout_ms: 5000 } })
})
after(() => node.close())

/** Opens a raw socket and resolves to the first text frame it gets, and the socket. */
function firstFrame(url: string, protocols: string[] = []): Promise<{ frame: any; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols)
    socket.once('message', (raw) => resolve({ frame: JSON.parse(raw.toString()), socket }))
    socket.once('error', reject)
  })
}

describe('welcome', () => {
  it('is the first frame, with the protocol shape', async () => {
    const { frame, socket } = await firstFrame(node.url)
    socket.terminate()
    assert.equal(frame.message_type, 'welcome')
    assert.deepEqual(Object.keys(frame.data).sort(), ['client_id', 'heartbeat_ms', 'node_id', 'protocol', 'user_id'])
    assert.equal(frame.data.node_id, 'welcome-node')
    assert.equal(frame.data.user_id, null)
    assert.equal(frame.data.protocol, 1)
    assert.equal(frame.data.heartbeat_ms, 25000)
  })

  it('carries a client id made by the server that names the node', async () => {
    const a = await node.connect()
    const b = await node.connect()
    assert.ok(a.id.startsWith('welcome-node.'), a.id)
    assert.notEqual(a.id, b.id)
  })

  it('ignores a client_id given in the query', async () => {
    const client = await node.connect('?client_id=welcome-node.impostor')
    assert.notEqual(client.id, 'welcome-node.impostor')
    assert.notEqual(client.id, 'impostor')
  })
})

describe('subprotocol', () => {
  it('echoes wshub.v1 when the client offers it', async () => {
    const client = await node.connect('', { protocols: ['wshub.v1'] })
    assert.equal(client.socket.protocol, 'wshub.v1')
  })

  it('selects none when the client offers none', async () => {
    const client = await node.connect()
    assert.equal(client.socket.protocol, '')
  })
})
