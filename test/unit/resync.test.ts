import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { resyncNode, type LocalClient } from '../../lib/cluster/resync.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import type { RoomRecord } from '../../lib/cluster/state.js'

const room = (id: string, max_clients = 0): RoomRecord => ({ id, name: id, max_clients, presence_events: true, created_at: 1 })
const local = (client_id: string, rooms: RoomRecord[], user_id: string | null = null, updated = false): LocalClient => ({
  id: client_id,
  record: () => ({ client_id, user_id, node_id: client_id.split('.')[0]!, connected_at: 1 }),
  rooms,
  open: () => true,
  isIn: (id) => rooms.some((r) => r.id === id),
  updated,
  serially: (write) => write(),
})

describe('resyncNode', () => {
  it('writes back the clients, rooms and memberships of a state that lost them', async () => {
    const state = new MemoryState()
    const report = await resyncNode(state, 'n1', () => [local('n1.a', [room('r', 5)]), local('n1.b', [])])
    assert.deepEqual(report, { removed: 0, restored: 1, refused: 0 })
    assert.deepEqual(await state.getRoom('r'), room('r', 5))
    assert.deepEqual(await state.members('r'), [{ client_id: 'n1.a', user_id: null, node_id: 'n1' }])
    assert.equal(await state.countClients(), 2)
  })

  it('removes the clients the node no longer has, and rooms a client left meanwhile', async () => {
    const state = new MemoryState()
    await state.addClient({ client_id: 'n1.gone', user_id: null, node_id: 'n1', connected_at: 1 })
    await state.join('r', { client_id: 'n1.gone', user_id: null, node_id: 'n1' }, room('r'))
    await state.join('old', { client_id: 'n1.a', user_id: null, node_id: 'n1' }, room('old'))
    const report = await resyncNode(state, 'n1', () => [local('n1.a', [])])
    assert.equal(report.removed, 1)
    assert.equal(await state.getClient('n1.gone'), null)
    assert.deepEqual(await state.members('r'), [])
    assert.deepEqual(await state.members('old'), [])
  })

  it('leaves the other nodes alone', async () => {
    const state = new MemoryState()
    await state.join('r', { client_id: 'n2.x', user_id: null, node_id: 'n2' }, room('r'))
    await resyncNode(state, 'n1', () => [])
    assert.deepEqual(await state.members('r'), [{ client_id: 'n2.x', user_id: null, node_id: 'n2' }])
  })

  it('writes the new user id of a client whose identity changed meanwhile into the member records the state kept', async () => {
    const state = new MemoryState()
    await state.addClient({ client_id: 'n1.a', user_id: null, node_id: 'n1', connected_at: 1 })
    for (const id of ['kept', 'other']) await state.join(id, { client_id: 'n1.a', user_id: null, node_id: 'n1' }, room(id))
    await resyncNode(state, 'n1', () => [local('n1.a', [room('kept'), room('other'), room('lost')], 'late', true)])
    for (const id of ['kept', 'other', 'lost']) assert.deepEqual(await state.members(id), [{ client_id: 'n1.a', user_id: 'late', node_id: 'n1' }], id)
    assert.equal((await state.getClient('n1.a'))?.user_id, 'late')
  })

  it('does not write back a client that disconnected before its turn', async () => {
    const state = new MemoryState()
    const report = await resyncNode(state, 'n1', () => [{ ...local('n1.gone', [room('r')]), open: () => false }, local('n1.a', [])])
    assert.equal(report.restored, 0)
    assert.equal(await state.getClient('n1.gone'), null)
    assert.equal(await state.getRoom('r'), null)
    assert.equal(await state.countClients(), 1)
  })

  it('counts a membership refused because the room filled up meanwhile', async () => {
    const state = new MemoryState()
    await state.join('r', { client_id: 'n2.x', user_id: null, node_id: 'n2' }, room('r', 1))
    const report = await resyncNode(state, 'n1', () => [local('n1.a', [room('r', 1)])])
    assert.equal(report.refused, 1)
  })
})
