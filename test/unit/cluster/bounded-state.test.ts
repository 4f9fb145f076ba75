import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BoundedState } from '../../../lib/cluster/bounded-state.js'
import { MemoryState } from '../../../lib/cluster/memory.js'
import { StateUnavailableError, type ClusterState } from '../../../lib/cluster/state.js'

const room = { id: 'r', name: 'r', max_clients: 0, presence_events: null, created_at: 1 }

/** A memory state whose named calls never settle, as a call waiting on a server that went silent. */
function stuck(...names: Array<keyof ClusterState>): ClusterState {
  const inner = new MemoryState()
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (names.includes(key as keyof ClusterState)) return () => new Promise(() => {})
      const value = Reflect.get(target, key, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

describe('BoundedState', () => {
  it('passes answers and refusals through', async () => {
    const state = new BoundedState(new MemoryState(), 1000)
    await state.connect()
    assert.equal(await state.createRoom(room), true)
    assert.equal(await state.createRoom(room), false)
    assert.deepEqual(await state.join('r', { client_id: 'n.a', user_id: null, node_id: 'n' }, null), { status: 'joined', members: 1, created: false, room })
    await assert.rejects(state.appendHistory('missing', 10, (o) => `m${o}`), (err: Error) => err.name === 'MissingRoomError')
  })

  it('fails a call without an answer within the bound with StateUnavailableError, naming the call and the key', async () => {
    const state = new BoundedState(stuck('members', 'heartbeat', 'listClients', 'appendHistory'), 50)
    for (const call of [state.members('r'), state.heartbeat({ node_id: 'n', started_at: 1, seen_at: 1, clients: 0 }, 1000), state.listClients(10, null), state.appendHistory('r', 10, (o) => `m${o}`)]) {
      await assert.rejects(call, (err: Error) => err instanceof StateUnavailableError && /within 50 ms \(cluster\.state_timeout_ms\)/.test(err.message))
    }
    // The other calls are untouched.
    assert.equal(await state.createRoom(room), true)
  })

  it('turns a call that throws before it returns a promise into a rejection', async () => {
    const inner = new MemoryState()
    inner.getRoom = () => {
      throw new Error('thrown synchronously')
    }
    await assert.rejects(new BoundedState(inner, 1000).getRoom('r'), /thrown synchronously/)
  })

  it('fails the calls in flight when the state says its connection dropped, and leaves later calls alone', async () => {
    let dropped = () => {}
    const inner = Object.assign(stuck('members', 'getRoom'), { onConnectionLost: (listener: () => void) => void (dropped = listener) })
    // A bound far longer than the test: only the drop can end these calls.
    const state = new BoundedState(inner, 600_000)
    const calls = [state.members('r'), state.getRoom('r')]
    dropped()
    const messages = await Promise.all(calls.map((call) => call.then(() => 'answered', (err: Error) => (err instanceof StateUnavailableError ? err.message : `other: ${err.message}`))))
    assert.deepEqual(messages, ["the cluster state's connection dropped during members", "the cluster state's connection dropped during getRoom"])
    assert.equal(await state.createRoom(room), true)
  })
})
