import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect as tcpConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import { nodesClosedAfter, type TestNode } from '../support/node.js'
import { eventually } from '../support/expect.js'

const nodeWith = nodesClosedAfter()

/**
 * Sends a WebSocket upgrade request; resolves to the HTTP status and JSON body (101 and
 * null when it upgraded). An upgraded socket is closed at once unless `keep` collects it.
 */
function upgrade(node: TestNode, path = node.app.config.ws.path, headers: Record<string, string> = {}, keep?: Duplex[]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: node.port,
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    })
    req.on('upgrade', (res, socket) => {
      if (keep) keep.push(socket)
      else socket.destroy()
      resolve({ status: res.statusCode!, body: null })
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode!, body: res.headers['content-type'] === 'application/json' ? JSON.parse(text) : text }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('handshake', () => {
  it('answers 404 with a JSON body for a path other than ws.path', async () => {
    const node = await nodeWith({})
    const { status, body } = await upgrade(node, '/elsewhere')
    assert.equal(status, 404)
    assert.match(body.message, /\/ws/)
  })

  it('answers 426 Upgrade Required, with Upgrade: websocket and a JSON body, to a plain request to ws.path', async () => {
    const node = await nodeWith({ ws: { path: '/realtime' } })
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`http://127.0.0.1:${node.port}/realtime?x=1`, { method })
      assert.equal(res.status, 426, method)
      assert.equal(res.headers.get('upgrade'), 'websocket')
      assert.deepEqual(Object.keys(await res.json()), ['code', 'message'])
    }
    assert.equal((await fetch(`http://127.0.0.1:${node.port}/ws`)).status, 404)
  })

  it('serves ws.path with a query string', async () => {
    const node = await nodeWith({})
    assert.equal((await upgrade(node, '/ws?x=1')).status, 101)
  })

  it('serves a configured ws.path, and 404 on the default one', async () => {
    const node = await nodeWith({ ws: { path: '/realtime' } })
    assert.equal((await upgrade(node, '/realtime')).status, 101)
    assert.equal((await upgrade(node, '/ws')).status, 404)
  })
})

describe('ws.allowed_origins', () => {
  it('answers 403 to an Origin outside the list, and to none', async () => {
    const node = await nodeWith({ ws: { allowed_origins: ['https://good.example'] } })
    assert.equal((await upgrade(node, undefined, { Origin: 'https://evil.example' })).status, 403)
    assert.equal((await upgrade(node)).status, 403)
  })

  it('lets an allowed Origin in', async () => {
    const node = await nodeWith({ ws: { allowed_origins: ['https://other.example', 'https://good.example'] } })
    const client = await node.connect('', { origin: 'https://good.example' })
    assert.equal(client.welcome.message_type, 'welcome')
  })

  it('lets any Origin in when the list is empty', async () => {
    const node = await nodeWith({})
    await node.connect('', { origin: 'https://anything.example' })
  })
})

describe('ws.max_connections', () => {
  it('answers 503 past the limit, and lets a client in again once one left', async () => {
    const node = await nodeWith({ ws: { max_connections: 2 } })
    const a = await node.connect()
    await node.connect()
    const refused = await upgrade(node)
    assert.equal(refused.status, 503)
    assert.equal(typeof refused.body.message, 'string')
    a.close()
    await eventually(() => node.app.server.size === 1, 3000, 'server saw the close')
    await node.connect()
  })

  it('admits exactly the limit when many handshakes arrive at once, also while a slow hook runs', async () => {
    const node = await nodeWith({ ws: { max_connections: 3 } })
    node.app.onHandshake(async (_req, identity) => {
      await new Promise((r) => setTimeout(r, 50))
      return identity
    })
    const open: Duplex[] = []
    const statuses = await Promise.all(Array.from({ length: 8 }, () => upgrade(node, undefined, {}, open)))
    for (const socket of open) socket.destroy()
    assert.deepEqual(statuses.map((s) => s.status).sort(), [101, 101, 101, 503, 503, 503, 503, 503])
  })

  it('does not count a handshake that ws itself refused', async () => {
    const node = await nodeWith({ ws: { max_connections: 1 } })
    // A bad Sec-WebSocket-Key passes our checks, then ws answers 400 without calling back.
    assert.equal((await upgrade(node, undefined, { 'Sec-WebSocket-Key': 'not-a-key' })).status, 400)
    await node.connect()
  })

  it('does not count a client that hung up in the middle of the handshake', async () => {
    const node = await nodeWith({ ws: { max_connections: 1 } })
    // Headers announce an upgrade; the socket is gone before ws can complete it.
    await new Promise<void>((resolve) => {
      const socket = tcpConnect(node.port, '127.0.0.1', () => {
        socket.end('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
        socket.destroy()
        resolve()
      })
    })
    await eventually(async () => (await upgrade(node)).status === 101, 3000, 'slot released')
  })
})

describe('ws.max_connections_per_ip', () => {
  it('answers 429 past the limit from one address, and lets it in again once one left', async () => {
    const node = await nodeWith({ ws: { max_connections_per_ip: 1 } })
    const a = await node.connect()
    const refused = await upgrade(node)
    assert.equal(refused.status, 429)
    assert.equal(typeof refused.body.message, 'string')
    a.close()
    await eventually(() => node.app.server.size === 0, 3000, 'server saw the close')
    await node.connect()
  })
})
