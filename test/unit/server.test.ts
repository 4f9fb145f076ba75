/** WsServer made without an Application: a host that records what the server hands it, a MemoryState, real WebSocket clients over loopback. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { pino } from 'pino'
import { MemoryState } from '../../lib/cluster/memory.js'
import { resolveConfig } from '../../lib/config.js'
import type { Connection } from '../../lib/connection.js'
import { encodeFrame, type Envelope } from '../../lib/protocol.js'
import type { AppEvents } from '../../lib/events.js'
import type { HttpHandler } from '../../lib/http-listeners.js'
import { WsServer, type HandshakeHook, type ServerHost } from '../../lib/server.js'
import { TestClient } from '../support/ws-client.js'

class Host extends EventEmitter<AppEvents> implements ServerHost {
  readonly nodeId = 'n1'
  config = resolveConfig({ http: { host: '127.0.0.1', port: 0 }, ws: { max_connections: 2 } })
  readonly log = pino({ level: 'silent' })
  readonly debug = false
  readonly state = new MemoryState()
  readonly binaryCodec = null
  readonly handshakeHooks: HandshakeHook[] = []
  readonly httpHandlers: HttpHandler[] = []
  readonly publicHttpHandlers: HttpHandler[] = []
  readonly inFlight = 0
  readonly left: string[] = []
  readonly rooms = { leaveAll: async (conn: Connection) => void this.left.push(conn.id) }
  readonly link = { stateMissed() {}, removeClient: (clientId: string) => this.state.removeClient(clientId) }
  readonly dispatched: Array<[string, Envelope]> = []
  async dispatch(client: Connection, envelope: Envelope): Promise<void> {
    this.dispatched.push([client.id, envelope])
    client.send(encodeFrame('seen', envelope.type, envelope.messageId))
  }
  reject(client: Connection, code: number): void {
    client.send(encodeFrame('refused', code))
  }
}

async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200 && !(await done()); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.ok(await done(), what)
}

describe('WsServer without an Application', () => {
  it('registers a client in the state before its welcome, hands its frames to the host, and cleans up when it goes', async () => {
    const host = new Host()
    const connected: string[] = []
    host.on('connection', (conn) => connected.push(conn.id))
    host.handshakeHooks.push((_req, identity) => ({ ...identity, userId: 'ann' }))
    const server = new WsServer(host)
    const { port } = await server.listen()
    try {
      const client = await TestClient.connect(`ws://127.0.0.1:${port}${host.config.ws.path}`)
      assert.equal(client.welcome.data.node_id, 'n1')
      assert.equal(client.welcome.data.user_id, 'ann')
      const record = await host.state.getClient(client.id)
      assert.deepEqual([record?.user_id, record?.node_id], ['ann', 'n1'])
      assert.deepEqual(connected, [client.id])
      assert.deepEqual((await client.request('hello', { x: 1 }, 5)).data, 'hello')
      // receivedAt: when the frame arrived (the rate limit counts by it).
      assert.deepEqual(host.dispatched, [[client.id, { type: 'hello', data: { x: 1 }, messageId: 5, receivedAt: host.dispatched[0]?.[1].receivedAt }]])
      assert.equal(typeof host.dispatched[0]?.[1].receivedAt, 'number')
      client.send('not json')
      assert.equal((await client.next('refused')).data, 1001)
      client.close()
      await until(async () => (await host.state.getClient(client.id)) === null, 'its record is gone from the state')
      assert.deepEqual(host.left, [client.id])
      assert.equal(server.size, 0)
    } finally {
      await server.close()
    }
  })

  it('refuses a handshake past ws.max_connections with 503, and reads the limit in force at each handshake', async () => {
    const host = new Host()
    const server = new WsServer(host)
    const { port } = await server.listen()
    const url = `ws://127.0.0.1:${port}${host.config.ws.path}`
    try {
      const clients = [await TestClient.connect(url), await TestClient.connect(url)]
      await assert.rejects(TestClient.connect(url), { status: 503 })
      host.config = resolveConfig({ http: { host: '127.0.0.1', port: 0 }, ws: { max_connections: 3 } })
      clients.push(await TestClient.connect(url))
      assert.equal(server.size, 3)
      for (const client of clients) client.close()
    } finally {
      await server.close()
    }
  })
})
