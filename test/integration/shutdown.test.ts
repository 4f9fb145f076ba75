import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { startNode, type TestNode } from '../support/node.js'
import { TestClient } from '../support/ws-client.js'

/** Sends a WebSocket upgrade request; resolves to the HTTP status (101 when it upgraded) or the socket error. */
function upgradeStatus(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/ws',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve(res.statusCode!)
    })
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode!)
    })
    req.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message))
    req.end()
  })
}

/** A `slow` route that waits, once entered, until `release()`, then replies `slow_done`. */
function slowRoute(node: TestNode): { entered: Promise<void>; release: () => void } {
  let release: (() => void) | null = null
  const entered = new Promise<void>((resolve) => {
    node.app.route('slow', async (ctx) => {
      resolve()
      await new Promise<void>((r) => (release = r))
      ctx.reply('slow_done', null)
    })
  })
  return { entered, release: () => release!() }
}

describe('app.close', () => {
  it('closes every client with 1001', async () => {
    const node = await startNode()
    const clients = [await node.connect(), await node.connect()]
    await node.app.close()
    for (const client of clients) assert.equal((await client.waitClose()).code, 1001)
  })

  it('lets a frame in the chain finish and answer before closing', async () => {
    const node = await startNode()
    const { entered, release } = slowRoute(node)
    const client = await node.connect()
    const reply = client.request('slow', null, 's')
    await entered
    const closing = node.app.close()
    setTimeout(() => release(), 50)
    assert.equal((await reply).message_type, 'slow_done')
    await closing
    assert.equal((await client.waitClose()).code, 1001)
  })

  it('answers a request that arrives while the drain waits for the frame before it, then closes with 1001', async () => {
    const node = await startNode()
    const { entered, release } = slowRoute(node)
    const client = await node.connect()
    const slow = client.request('slow', null, 's')
    await entered
    const closing = node.app.close()
    const ping = client.request('ping', { ts: 1 }, 'p')
    // Long enough for the ping to be on the node before the slow frame lets go.
    setTimeout(() => release(), 100)
    assert.equal((await slow).message_type, 'slow_done')
    assert.equal((await ping).message_type, 'pong')
    await closing
    assert.equal((await client.waitClose()).code, 1001)
  })

  it('closes an idle client at once, without waiting for another client\'s frame in the chain', async () => {
    const node = await startNode()
    const { entered, release } = slowRoute(node)
    const [busy, idle] = [await node.connect(), await node.connect()]
    const slow = busy.request('slow', null, 's')
    await entered
    const closing = node.app.close()
    try {
      assert.equal((await idle.waitClose(1000)).code, 1001)
      assert.equal(busy.closed, null)
    } finally {
      release()
    }
    assert.equal((await slow).message_type, 'slow_done')
    await closing
    assert.equal((await busy.waitClose()).code, 1001)
  })

  it('answers 503 to a handshake still in its hooks when the drain began', async () => {
    const node = await startNode()
    let release!: () => void
    const entered = new Promise<void>((resolve) => {
      node.app.onHandshake(async (_req, identity) => {
        resolve()
        await new Promise<void>((r) => (release = r))
        return identity
      })
    })
    const status = upgradeStatus(node.port)
    await entered
    const closing = node.app.close()
    release()
    assert.equal(await status, 503)
    await closing
  })

  it('refuses new connections once closed', async () => {
    const node = await startNode()
    const port = node.port
    await node.app.close()
    await assert.rejects(TestClient.connect(`ws://127.0.0.1:${port}/ws`))
  })
})
