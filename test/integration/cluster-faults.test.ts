/**
 * PROTOCOL.md section 6 under faults, with real node processes on a real Redis or NATS:
 * a node killed with SIGKILL, and the bus server stopped and restarted during traffic.
 */
import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { clusterEnv, eventually, spawnCluster, type ProcessCluster } from '../support/cluster.js'
import type { TestClient } from '../support/ws-client.js'
import { spawnNode, type NodeProcess } from '../support/process.js'

const TTL_MS = 1500

async function joinAll(clients: TestClient[], room: string) {
  for (const c of clients) assert.equal((await c.request('join_room', { room_id: room })).message_type, 'room_joined')
}

const memberIds = async (asker: TestClient, room: string) =>
  ((await asker.request('room_members', { room_id: room })).data.members as Array<{ client_id: string }>).map((m) => m.client_id).sort()

/** Sends room messages from `from` until `to` gets one: cross-node delivery works again. */
async function deliveryResumes(from: TestClient, to: TestClient, room: string, timeoutMs: number): Promise<void> {
  let n = 0
  const tag = `probe-${Date.now()}`
  const got = to.next((f) => f.message_type === 'room_message' && String(f.data.content).startsWith(tag), timeoutMs)
  const timer = setInterval(() => from.send({ message_type: 'room_message', data: { room_id: room, content: `${tag}-${n++}` } }), 200)
  try {
    await got
  } finally {
    clearInterval(timer)
  }
}

const isAlive = (node: NodeProcess) => node.child.exitCode === null && node.child.signalCode === null
const logged = (node: NodeProcess, msg: string) => (line: Record<string, unknown>) => typeof line.msg === 'string' && line.msg.startsWith(msg) && line.node_id !== undefined && node.lines.includes(line)

for (const name of ['redis', 'nats'] as const) {
  describe(`a cluster on ${name} under faults`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    let cluster: ProcessCluster | null = null
    afterEach(async () => {
      await cluster?.close()
      cluster = null
      await backend.service?.start()
    })

    it('removes the members of a node killed with SIGKILL from the other nodes\' views within the TTL plus 2 s', async () => {
      cluster = await spawnCluster(backend, 2, { WSHUB_CLUSTER_NODE_TTL_MS: String(TTL_MS), WSHUB_ROOMS_PRESENCE_EVENTS: 'true' })
      const [a, b] = [await cluster.connect(0), await cluster.connect(1)]
      await joinAll([a, b], 'doomed')
      assert.deepEqual(await memberIds(a, 'doomed'), [a.id, b.id].sort())
      const left = a.next((f) => f.message_type === 'member_left' && f.data.client_id === b.id, TTL_MS + 2000)
      cluster.nodes[1]!.child.kill('SIGKILL')
      const frame = await left
      assert.deepEqual(frame.data, { room_id: 'doomed', client_id: b.id, user_id: null })
      assert.deepEqual(await memberIds(a, 'doomed'), [a.id])
    })

    it('drops the members of a node\'s previous life when it restarts under the same node_id, before the TTL', async () => {
      cluster = await spawnCluster(backend, 2, { WSHUB_CLUSTER_NODE_TTL_MS: '60000' })
      const [a, b] = [await cluster.connect(0), await cluster.connect(1)]
      await joinAll([a, b], 'reborn')
      const old = cluster.nodes[1]!
      old.child.kill('SIGKILL')
      await old.exited
      cluster.nodes[1] = await spawnNode(clusterEnv(backend, cluster.prefix, `${cluster.prefix}n2`, { WSHUB_CLUSTER_NODE_TTL_MS: '60000' }))
      assert.deepEqual(await memberIds(a, 'reborn'), [a.id])
    })

    it(`keeps serving local clients while ${name} is down and resumes cross-node delivery by itself when it comes back empty`, async () => {
      // With history on: while the state is away the room's history cannot keep a message, which must not stop it.
      cluster = await spawnCluster(backend, 2, { WSHUB_ROOMS_HISTORY_SIZE: '10', WSHUB_CLUSTER_NATS_JETSTREAM: 'true' })
      const [a1, a2, b1] = [await cluster.connect(0), await cluster.connect(0), await cluster.connect(1)]
      await joinAll([a1, a2, b1], 'outage')
      await b1.request('room_message', { room_id: 'outage', content: 'before' })
      assert.equal((await a1.next('room_message')).data.content, 'before')

      await backend.service!.stop()
      await Promise.all(cluster.nodes.map((node) => node.waitForLog(logged(node, 'bus down'), 5000)))

      // Local delivery goes on, and the sender still gets its ack; the message is in no history, so it has no offset.
      // The ack may wait for the history's append to fail: up to cluster.state_timeout_ms (5 s) where the
      // state's own connection has not yet noticed what the bus's did.
      for (const content of ['local', 'local-again']) {
        assert.equal((await a2.request('room_message', { room_id: 'outage', content }, undefined, 10_000)).message_type, 'ack')
        const local = await a1.next((f) => f.message_type === 'room_message' && f.data.content === content)
        assert.equal(local.data.sender_id, a2.id)
        assert.equal('offset' in local.data, false, JSON.stringify(local))
      }

      // Redis runs without persistence; NATS loses its JetStream data here.
      backend.service!.wipe()
      await backend.service!.start()
      await Promise.all(cluster.nodes.map((node) => node.waitForLog(logged(node, 'bus up'), 10_000)))
      // The nodes write their clients and members back (Redis even comes back empty); nobody rejoins.
      const [rewritten] = await Promise.all(cluster.nodes.map((node) => node.waitForLog(logged(node, 'wrote this node back'), 10_000)))
      assert.deepEqual([rewritten!.state_lost, rewritten!.restored], [true, 2])
      await deliveryResumes(b1, a1, 'outage', 10_000)
      await deliveryResumes(a1, b1, 'outage', 10_000)
      await eventually('every member is back in the cluster state', 10_000, async () =>
        (await memberIds(b1, 'outage')).join() === [a1.id, a2.id, b1.id].sort().join() ? true : undefined,
      )
      const logsOf = (msg: string) => cluster!.nodes[0]!.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(msg))
      assert.equal(logsOf('bus unavailable').length, 1, 'what could not cross the bus is logged once per outage')
      assert.deepEqual(logsOf('room history unavailable').map((l) => l.level), [40], 'what the history could not keep is logged once per outage, at warn')
      assert.equal(logsOf('bus up').at(-1)?.unrecorded, 2, 'and counted')
      for (const node of cluster.nodes) {
        assert.ok(isAlive(node), `node exited: ${node.stderr}`)
        assert.doesNotMatch(node.stderr, /unhandled|ERR_UNHANDLED/i)
      }
    })
  })
}
