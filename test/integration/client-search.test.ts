/**
 * Finding clients across the cluster by user id and room (`GET /api/clients?user_id=&room=`)
 * and kicking every connection of a user (`DELETE /api/users/:id/connections`), over real
 * HTTP and WebSockets on two in-process nodes sharing one state.
 */
import { describe, it, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { startMemoryPair, type TestNode } from '../support/node.js'
import { callApi, eventually } from '../support/http.js'
import { hs256, SECRET } from '../support/tokens.js'
import type { TestClient } from '../support/ws-client.js'

const TOKEN = 'client-search-token'
const config = { http: { admin_token: TOKEN }, auth: { secret: SECRET } }
const as = (user: string) => `?token=${hs256({ sub: user, permissions: ['join:room', 'leave:room', 'send:message', 'create:room'] })}`
const ids = (body: { clients: Array<{ client_id: string }> }) => body.clients.map((c) => c.client_id)
const sorted = (xs: string[]) => [...xs].sort()

describe('GET /api/clients filters', () => {
  let a: TestNode
  let b: TestNode
  let alice1: TestClient, alice2: TestClient, bob: TestClient, anon: TestClient
  beforeEach(async () => {
    ;[a, b] = await startMemoryPair(config)
    alice1 = await a.connect(as('alice'))
    alice2 = await b.connect(as('alice'))
    bob = await b.connect(as('bob'))
    anon = await a.connect()
    await alice1.request('join_room', { room_id: 'lobby' })
    await bob.request('join_room', { room_id: 'lobby' })
    await anon.request('join_room', { room_id: 'lobby' })
    await alice2.request('join_room', { room_id: 'other' })
    await eventually(async () => (await a.app.state.countClients()) === 4, 5000, 'four registered clients')
  })
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('finds every connection of a user on every node, with count the number that match', async () => {
    const res = await callApi(a.http, '/api/clients?user_id=alice', { token: TOKEN })
    assert.equal(res.status, 200)
    assert.equal(res.body.count, 2)
    assert.deepEqual(sorted(ids(res.body)), sorted([alice1.id, alice2.id]))
    assert.ok(res.body.clients.every((c: { user_id: string }) => c.user_id === 'alice'))
    assert.equal(res.body.next_cursor, null)
  })

  it('finds the members of a room, cluster-wide, with their rooms', async () => {
    const res = await callApi(b.http, '/api/clients?room=lobby', { token: TOKEN })
    assert.equal(res.body.count, 3)
    assert.deepEqual(sorted(ids(res.body)), sorted([alice1.id, bob.id, anon.id]))
    assert.deepEqual(res.body.clients.find((c: { client_id: string }) => c.client_id === bob.id), { client_id: bob.id, user_id: 'bob', node_id: b.app.nodeId, rooms: ['lobby'] })
  })

  it('takes both filters together', async () => {
    const res = await callApi(a.http, '/api/clients?room=lobby&user_id=alice', { token: TOKEN })
    assert.deepEqual(ids(res.body), [alice1.id])
    assert.equal(res.body.count, 1)
  })

  it('answers an empty page for a user with no connection', async () => {
    const res = await callApi(a.http, '/api/clients?user_id=nobody', { token: TOKEN })
    assert.deepEqual(res.body, { count: 0, clients: [], next_cursor: null })
  })

  it('pages the matches with limit and cursor, each once', async () => {
    const first = await callApi(a.http, '/api/clients?room=lobby&limit=2', { token: TOKEN })
    assert.equal(first.body.clients.length, 2)
    assert.equal(first.body.count, 3)
    assert.notEqual(first.body.next_cursor, null)
    const second = await callApi(a.http, `/api/clients?room=lobby&limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`, { token: TOKEN })
    assert.equal(second.body.clients.length, 1)
    assert.equal(second.body.next_cursor, null)
    assert.deepEqual(sorted([...ids(first.body), ...ids(second.body)]), sorted([alice1.id, bob.id, anon.id]))
  })

  it('answers 404 (3000) for a room that does not exist, 400 for a bad room id or an empty user id', async () => {
    const missing = await callApi(a.http, '/api/clients?room=nowhere', { token: TOKEN })
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 3000)
    assert.equal((await callApi(a.http, '/api/clients?room=no%20spaces', { token: TOKEN })).status, 400)
    assert.equal((await callApi(a.http, '/api/clients?user_id=', { token: TOKEN })).status, 400)
  })
})

describe('DELETE /api/users/:id/connections', () => {
  let a: TestNode
  let b: TestNode
  beforeEach(async () => ([a, b] = await startMemoryPair(config)))
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('kicks every connection of the user on every node with 4000, and no one else', async () => {
    const onA = await a.connect(as('mallory'))
    const onB = await b.connect(as('mallory'))
    const other = await b.connect(as('bob'))
    await eventually(async () => (await a.app.state.countClients()) === 3, 5000, 'three registered clients')
    const res = await callApi(a.http, '/api/users/mallory/connections', { method: 'DELETE', token: TOKEN })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { kicked: 2 })
    assert.equal((await onA.waitClose()).code, 4000)
    assert.equal((await onB.waitClose()).code, 4000)
    assert.equal((await other.request('ping')).message_type, 'pong')
  })

  it('answers 404 (4000) for a user with no connection', async () => {
    const res = await callApi(a.http, '/api/users/ghost/connections', { method: 'DELETE', token: TOKEN })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 4000)
  })

  it('needs the admin credentials', async () => {
    assert.equal((await callApi(a.http, '/api/users/mallory/connections', { method: 'DELETE' })).status, 401)
  })
})
