/**
 * Where the client puts its token, checked at the wire (a handshake hook records what
 * arrived), and what the server's auth and dedup middleware make of it.
 */
import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import jwt from 'jsonwebtoken'
import { WshubClient, type ClientOptions } from '../../lib/client/index.js'
import { startNode, type TestNode } from '../support/node.js'
import { BrowserLikeWebSocket, nextEvent } from './helpers.js'

const SECRET = 'client-sdk-test-secret'

function token(sub = 'alice'): string {
  return jwt.sign({ sub, permissions: ['join:room', 'leave:room', 'send:message', 'create:room'] }, SECRET, { algorithm: 'HS256', expiresIn: '1h' })
}

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A node with a key (so the auth middleware accepts our tokens) that records every handshake. */
async function node(): Promise<{ node: TestNode; handshakes: IncomingMessage[] }> {
  const n = await startNode({ auth: { secret: SECRET } })
  cleanups.push(() => n.close())
  const handshakes: IncomingMessage[] = []
  n.app.onHandshake((req, identity) => {
    handshakes.push(req)
    return identity
  })
  return { node: n, handshakes }
}

function client(url: string, options: ClientOptions): WshubClient {
  const c = new WshubClient(url, { backoff: { baseMs: 20, maxMs: 100 }, ...options })
  cleanups.push(() => c.close())
  return c
}

describe('WshubClient token', () => {
  it('sends the token as Authorization: Bearer under Node by default', async () => {
    const { node: n, handshakes } = await node()
    const t = token()
    await client(n.url, { token: t }).connect()
    assert.equal(handshakes[0]!.headers.authorization, `Bearer ${t}`)
    assert.equal(handshakes[0]!.headers['sec-websocket-protocol'], 'wshub.v1')
    assert.ok(!handshakes[0]!.url!.includes('token='))
  })

  it('sends the token in the subprotocol list with a browser WebSocket', async () => {
    const { node: n, handshakes } = await node()
    const t = token()
    await client(n.url, { token: t, WebSocket: BrowserLikeWebSocket }).connect()
    const offered = handshakes[0]!.headers['sec-websocket-protocol']!.split(',').map((p) => p.trim())
    assert.deepEqual(offered, ['wshub.v1', `wshub.bearer.${t}`])
    assert.equal(handshakes[0]!.headers.authorization, undefined)
  })

  it('sends the token as ?token= when asked', async () => {
    const { node: n, handshakes } = await node()
    const t = token()
    await client(n.url, { token: t, tokenIn: 'query' }).connect()
    assert.equal(new URL(handshakes[0]!.url!, 'http://x').searchParams.get('token'), t)
  })

  it('connects anonymously with no token', async () => {
    const { node: n, handshakes } = await node()
    const welcome = await client(n.url, {}).connect()
    assert.equal(handshakes[0]!.headers.authorization, undefined)
    assert.equal(welcome.user_id, null)
  })

  it('asks the token function for a fresh token before every connect', async () => {
    const { node: n, handshakes } = await node()
    let calls = 0
    const c = client(n.url, { token: () => token(`user-${++calls}`) })
    const first = await c.connect()
    const reopened = nextEvent(c, 'open')
    n.app.server.connections.get(first.client_id)!.close(1012, 'restart')
    await reopened
    assert.equal(calls, 2)
    const subs = handshakes.map((req) => (jwt.decode(req.headers.authorization!.slice('Bearer '.length)) as { sub: string }).sub)
    assert.deepEqual(subs, ['user-1', 'user-2'])
  })

  it('tries again later when the token function fails', async () => {
    const { node: n, handshakes } = await node()
    let calls = 0
    const c = client(n.url, {
      token: () => {
        if (++calls === 1) throw new Error('login service down')
        return token()
      },
    })
    const firstClose = nextEvent(c, 'closed')
    await c.connect()
    assert.deepEqual(await firstClose, { code: 1006, reason: 'could not get a token: login service down', reconnect: true })
    assert.equal(calls, 2)
    assert.equal(handshakes.length, 1)
  })

  it('gives up at once on a header token with a browser WebSocket, which cannot set headers', async () => {
    const { node: n, handshakes } = await node()
    const c = client(n.url, { token: token(), tokenIn: 'header', WebSocket: BrowserLikeWebSocket })
    const closed = nextEvent(c, 'closed')
    await assert.rejects(c.connect(), /closed/)
    const info = await closed
    assert.equal(info.reconnect, false)
    assert.match(info.reason, /cannot connect: .*browsers cannot set headers/)
    assert.equal(handshakes.length, 0)
  })
})

describe('WshubClient token with the auth middleware', () => {
  it('is identified as the token subject', async () => {
    const { node: n } = await node()
    const welcome = await client(n.url, { token: token('alice') }).connect()
    assert.equal(welcome.user_id, 'alice')
  })

  it('is identified through the subprotocol token as a browser would send it', async () => {
    const { node: n } = await node()
    const welcome = await client(n.url, { token: token('bob'), WebSocket: BrowserLikeWebSocket }).connect()
    assert.equal(welcome.user_id, 'bob')
  })

  it('reports the HTTP status of a refused upgrade', async () => {
    const { node: n } = await node()
    const c = client(n.url, { token: 'not-a-jwt', maxAttempts: 0 })
    const closed = nextEvent(c, 'closed')
    await assert.rejects(c.connect())
    const info = await closed
    assert.equal(info.status, 401)
    assert.equal(info.reconnect, false)
  })
})

describe('WshubClient#request retried with the dedup middleware', () => {
  it('is answered as a duplicate and not run twice', async () => {
    const { node: n } = await node()
    let runs = 0
    n.app.route('charge', (ctx) => {
      runs++
      // Processed, but the reply is lost with the connection.
      ctx.client.close(1006, 'cut', true)
    })
    const c = client(n.url, { token: token('carol') })
    await c.connect()
    const reply = await c.request('charge', { amount: 5 }, { timeout: 10_000 })
    assert.equal(runs, 1)
    assert.equal(reply.message_type, 'ack')
    assert.deepEqual(reply.data, { status: 'ok', duplicate: true })
  })
})
