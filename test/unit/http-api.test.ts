/** The HTTP API installed on a node put together by hand from lib/'s parts (no Application), served by a plain node:http server. */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MemoryHub } from '../../lib/bus/memory.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import { resolveConfig } from '../../lib/config.js'
import { installHttpApi, type HttpApiHost } from '../../lib/http-api.js'
import type { HttpHandler } from '../../lib/http-listeners.js'
import { PartsNode } from '../support/parts.js'

describe('HTTP API without an Application', () => {
  const node = new PartsNode('n1', new MemoryHub(), new MemoryState(), resolveConfig({ http: { admin_token: 'secret-admin-token-1234' } }))
  const handlers: HttpHandler[] = []
  const host: HttpApiHost = Object.assign(node, {
    broadcast: (type: string, data: unknown) => node.delivery.toAll(type, data),
    onHttp: (handler: HttpHandler) => handlers.push(handler),
  })
  let server: Server
  let base: string
  const admin = { authorization: 'Bearer secret-admin-token-1234' }

  before(async () => {
    installHttpApi(host)
    await node.link.start()
    server = createServer(async (req, res) => {
      for (const handler of handlers) if (await handler(req, res)) return
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    await new Promise((resolve) => server.close(resolve))
    await node.link.stop()
  })

  it('answers /health from the bus status and the node id', async () => {
    const res = await fetch(`${base}/health`)
    assert.equal(res.status, 200)
    const body = (await res.json()) as Record<string, unknown>
    assert.deepEqual([body.status, body.node_id, body.bus], ['ok', 'n1', 'ok'])
  })

  it('refuses /api/* without the admin token, and serves rooms and stats through the parts it was given', async () => {
    assert.equal((await fetch(`${base}/api/stats`)).status, 401)
    const created = await fetch(`${base}/api/rooms`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'lobby', max_clients: 3 }) })
    assert.equal(created.status, 201)
    assert.equal((await node.state.getRoom('lobby'))?.max_clients, 3)
    const { conn } = await node.connect('a')
    await node.rooms.join(conn, 'lobby', null)
    const rooms = (await (await fetch(`${base}/api/rooms`, { headers: admin })).json()) as Array<Record<string, unknown>>
    assert.deepEqual(rooms.map((r) => [r.id, r.members]), [['lobby', 1]])
    const stats = (await (await fetch(`${base}/api/stats`, { headers: admin })).json()) as { clients: unknown; rooms: number }
    assert.deepEqual(stats.clients, { local: 1, cluster: 1 })
    assert.equal(stats.rooms, 1)
    assert.equal((await fetch(`${base}/api/clients/n1.nobody`, { method: 'DELETE', headers: admin })).status, 404)
  })
})
