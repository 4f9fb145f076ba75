/** ClusterLink made without an Application: nodes put together by hand from lib/'s parts over a MemoryHub and a MemoryState. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryBus, MemoryHub } from '../../lib/bus/memory.js'
import { encodeEnvelope, newEnvelopeId, subjects } from '../../lib/bus/bus.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import { resolveConfig } from '../../lib/config.js'
import { encodeDelivery } from '../../lib/protocol.js'
import { PartsNode } from '../support/parts.js'

async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200 && !(await done()); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.ok(await done(), what)
}

describe('ClusterLink without an Application', () => {
  it('registers the node in the state with its client count at start, and leaves it at stop', async () => {
    const state = new MemoryState()
    const node = new PartsNode('n1', new MemoryHub(), state)
    const statuses: string[] = []
    node.on('bus_status', (status) => statuses.push(status))
    await node.connect('a')
    await node.link.start()
    assert.equal(node.link.status, 'up')
    assert.deepEqual((await state.nodes()).map((n) => [n.node_id, n.clients]), [['n1', 1]])
    await node.link.stop()
    assert.deepEqual(await state.nodes(), [])
    // It stops listening before it closes the bus: a node going away reports no outage.
    assert.deepEqual(statuses, ['up'])
    assert.equal(node.bus.status, 'down')
  })

  it('delivers an envelope from another node once, drops its own and malformed ones, and counts what the bus refused', async () => {
    const hub = new MemoryHub()
    const node = new PartsNode('n1', hub, new MemoryState())
    const { conn, socket } = await node.connect('a')
    await node.link.start()
    const received: string[] = []
    node.on('bus_received', (envelope) => received.push(envelope.origin))
    const other = new MemoryBus(hub)
    await other.connect()
    const inbox = subjects(node.config.cluster.prefix).node('n1')
    const direct = (origin: string, id = newEnvelopeId()) =>
      encodeEnvelope({ kind: 'direct', to: conn.id, frame: encodeDelivery('dm', { from: origin }, 1), id, origin, traceparent: null })
    const twice = direct('n2')
    await other.publish(inbox, twice)
    await other.publish(inbox, twice)
    await other.publish(inbox, direct('n1'))
    await other.publish(inbox, Buffer.from('not an envelope'))
    await other.publish(inbox, direct('n3'))
    await until(() => received.length === 2, 'two envelopes received')
    assert.deepEqual(received, ['n2', 'n3'])
    assert.deepEqual(socket.sent.map((f) => f.data.from), ['n2', 'n3'])

    await other.close()
    await node.bus.close()
    const errors: unknown[] = []
    node.on('bus_error', (err) => errors.push(err))
    await node.link.publishBroadcast(encodeDelivery('x', null, 1), [])
    assert.equal(node.link.undelivered, 1)
    assert.equal(errors.length, 1)
    await node.link.stop()
  })

  it('removes the members of a node that stopped beating and tells its rooms where presence is on', async () => {
    const hub = new MemoryHub()
    const state = new MemoryState()
    const config = resolveConfig({ cluster: { node_ttl_ms: 150 }, rooms: { presence_events: true } })
    const live = new PartsNode('live', hub, state, config)
    const { conn: watcher, socket } = await live.connect('w')
    await live.link.start()
    await live.rooms.join(watcher, 'lobby', null)
    // A node that beat once and died: its client and membership stay in the state until swept.
    const ghost = { client_id: 'dying.g', user_id: null, node_id: 'dying' }
    await state.heartbeat({ node_id: 'dying', started_at: Date.now(), seen_at: Date.now(), clients: 1 }, 150)
    await state.addClient({ ...ghost, connected_at: Date.now() })
    await state.join('lobby', ghost, null)
    assert.equal((await state.members('lobby'))?.length, 2)
    await until(async () => (await state.members('lobby'))?.length === 1, 'the dead node’s member is swept')
    await until(() => socket.sent.some((f) => f.message_type === 'member_left'), 'the live member is told')
    assert.deepEqual(socket.sent.find((f) => f.message_type === 'member_left')?.data, { room_id: 'lobby', client_id: 'dying.g', user_id: null })
    await live.link.stop()
  })

  it('removes a client that disconnects while the resync writes it back after that write, so it is not added back', async () => {
    /** A state whose addClient waits, while `gate` is set, until the test opens it. */
    class GatedState extends MemoryState {
      gate: Promise<void> | null = null
      held = 0
      override async addClient(client: Parameters<MemoryState['addClient']>[0]): Promise<void> {
        if (this.gate !== null) {
          this.held++
          await this.gate
        }
        return super.addClient(client)
      }
    }
    const state = new GatedState()
    const node = new PartsNode('n1', new MemoryHub(), state)
    const { conn } = await node.connect('a')
    let open!: () => void
    state.gate = new Promise((resolve) => (open = resolve))
    // The first beat writes the node back: its write of the client waits at the gate.
    const starting = node.link.start()
    await until(() => state.held === 1, 'the resync is writing the client')
    // The client goes, as WsServer.remove has it go.
    conn.closeInfo = { code: 1000, reason: 'bye' }
    node.connections.delete(conn.id)
    const removing = node.link.removeClient(conn.id)
    state.gate = null
    open()
    await Promise.all([starting, removing])
    assert.equal(await state.getClient(conn.id), null)
    assert.equal(await state.countClients(), 0)
    await node.link.stop()
  })
})
