import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { createApp } from '../../lib/application.js'
import type { ConfigInput } from '../../lib/config.js'
import { testLogger } from '../support/node.js'
import { TestClient } from '../support/ws-client.js'
import { rawRequest, UPGRADE_HEADERS } from '../support/raw-http.js'

/** A user's server: answers every request itself with `user: <path>`. */
async function userServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`user: ${req.url}`))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as AddressInfo).port }
}

const servers: Server[] = []
after(() => {
  for (const server of servers) {
    server.closeAllConnections()
    server.close()
  }
})

function hub(config: ConfigInput = {}) {
  return createApp(config, { logger: testLogger() })
}

describe('app.attach', () => {
  it('serves /ws, /health, /metrics and /api/* on the user\'s server and leaves every other request to it', async () => {
    const { server, port } = await userServer()
    servers.push(server)
    const app = hub()
    await app.attach(server)
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/orders`)).text(), 'user: /orders')
      const health = await fetch(`http://127.0.0.1:${port}/health`)
      assert.equal(health.status, 200)
      assert.equal(((await health.json()) as { status: string }).status, 'ok')
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
      assert.equal(metrics.status, 200)
      assert.match(await metrics.text(), /^# HELP wshub_/m)
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/stats`)).status, 401, '/api/* is the node\'s, and needs its admin credentials')
      const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`)
      assert.equal((await client.request('ping', { ts: 1 })).message_type, 'pong')
      client.close()
    } finally {
      await app.close()
    }
  })

  it('leaves upgrades on other paths to the user\'s own WebSocket server', async () => {
    const { server, port } = await userServer()
    servers.push(server)
    const theirs = new WebSocketServer({ noServer: true })
    theirs.on('connection', (ws) => ws.send('theirs'))
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/live') theirs.handleUpgrade(req, socket, head, (ws) => theirs.emit('connection', ws, req))
    })
    const app = hub()
    await app.attach(server)
    try {
      const { default: WebSocket } = await import('ws')
      const other = new WebSocket(`ws://127.0.0.1:${port}/live`)
      const [first] = (await once(other, 'message')) as [Buffer]
      assert.equal(first.toString(), 'theirs')
      other.close()
      const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`)
      assert.equal(client.welcome.data.node_id, app.nodeId)
      client.close()
    } finally {
      await app.close()
      theirs.close()
    }
  })

  it('serves /ws beside a WebSocketServer the user attached to the same server with its own path, whose clients outlive app.close()', async () => {
    const { server, port } = await userServer()
    servers.push(server)
    // ws's server mode answers 400 to an upgrade on any path but its own: it must not see wshub's.
    const theirs = new WebSocketServer({ server, path: '/live' })
    theirs.on('connection', (ws) => {
      ws.send('theirs')
      ws.on('message', (data) => ws.send(`echo ${String(data)}`))
    })
    const app = hub()
    await app.attach(server)
    const { default: WebSocket } = await import('ws')
    const other = new WebSocket(`ws://127.0.0.1:${port}/live`)
    const greeting = once(other, 'message')
    try {
      const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`)
      assert.equal((await client.request('ping')).message_type, 'pong')
      const [first] = (await greeting) as [Buffer]
      assert.equal(first.toString(), 'theirs')
      assert.equal((await rawRequest(port, '/elsewhere', UPGRADE_HEADERS)).status, 400, 'their server answers the paths that are not wshub\'s')
      const closing = client.waitClose(5000)
      await app.close()
      assert.equal((await closing).code, 1001, 'wshub\'s client is drained')
    } catch (err) {
      await app.close()
      throw err
    }
    // Their connection outlives app.close(), and their listener is back on the server, alone.
    other.send('still here')
    assert.equal(((await once(other, 'message')) as [Buffer])[0].toString(), 'echo still here')
    other.close()
    assert.equal(server.listenerCount('upgrade'), 1)
    const again = new WebSocket(`ws://127.0.0.1:${port}/live`)
    assert.equal(((await once(again, 'message')) as [Buffer])[0].toString(), 'theirs')
    again.close()
    theirs.close()
  })

  it('refuses an upgrade on another path with 404 when nothing else listens for upgrades', async () => {
    const { server, port } = await userServer()
    servers.push(server)
    const app = hub()
    await app.attach(server)
    try {
      const answer = await rawRequest(port, '/elsewhere', UPGRADE_HEADERS)
      assert.equal(answer.status, 404)
    } finally {
      await app.close()
    }
  })

  it('serves the WebSocket on `path` when given', async () => {
    const { server, port } = await userServer()
    servers.push(server)
    const app = hub()
    await app.attach(server, { path: '/realtime' })
    try {
      const client = await TestClient.connect(`ws://127.0.0.1:${port}/realtime`)
      assert.equal(client.welcome.message_type, 'welcome')
      client.close()
      await assert.rejects(TestClient.connect(`ws://127.0.0.1:${port}/ws`), /404/)
    } finally {
      await app.close()
    }
  })

  it('leaves /health to the user with `http: false`', async () => {
    const { server, port } = await userServer()
    servers.push(server)
    const app = hub()
    await app.attach(server, { http: false })
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/health`)).text(), 'user: /health')
    } finally {
      await app.close()
    }
  })

  it('gives the user\'s request listener back on close, and the server keeps listening', async () => {
    const { server, port } = await userServer()
    servers.push(server)
    const app = hub()
    await app.attach(server)
    await app.close()
    assert.equal(server.listening, true)
    assert.equal(server.listenerCount('request'), 1)
    assert.equal(server.listenerCount('upgrade'), 0)
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/health`)).text(), 'user: /health')
  })

  it('works on an https.Server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wshub-tls-'))
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
      const cert = readFileSync(join(dir, 'cert.pem'))
      const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) => res.end('tls user'))
      servers.push(server as unknown as Server)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      const app = hub()
      await app.attach(server as unknown as Server)
      try {
        const client = await TestClient.connect(`wss://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, { ca: cert })
        assert.equal((await client.request('ping')).message_type, 'pong')
        client.close()
      } finally {
        await app.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses a second start, a server that is not one, and a bad path', async () => {
    const { server } = await userServer()
    servers.push(server)
    await assert.rejects(hub().attach({} as Server), TypeError)
    await assert.rejects(hub().attach(server, { path: 'ws' }), /path must start with \//)
    const app = hub()
    await app.attach(server)
    try {
      await assert.rejects(app.attach(server), /started already/)
      await assert.rejects(app.listen(), /started already/)
    } finally {
      await app.close()
    }
  })
})

describe('app.handleUpgrade', () => {
  it('refuses with 503 before the app is started', async () => {
    const server = createServer()
    const app = hub()
    server.on('upgrade', (req, socket, head) => app.handleUpgrade(req, socket, head))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    servers.push(server)
    const answer = await rawRequest((server.address() as AddressInfo).port, '/ws', UPGRADE_HEADERS)
    assert.equal(answer.status, 503)
    assert.match(answer.body, /not started/)
  })

  it('runs the handshake (auth, 401) on an upgrade handed over by the user\'s server', async () => {
    const server = createServer()
    const app = hub({ auth: { secret: 'attach-secret-at-least-32-bytes-long!!', allow_anonymous: false } })
    await app.start()
    server.on('upgrade', (req, socket, head) => app.handleUpgrade(req, socket, head))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    servers.push(server)
    try {
      const answer = await rawRequest((server.address() as AddressInfo).port, '/ws', UPGRADE_HEADERS)
      assert.equal(answer.status, 401)
      assert.equal((JSON.parse(answer.body) as { code: number }).code, 2000)
    } finally {
      await app.close()
    }
  })
})
