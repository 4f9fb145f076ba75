import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { WshubClient, ClientError, WshubError, ErrorCode } from '../../lib/client/index.js'
import { startNode, type TestNode } from '../support/node.js'
import { until } from './helpers.js'

let node: TestNode
const notes: Array<{ clientId: string; data: unknown }> = []
const clients: WshubClient[] = []

function client(queueLimit?: number): WshubClient {
  const c = new WshubClient(node.url, queueLimit === undefined ? {} : { queueLimit })
  clients.push(c)
  return c
}

before(async () => {
  node = await startNode()
  node.app.route('note', (ctx) => {
    notes.push({ clientId: ctx.client.id, data: ctx.data })
  })
})

after(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await node.close()
})

describe('WshubClient send queue', () => {
  it('keeps sends made before the connection and delivers them in order once open', async () => {
    const c = client()
    c.send('note', 1)
    c.send('note', 2)
    const reply = c.request('ping', { ts: 7 })
    assert.equal(c.queued, 3)
    await c.connect()
    assert.deepEqual((await reply).data.ts, 7)
    await until(() => notes.filter((n) => n.clientId === c.welcome!.client_id).length === 2)
    assert.deepEqual(notes.filter((n) => n.clientId === c.welcome!.client_id).map((n) => n.data), [1, 2])
    assert.equal(c.queued, 0)
  })

  it('throws queue_full from send past the bound, and keeps what it had', async () => {
    const c = client(2)
    c.send('note', 'a')
    c.send('note', 'b')
    assert.throws(() => c.send('note', 'c'), (err: unknown) => err instanceof ClientError && err.reason === 'queue_full' && /queueLimit 2/.test(err.message))
    assert.equal(c.queued, 2)
    await c.connect()
    await until(() => notes.filter((n) => n.clientId === c.welcome!.client_id).length === 2)
    assert.deepEqual(notes.filter((n) => n.clientId === c.welcome!.client_id).map((n) => n.data), ['a', 'b'])
  })

  it('rejects a request with queue_full past the bound', async () => {
    const c = client(1)
    c.send('note', 'a')
    await assert.rejects(c.request('ping'), (err: unknown) => err instanceof ClientError && err.reason === 'queue_full')
    await assert.rejects(c.join('lobby'), (err: unknown) => err instanceof ClientError && err.reason === 'queue_full')
    assert.deepEqual(c.joinedRooms, [])
  })

  it('refuses every send while disconnected when the bound is 0', () => {
    const c = client(0)
    assert.throws(() => c.send('note'), (err: unknown) => err instanceof ClientError && err.reason === 'queue_full')
  })

  it('frees the place of a queued request that timed out', async () => {
    const c = client(1)
    await assert.rejects(c.request('ping', null, { timeout: 20 }), (err: unknown) => err instanceof WshubError && err.code === ErrorCode.Timeout)
    assert.equal(c.queued, 0)
    c.send('note', 'fits again')
  })

  it('rejects queued requests when the client closes', async () => {
    const c = client()
    const rejected = assert.rejects(c.request('ping'), (err: unknown) => err instanceof ClientError && err.reason === 'closed')
    await c.close()
    await rejected
    assert.equal(c.queued, 0)
  })

  it('refuses a negative or fractional bound', () => {
    assert.throws(() => new WshubClient(node.url, { queueLimit: -1 }), TypeError)
    assert.throws(() => new WshubClient(node.url, { queueLimit: 1.5 }), TypeError)
  })
})
