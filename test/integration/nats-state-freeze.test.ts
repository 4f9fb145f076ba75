/**
 * A freeze of nats-server (SIGSTOP, then SIGCONT, by PID) of a few hundred ms must not
 * leave a cluster state call hanging: a key listing under way while keys are added and
 * removed answered after 30 s (kv.keys() waited for an idle heartbeat), or without keys
 * the bucket held. And a node answers its client within `cluster.state_timeout_ms`
 * whatever the state does: its answer, or error 1003.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { StateUnavailableError, type ClusterState, type ClientRecord } from '../../lib/cluster/state.js'
import { BoundedState } from '../../lib/cluster/bounded-state.js'
import { testPrefix, useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { startCluster } from '../support/cluster.js'
import type { Frame, TestClient } from '../support/ws-client.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const record = (id: string): ClientRecord => ({ client_id: `n1.${id}`, user_id: null, node_id: 'n1', connected_at: 1 })

let ids = 0
/** A request whose reply may take up to `timeoutMs` (TestClient.request waits 3 s). */
function slowRequest(client: TestClient, type: string, data: unknown, timeoutMs: number): Promise<Frame> {
  const id = `slow-${++ids}`
  client.send({ message_type: type, data, message_id: id })
  return client.next((f) => f.request_id === id, timeoutMs)
}

/** Rejects when `call` has not settled within `ms`: a hang, not a slow answer (the bug took 30 s). */
function withinOrHang<T>(what: string, ms: number, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms: a hang`)), ms)))
  return Promise.race([call, hang]).finally(() => clearTimeout(timer))
}

describe('the NATS cluster state across a freeze of nats-server', { skip: skipUnless('nats') }, () => {
  const backend = useBackend('nats')
  const open: ClusterState[] = []
  after(async () => {
    backend.service?.resume()
    await Promise.all(open.map((s) => s.close()))
  })

  it('lists every key it holds, and answers, while a key is added and removed across a 300 ms freeze', { timeout: 240_000 }, async () => {
    const state = backend.state(testPrefix())
    open.push(state)
    await state.connect()
    await state.addClient(record('kept'))
    for (let round = 0; round < 4; round++) {
      const churn = (async () => {
        await state.addClient(record(`c${round}`))
        await state.removeClient(`n1.c${round}`)
      })()
      const listings = [state.clientsOfNode('n1'), state.countClients(), state.listClients(100, null)] as const
      backend.service!.pause()
      await sleep(300)
      backend.service!.resume()
      await churn
      const [ids, count, page] = await withinOrHang(`round ${round}: the listings`, 15_000, Promise.all(listings))
      // c<round> may or may not be listed (it came and went meanwhile); the kept one must be.
      assert.ok(ids.includes('n1.kept'), `round ${round}: clientsOfNode ${JSON.stringify(ids)}`)
      assert.ok(count >= 1, `round ${round}: countClients ${count}`)
      assert.ok(page.clients.some((c) => c.client_id === 'n1.kept'), `round ${round}: listClients ${JSON.stringify(page)}`)
      assert.deepEqual(await withinOrHang(`round ${round}: the listing after`, 15_000, state.clientsOfNode('n1')), ['n1.kept'])
    }
  })

  it('answers a client (its answer or 1003) while nats-server is still frozen, within cluster.state_timeout_ms', { timeout: 60_000 }, async () => {
    const cluster = await startCluster(backend, 1, { cluster: { state_timeout_ms: 300 } })
    try {
      const [node] = cluster.nodes
      const client = await node!.connect()
      await client.request('join_room', { room_id: 'lobby' })
      backend.service!.pause()
      const answers: Frame[] = []
      let frozen = true
      try {
        // Each is answered while the server stays frozen; the freeze ends once all are in,
        // or after 4 s, when an unbounded call (a JetStream request waits 5 s) is still waiting.
        const requests = [slowRequest(client, 'room_members', { room_id: 'lobby' }, 20_000), slowRequest(client, 'join_room', { room_id: 'other' }, 20_000)].map((p) =>
          p.then((frame) => {
            if (frozen) answers.push(frame)
            return frame
          }),
        )
        await Promise.race([Promise.all(requests), sleep(4000)])
        frozen = false
        backend.service!.resume()
        await Promise.all(requests)
      } finally {
        frozen = false
        backend.service!.resume()
      }
      assert.equal(answers.length, 2, `answered while frozen: ${JSON.stringify(answers)}`)
      for (const frame of answers) {
        // Members of a room the node holds are answered from the state, so 1003 here; either is an answer.
        assert.ok(frame.message_type !== 'error' || frame.data.code === 1003, JSON.stringify(frame))
      }
      // Back to normal once the server runs again.
      const members = await slowRequest(client, 'room_members', { room_id: 'lobby' }, 20_000)
      assert.equal(members.message_type, 'room_members', JSON.stringify(members))
    } finally {
      await cluster.close()
    }
  })

  it('fails a call in flight when nats-server dies under it, rather than at the bound', { timeout: 120_000 }, async () => {
    // A bound longer than JetStream's own 5 s request timeout: only the drop can end the call with this message.
    const state = new BoundedState(backend.state(testPrefix()), 60_000)
    open.push(state)
    await state.connect()
    await state.createRoom({ id: 'r', name: 'r', max_clients: 0, presence_events: null, created_at: 1 })
    backend.service!.pause()
    const call = state.members('r').then(
      () => 'answered',
      (err: Error) => (err instanceof StateUnavailableError ? err.message : `${err.name}: ${err.message}`),
    )
    try {
      // The request is on its way to a frozen server; killing it closes the connection under the call.
      await sleep(200)
      await backend.service!.stop('SIGKILL')
      assert.equal(await call, "the cluster state's connection dropped during members")
    } finally {
      await backend.service!.start()
    }
  })
})
