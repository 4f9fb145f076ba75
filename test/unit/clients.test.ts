import pino from 'pino'
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createApp, type Application } from '../../lib/application.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import { testLogger } from '../support/node.js'
import { Clients, clientRecordOf } from '../../lib/clients.js'
import { memberOf } from '../../lib/rooms.js'
import { fakeConnection } from '../support/parts.js'

/** An app (not listening) over a memory state holding clients of two nodes. */
async function appWithClients(n: number): Promise<{ app: Application; state: MemoryState }> {
  const state = new MemoryState()
  const app = createApp({}, { state, logger: testLogger() })
  for (let i = 0; i < n; i++) {
    const node = i % 2 === 0 ? 'node-a' : 'node-b'
    await state.addClient({ client_id: `${node}.c${String(i).padStart(4, '0')}`, user_id: i === 0 ? 'alice' : null, node_id: node, connected_at: 1 })
  }
  return { app, state }
}

describe('Clients.count', () => {
  it('counts the clients of every node', async () => {
    const { app } = await appWithClients(5)
    assert.equal(await app.clients.count(), 5)
  })
})

describe('Clients.list', () => {
  it('answers 100 clients by default, with their rooms, and a cursor to the rest', async () => {
    const { app, state } = await appWithClients(150)
    await state.join('lobby', { client_id: 'node-a.c0000', user_id: 'alice', node_id: 'node-a' }, { id: 'lobby', name: 'lobby', max_clients: 0, presence_events: null, created_at: 1 })
    const page = await app.clients.list()
    assert.equal(page.clients.length, 100)
    assert.deepEqual(page.clients[0], { client_id: 'node-a.c0000', user_id: 'alice', node_id: 'node-a', connected_at: 1, rooms: ['lobby'] })
    assert.notEqual(page.next, null)
    const rest = await app.clients.list({ cursor: page.next })
    assert.equal(rest.clients.length, 50)
    assert.equal(rest.next, null)
  })

  it('takes a limit above 1000 as 1000', async () => {
    const { app } = await appWithClients(1001)
    assert.equal((await app.clients.list({ limit: 5000 })).clients.length, 1000)
  })

  it('refuses a limit below 1', async () => {
    const { app } = await appWithClients(1)
    await assert.rejects(app.clients.list({ limit: 0 }), RangeError)
  })
})

describe('Clients.get', () => {
  it('answers a client of any node with its rooms, or null', async () => {
    const { app } = await appWithClients(2)
    assert.deepEqual(await app.clients.get('node-b.c0001'), { client_id: 'node-b.c0001', user_id: null, node_id: 'node-b', connected_at: 1, rooms: [] })
    assert.equal(await app.clients.get('node-b.nobody'), null)
  })
})

describe('Clients.kick', () => {
  it('fails with code 4000 for a client no node holds', async () => {
    const { app } = await appWithClients(0)
    await assert.rejects(app.clients.kick('node-b.nobody'), (err: { code?: number }) => err.code === 4000)
  })
})

describe('Clients without an Application', () => {
  it('counts and lists from the state it is given, writes a new identity through its link, and kicks through its host', async () => {
    const state = new MemoryState()
    const kicked: string[] = []
    const unused = async (): Promise<never> => {
      throw new Error('not used here')
    }
    const clients = new Clients({
      nodeId: 'n1',
      debug: false,
      log: pino({ level: 'silent' }),
      server: { connections: new Map() },
      state,
      link: { updateClient: async (conn) => void (await state.updateClient(clientRecordOf(conn))), publishClients: unused, publishKick: unused },
      kick: async (clientId, reason) => void kicked.push(`${clientId} ${reason}`),
    })
    const { conn } = fakeConnection('n1.a', 'n1')
    await state.addClient(clientRecordOf(conn))
    await state.join('lobby', memberOf(conn), { id: 'lobby', name: 'lobby', max_clients: 0, presence_events: null, created_at: 1 })
    assert.equal(await clients.count(), 1)
    await clients.setIdentity(conn, { userId: 'ann', username: 'Ann', permissions: [], claims: null, expiresAt: null })
    assert.equal(conn.userId, 'ann')
    assert.deepEqual(await clients.get('n1.a'), { ...clientRecordOf(conn), user_id: 'ann', rooms: ['lobby'] })
    assert.deepEqual(await state.members('lobby'), [{ client_id: 'n1.a', user_id: 'ann', node_id: 'n1' }])
    await clients.kick('n1.a', 'banned')
    assert.deepEqual(kicked, ['n1.a banned'])
  })
})
