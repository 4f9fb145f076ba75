import { describe, it, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, request as httpRequest } from 'node:http'
import jwt from 'jsonwebtoken'
import { startNode, type TestNode, startMemoryPair, testLogger } from '../support/node.js'
import { freePort } from '../support/services.js'
import { createApp } from '../../lib/application.js'
import { callApi, eventually, type ApiRequest } from '../support/http.js'
import type { ConfigInput } from '../../lib/config.js'

const ADMIN_TOKEN = 'admin-token-for-tests'
const SECRET = 'jwt-secret-for-tests'
const config: ConfigInput = { http: { admin_token: ADMIN_TOKEN }, auth: { secret: SECRET } }

const startCluster = (cfg: ConfigInput = config) => startMemoryPair(cfg)

function admin(node: TestNode, path: string, request: ApiRequest = {}) {
  return callApi(node.http, path, { token: ADMIN_TOKEN, ...request })
}

/** Sends a raw request whose declared content-length is over the limit, without sending that body. */
function declaredTooLarge(node: TestNode, path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${node.http}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'content-length': String(5 * 1024 * 1024) },
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.write('{"message":')
  })
}

describe('GET /health', () => {
  let node: TestNode
  beforeEach(async () => (node = await startNode(config)))
  afterEach(() => node.close())

  it('answers 200 with status ok, version, node id, uptime and bus ok, without credentials', async () => {
    const res = await callApi(node.http, '/health')
    assert.equal(res.status, 200)
    assert.equal(res.body.status, 'ok')
    assert.equal(res.body.bus, 'ok')
    assert.equal(res.body.node_id, node.app.nodeId)
    assert.equal(res.body.version, '0.1.0')
    assert.ok(Number.isInteger(res.body.uptime_s) && res.body.uptime_s >= 0)
  })

  it('answers 503 degraded with bus down while the bus is down', async () => {
    await node.app.bus.close()
    const res = await callApi(node.http, '/health')
    assert.equal(res.status, 503)
    assert.equal(res.body.status, 'degraded')
    assert.equal(res.body.bus, 'down')
  })

  it('answers 405 with an Allow header to a POST', async () => {
    const res = await callApi(node.http, '/health', { method: 'POST' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'GET, HEAD')
  })
})

describe('/api/* admin auth', () => {
  let node: TestNode
  beforeEach(async () => (node = await startNode(config)))
  afterEach(() => node.close())

  it('answers 401 with code 2000 when no Authorization header is sent', async () => {
    const res = await callApi(node.http, '/api/stats', { token: null })
    assert.equal(res.status, 401)
    assert.equal(res.body.code, 2000)
    assert.equal(typeof res.body.message, 'string')
  })

  it('answers 401 to a wrong admin token', async () => {
    const res = await callApi(node.http, '/api/stats', { token: `${ADMIN_TOKEN}x` })
    assert.equal(res.status, 401)
  })

  it('answers 401 to a Basic Authorization header', async () => {
    const res = await callApi(node.http, '/api/stats', { headers: { authorization: `Basic ${Buffer.from(`a:${ADMIN_TOKEN}`).toString('base64')}` } })
    assert.equal(res.status, 401)
  })

  it('accepts the configured admin token', async () => {
    const res = await callApi(node.http, '/api/stats', { token: ADMIN_TOKEN })
    assert.equal(res.status, 200)
  })

  it('accepts a JWT granting admin:system signed with auth.secret', async () => {
    const token = jwt.sign({ sub: 'ops', permissions: ['admin:system'] }, SECRET, { algorithm: 'HS256', expiresIn: 60 })
    const res = await callApi(node.http, '/api/stats', { token })
    assert.equal(res.status, 200)
  })

  it('answers 401 to a valid JWT that does not grant admin:system', async () => {
    const token = jwt.sign({ sub: 'alice', permissions: ['join:room', 'admin:room'] }, SECRET, { algorithm: 'HS256', expiresIn: 60 })
    const res = await callApi(node.http, '/api/stats', { token })
    assert.equal(res.status, 401)
  })

  it('answers 401 to a JWT signed with another secret', async () => {
    const token = jwt.sign({ sub: 'ops', permissions: ['admin:system'] }, 'not-the-secret', { algorithm: 'HS256', expiresIn: 60 })
    const res = await callApi(node.http, '/api/stats', { token })
    assert.equal(res.status, 401)
    assert.equal(res.body.code, 2003)
  })

  it('answers 401 to an unsigned (alg none) JWT', async () => {
    const token = jwt.sign({ sub: 'ops', permissions: ['admin:system'] }, '', { algorithm: 'none' })
    const res = await callApi(node.http, '/api/stats', { token })
    assert.equal(res.status, 401)
  })

  it('answers 401 to an expired JWT, with code 2002', async () => {
    const token = jwt.sign({ sub: 'ops', permissions: ['admin:system'], exp: Math.floor(Date.now() / 1000) - 60 }, SECRET, { algorithm: 'HS256' })
    const res = await callApi(node.http, '/api/stats', { token })
    assert.equal(res.status, 401)
    assert.equal(res.body.code, 2002)
  })

  for (const [method, path] of [
    ['POST', '/api/broadcast'], ['GET', '/api/stats'], ['GET', '/api/rooms'], ['POST', '/api/rooms'],
    ['DELETE', '/api/rooms/lobby'], ['GET', '/api/clients'], ['DELETE', '/api/clients/n.c'],
  ] as const) {
    it(`answers 401 to ${method} ${path} without credentials, before reading the body`, async () => {
      const res = await callApi(node.http, path, { method, token: null, body: method === 'POST' ? { message: 'x', id: 'x' } : undefined })
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="wshub admin"')
    })
  }

  it('answers 401 before 404 on an unknown /api path, and 404 once authorized', async () => {
    assert.equal((await callApi(node.http, '/api/nothing-here', { token: null })).status, 401)
    assert.equal((await admin(node, '/api/nothing-here')).status, 404)
  })

  it('refuses every token when neither http.admin_token nor a JWT key is configured', async () => {
    const bare = await startNode()
    try {
      assert.equal((await callApi(bare.http, '/api/stats', { token: '' })).status, 401)
      assert.equal((await callApi(bare.http, '/api/stats', { token: 'anything' })).status, 401)
    } finally {
      await bare.close()
    }
  })
})

describe('POST /api/broadcast', () => {
  let a: TestNode
  let b: TestNode
  beforeEach(async () => ([a, b] = await startCluster()))
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('answers 202 and delivers broadcast {message} to every client on every node', async () => {
    const onA = await a.connect()
    const onB = await b.connect()
    const res = await admin(a, '/api/broadcast', { method: 'POST', body: { message: { text: 'maintenance at noon' } } })
    assert.equal(res.status, 202)
    for (const client of [onA, onB]) {
      const frame = await client.next('broadcast')
      assert.deepEqual(frame.data, { message: { text: 'maintenance at noon' } })
      assert.equal(typeof frame.timestamp, 'number')
    }
  })

  it('answers 400 with code and message to a body that is not JSON', async () => {
    const res = await admin(a, '/api/broadcast', { method: 'POST', body: '{"message": ' })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 1001)
    assert.match(res.body.message, /JSON/)
  })

  it('answers 400 when message is missing', async () => {
    const res = await admin(a, '/api/broadcast', { method: 'POST', body: { text: 'hi' } })
    assert.equal(res.status, 400)
  })

  it('answers 400 to a body that is not an object', async () => {
    const res = await admin(a, '/api/broadcast', { method: 'POST', body: ['hi'] })
    assert.equal(res.status, 400)
  })

  it('answers 413 to a body over 1 MiB, from its content-length, without reading it', async () => {
    const res = await declaredTooLarge(a, '/api/broadcast')
    assert.equal(res.status, 413)
    assert.equal(res.body.code, 4002)
  })

  it('answers 413 to a body over 1 MiB sent with fetch', async () => {
    const res = await admin(a, '/api/broadcast', { method: 'POST', body: JSON.stringify({ message: 'x'.repeat(1024 * 1024 + 10) }) })
    assert.equal(res.status, 413)
  })

  it('answers 413 to a chunked body once its bytes pass 1 MiB', async () => {
    let sent = 0
    const chunk = new Uint8Array(64 * 1024).fill(0x20)
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 16 * 1024 * 1024) return controller.close()
        sent += chunk.length
        controller.enqueue(chunk)
      },
    })
    const res = await fetch(`${a.http}/api/broadcast`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body,
      duplex: 'half',
    } as RequestInit)
    assert.equal(res.status, 413)
    assert.equal(((await res.json()) as { code: number }).code, 4002)
  })

  it('answers 405 with Allow: POST to a GET', async () => {
    const res = await admin(a, '/api/broadcast')
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'POST')
  })
})

describe('GET /api/stats', () => {
  let a: TestNode
  let b: TestNode
  beforeEach(async () => ([a, b] = await startCluster()))
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('counts local clients, cluster clients, rooms and nodes across the cluster', async () => {
    await a.connect()
    const onB1 = await b.connect()
    await b.connect()
    await onB1.request('join_room', { room_id: 'lobby' })
    await admin(a, '/api/rooms', { method: 'POST', body: { id: 'empty' } })
    await eventually(async () => (await a.app.state.countClients()) === 3, 5000, 'three registered clients')
    const res = await admin(a, '/api/stats')
    assert.equal(res.status, 200)
    assert.equal(res.body.node_id, a.app.nodeId)
    assert.deepEqual(res.body.clients, { local: 1, cluster: 3 })
    assert.equal(res.body.rooms, 2)
    assert.deepEqual(res.body.nodes.map((n: { node_id: string }) => n.node_id).sort(), [a.app.nodeId, b.app.nodeId].sort())
  })
})

describe('GET /api/stats nodes', () => {
  it('gives this node\'s own client count as it is now, not as of its last heartbeat', async () => {
    // A heartbeat a minute apart: every count it carries is from before the clients came.
    const node = await startNode({ ...config, cluster: { node_ttl_ms: 180_000 } })
    try {
      for (let i = 0; i < 5; i++) await node.connect()
      const res = await admin(node, '/api/stats')
      assert.equal(res.body.clients.local, 5)
      assert.equal(res.body.nodes.find((n: { node_id: string }) => n.node_id === node.app.nodeId).clients, 5)
    } finally {
      await node.close()
    }
  })
})

describe('GET /api/rooms', () => {
  let a: TestNode
  let b: TestNode
  beforeEach(async () => ([a, b] = await startCluster()))
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('lists every room of the cluster with its name, max_clients and member count', async () => {
    const onA = await a.connect()
    const onB = await b.connect()
    await onA.request('join_room', { room_id: 'lobby' })
    await onB.request('join_room', { room_id: 'lobby' })
    await admin(b, '/api/rooms', { method: 'POST', body: { id: 'vip', name: 'VIP lounge', max_clients: 5 } })
    const res = await admin(a, '/api/rooms')
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, [
      { id: 'lobby', name: 'lobby', max_clients: 0, presence_events: null, members: 2, history_size: 0 },
      { id: 'vip', name: 'VIP lounge', max_clients: 5, presence_events: null, members: 0, history_size: 0 },
    ])
  })

  it('answers an empty list when there is no room', async () => {
    const res = await admin(a, '/api/rooms')
    assert.deepEqual(res.body, [])
  })
})

describe('POST /api/rooms', () => {
  let node: TestNode
  beforeEach(async () => (node = await startNode({ ...config, rooms: { default_max_clients: 7 } })))
  afterEach(() => node.close())

  it('answers 201 with the room, its defaults filled in, and a Location', async () => {
    const res = await admin(node, '/api/rooms', { method: 'POST', body: { id: 'news' } })
    assert.equal(res.status, 201)
    assert.deepEqual(res.body, { id: 'news', name: 'news', max_clients: 7, presence_events: null, members: 0, history_size: 0 })
    assert.equal(res.headers.get('location'), '/api/rooms/news')
    assert.ok(await node.app.rooms.get('news'))
  })

  it('makes a room whose max_clients is enforced on join', async () => {
    await admin(node, '/api/rooms', { method: 'POST', body: { id: 'made-by-api', max_clients: 1 } })
    const first = await node.connect()
    const second = await node.connect()
    assert.equal((await first.request('join_room', { room_id: 'made-by-api' })).message_type, 'room_joined')
    const full = await second.request('join_room', { room_id: 'made-by-api' })
    assert.equal(full.data.code, 3002)
  })

  it("lets a room's own presence_events win over rooms.presence_events", async () => {
    await admin(node, '/api/rooms', { method: 'POST', body: { id: 'loud', presence_events: true } })
    const first = await node.connect()
    const second = await node.connect()
    await first.request('join_room', { room_id: 'loud' })
    await second.request('join_room', { room_id: 'loud' })
    const event = await first.next('member_joined')
    assert.deepEqual(event.data, { room_id: 'loud', client_id: second.id, user_id: null })
  })

  it('answers 409 with code 3001 when the room exists', async () => {
    await admin(node, '/api/rooms', { method: 'POST', body: { id: 'twice' } })
    const res = await admin(node, '/api/rooms', { method: 'POST', body: { id: 'twice' } })
    assert.equal(res.status, 409)
    assert.equal(res.body.code, 3001)
  })

  for (const [why, body] of [
    ['an id with a space', { id: 'no spaces' }],
    ['a missing id', { name: 'nameless' }],
    ['an id that is not a string', { id: 42 }],
    ['a negative max_clients', { id: 'r1', max_clients: -1 }],
    ['a fractional max_clients', { id: 'r1', max_clients: 1.5 }],
    ['a presence_events that is not a boolean', { id: 'r1', presence_events: 'yes' }],
    ['an empty name', { id: 'r1', name: '' }],
    ['an unknown field', { id: 'r1', colour: 'red' }],
    ['a body that is not an object', 'null'],
  ] as const) {
    it(`answers 400 with code and message to ${why}`, async () => {
      const res = await admin(node, '/api/rooms', { method: 'POST', body })
      assert.equal(res.status, 400)
      assert.equal(res.body.code, 1001)
      assert.equal(typeof res.body.message, 'string')
    })
  }

  it('answers 405 with Allow: GET, POST, HEAD to a PUT', async () => {
    const res = await admin(node, '/api/rooms', { method: 'PUT', body: { id: 'x' } })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'GET, POST, HEAD')
  })
})

describe('DELETE /api/rooms/:id', () => {
  let a: TestNode
  let b: TestNode
  beforeEach(async () => ([a, b] = await startCluster()))
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('answers 204 and sends room_left with reason deleted to its members on every node', async () => {
    const onA = await a.connect()
    const onB = await b.connect()
    await onA.request('join_room', { room_id: 'doomed' })
    await onB.request('join_room', { room_id: 'doomed' })
    const res = await admin(a, '/api/rooms/doomed', { method: 'DELETE' })
    assert.equal(res.status, 204)
    assert.equal(res.body, null)
    for (const client of [onA, onB]) {
      const frame = await client.next('room_left')
      assert.deepEqual(frame.data, { room_id: 'doomed', status: 'left', reason: 'deleted' })
    }
    assert.equal(await a.app.rooms.get('doomed'), null)
    const again = await onB.request('room_message', { room_id: 'doomed', content: 'still here?' })
    assert.equal(again.data.code, 3003)
  })

  it('answers 404 with code 3000 for a room that does not exist', async () => {
    const res = await admin(a, '/api/rooms/ghost', { method: 'DELETE' })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 3000)
  })

  it('answers 405 with Allow: DELETE to a GET', async () => {
    const res = await admin(a, '/api/rooms/anything')
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'DELETE')
  })
})

describe('GET /api/clients', () => {
  let a: TestNode
  let b: TestNode
  beforeEach(async () => ([a, b] = await startCluster()))
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('lists the clients of every node with user, node and rooms, and the cluster count', async () => {
    const onA = await a.connect()
    const onB = await b.connect()
    await onB.request('join_room', { room_id: 'lobby' })
    await eventually(async () => (await a.app.state.countClients()) === 2, 5000, 'two registered clients')
    const res = await admin(a, '/api/clients')
    assert.equal(res.status, 200)
    assert.equal(res.body.count, 2)
    assert.equal(res.body.next_cursor, null)
    const byId = new Map(res.body.clients.map((c: { client_id: string }) => [c.client_id, c]))
    assert.deepEqual(byId.get(onA.id), { client_id: onA.id, user_id: null, node_id: a.app.nodeId, rooms: [] })
    assert.deepEqual(byId.get(onB.id), { client_id: onB.id, user_id: null, node_id: b.app.nodeId, rooms: ['lobby'] })
  })

  it('pages with limit and cursor, each client once, next_cursor null on the last page', async () => {
    for (let i = 0; i < 5; i++) await (i % 2 === 0 ? a : b).connect()
    await eventually(async () => (await a.app.state.countClients()) === 5, 5000, 'five registered clients')
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await admin(a, `/api/clients?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      assert.equal(res.status, 200)
      assert.equal(res.body.count, 5)
      assert.ok(res.body.clients.length <= 2)
      seen.push(...res.body.clients.map((c: { client_id: string }) => c.client_id))
      cursor = res.body.next_cursor
      pages++
    } while (cursor !== null && pages < 10)
    assert.equal(pages, 3)
    assert.equal(new Set(seen).size, 5)
  })

  it('answers 100 clients by default and takes a limit above 1000 as 1000', async () => {
    for (let i = 0; i < 1005; i++) {
      await a.app.state.addClient({ client_id: `${b.app.nodeId}.fake${String(i).padStart(4, '0')}`, user_id: null, node_id: b.app.nodeId, connected_at: Date.now() })
    }
    const byDefault = await admin(a, '/api/clients')
    assert.equal(byDefault.body.clients.length, 100)
    assert.equal(byDefault.body.count, 1005)
    const capped = await admin(a, '/api/clients?limit=5000')
    assert.equal(capped.status, 200)
    assert.equal(capped.body.clients.length, 1000)
    assert.equal(typeof capped.body.next_cursor, 'string')
  })

  for (const limit of ['0', '-1', 'ten', '1.5']) {
    it(`answers 400 to limit=${limit}`, async () => {
      const res = await admin(a, `/api/clients?limit=${limit}`)
      assert.equal(res.status, 400)
      assert.equal(res.body.code, 1001)
    })
  }
})

describe('DELETE /api/clients/:id', () => {
  let a: TestNode
  let b: TestNode
  beforeEach(async () => ([a, b] = await startCluster()))
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('answers 204 and closes a client of this node with 4000', async () => {
    const client = await a.connect()
    const res = await admin(a, `/api/clients/${encodeURIComponent(client.id)}`, { method: 'DELETE' })
    assert.equal(res.status, 204)
    assert.equal((await client.waitClose()).code, 4000)
  })

  it('answers 204 and closes a client of another node with 4000', async () => {
    const client = await b.connect()
    await eventually(async () => (await a.app.state.getClient(client.id)) !== null, 5000, 'client registered')
    const res = await admin(a, `/api/clients/${encodeURIComponent(client.id)}`, { method: 'DELETE' })
    assert.equal(res.status, 204)
    assert.equal((await client.waitClose()).code, 4000)
  })

  it('answers 404 with code 4000 for a client no node holds', async () => {
    for (const id of [`${b.app.nodeId}.nobody`, `${a.app.nodeId}.nobody`, 'not-a-client-id']) {
      const res = await admin(a, `/api/clients/${encodeURIComponent(id)}`, { method: 'DELETE' })
      assert.equal(res.status, 404, id)
      assert.equal(res.body.code, 4000)
    }
  })
})

describe('http.admin_address', () => {
  let node: TestNode
  let adminBase: string
  beforeEach(async () => {
    node = await startNode({ ...config, http: { ...config.http, admin_address: '127.0.0.1:0' } })
    adminBase = `http://127.0.0.1:${node.app.server.adminAddress()!.port}`
  })
  afterEach(() => node.close())

  it('serves /api/* on the admin listener only', async () => {
    assert.equal((await callApi(adminBase, '/api/stats', { token: ADMIN_TOKEN })).status, 200)
    assert.equal((await callApi(node.http, '/api/stats', { token: ADMIN_TOKEN })).status, 404)
    assert.equal((await callApi(node.http, '/api/stats')).status, 404)
  })

  it('serves /health on both listeners: a load balancer checks the port it routes to', async () => {
    for (const base of [adminBase, node.http]) {
      const res = await callApi(base, '/health')
      assert.equal(res.status, 200, base)
      assert.equal(res.body.status, 'ok')
      assert.equal(res.body.node_id, node.app.nodeId)
    }
    assert.equal((await callApi(node.http, '/health', { method: 'POST' })).status, 405)
  })

  it('serves /ws on the main port only', async () => {
    const client = await node.connect()
    assert.equal(client.welcome.data.node_id, node.app.nodeId)
    const { TestClient } = await import('../support/ws-client.js')
    await assert.rejects(TestClient.connect(`${adminBase.replace('http', 'ws')}/ws`), (err: Error & { status?: number }) => err.status === 404)
  })

  it('fails to listen naming http.admin_address when its port is taken, and lets the main port go', async () => {
    const mainPort = await freePort()
    const app = createApp({ ...config, http: { ...config.http, host: '127.0.0.1', port: mainPort, admin_address: `127.0.0.1:${node.port}` } }, { logger: testLogger() })
    await assert.rejects(app.listen(), /http\.admin_address: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/)
    await app.close()
    const probe = createServer()
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(mainPort, '127.0.0.1', resolve))
    await new Promise((resolve) => probe.close(resolve))
  })

  it('still runs handlers added without { admin: true } on the main port', async () => {
    node.app.onHttp((req, res) => {
      if (req.url !== '/ready') return false
      res.end('yes')
      return true
    })
    const res = await fetch(`${node.http}/ready`)
    assert.equal(await res.text(), 'yes')
  })
})
