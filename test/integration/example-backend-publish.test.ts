import { describe, it, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createBackend } from '../../examples/backend-publish/backend.js'
import { startNode, type TestNode } from '../support/node.js'
import { eventually } from '../support/http.js'
import { MemoryBus, MemoryHub } from '../../lib/bus/memory.js'
import { MemoryState } from '../../lib/cluster/memory.js'

describe('examples/backend-publish createBackend', () => {
  let a: TestNode
  let b: TestNode
  let backend: Server
  let base: string

  // The backend runs beside node A; the clients connect to node B.
  beforeEach(async () => {
    const hub = new MemoryHub()
    const state = new MemoryState()
    a = await startNode({}, { bus: new MemoryBus(hub), state })
    b = await startNode({}, { bus: new MemoryBus(hub), state })
    backend = createBackend(a.app)
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`
  })

  afterEach(async () => {
    await new Promise((resolve) => backend.close(resolve))
    await a.close()
    await b.close()
  })

  it('publishes an order status to the watchers of its room on another node', async () => {
    const watcher = await b.connect()
    await watcher.request('join_room', { room_id: 'order:42' })
    const res = await fetch(`${base}/orders/42/status`, { method: 'POST', body: JSON.stringify({ status: 'shipped' }) })
    assert.equal(res.status, 202)
    assert.deepEqual((await watcher.next('order_status')).data, { order_id: '42', status: 'shipped' })
  })

  it('notifies one client, announces to all, counts and bans across nodes', async () => {
    const client = await b.connect()
    await eventually(async () => (await a.app.clients.count()) === 1, 5000, 'client registered')
    assert.equal((await fetch(`${base}/users/${client.id}/notify`, { method: 'POST', body: '{"text":"hi"}' })).status, 202)
    assert.deepEqual((await client.next('notification')).data, { text: 'hi' })
    assert.equal((await fetch(`${base}/announce`, { method: 'POST', body: '{"text":"noon"}' })).status, 202)
    assert.deepEqual((await client.next('announcement')).data, { text: 'noon' })
    assert.deepEqual(await (await fetch(`${base}/online`)).json(), { online: 1 })
    assert.equal((await fetch(`${base}/users/${client.id}/ban`, { method: 'POST' })).status, 204)
    assert.equal((await client.waitClose()).code, 4000)
  })

  it('answers 404 when the client to notify is nowhere', async () => {
    const res = await fetch(`${base}/users/${b.app.nodeId}.nobody/notify`, { method: 'POST', body: '{"text":"hi"}' })
    assert.equal(res.status, 404)
  })
})
