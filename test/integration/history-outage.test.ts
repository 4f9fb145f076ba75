/**
 * Room messages while the cluster state is out of reach, or lost the room, with history
 * on (PROTOCOL.md section 6: "local delivery goes on"): the local members get each
 * message without an offset (it is in no history), the sender gets its ack, the node
 * counts it, and once the state is back messages carry offsets again, above every
 * earlier one. Two nodes in this process, on a real Redis or NATS, or one memory state.
 * (A memory state lives in the nodes' own process: it cannot be out of reach.)
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { backendNames, useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { eventually, startCluster } from '../support/cluster.js'
import { startMemoryPair, type TestNode } from '../support/node.js'

const variants: Array<['redis' | 'nats', boolean]> = [['redis', false], ['nats', false], ['nats', true]]

for (const name of backendNames) {
  describe(`room messages with history in a room the ${name} state lost`, { skip: name === 'memory' ? false : skipUnless(name) }, () => {
    const backend = useBackend(name)

    // As after a Redis that came back empty, before the node has written itself back; or a
    // room deleted on another node while the bus could not tell this one.
    it('reach the members without offset and are acked, until the node writes the room back', async () => {
      const config = { rooms: { history_size: 10 }, cluster: { node_ttl_ms: 1500 } }
      const pair = name === 'memory' ? { nodes: await startMemoryPair(config) } : await startCluster(backend, 2, config)
      try {
        const [a, b] = pair.nodes as [TestNode, TestNode]
        const [a1, a2, b1] = [await a.connect(), await a.connect(), await b.connect()]
        for (const c of [a1, a2, b1]) await c.request('join_room', { room_id: 'r' })
        await a.app.state.deleteRoom('r')

        assert.equal((await a2.request('room_message', { room_id: 'r', content: 'lost' })).message_type, 'ack')
        for (const member of [a1, b1]) {
          const got = await member.next('room_message')
          assert.deepEqual([got.data.content, 'offset' in got.data], ['lost', false], JSON.stringify(got))
        }
        await eventually('an offset again once the node wrote the room back', 10_000, async () => {
          await a2.request('room_message', { room_id: 'r', content: 'back' })
          return typeof (await a1.next('room_message')).data.offset === 'number' ? true : undefined
        })
      } finally {
        await Promise.all(pair.nodes.map((n) => n.close()))
      }
    })
  })
}

for (const [name, jetstream] of variants) {
  const what = name === 'nats' ? `nats (${jetstream ? 'jetstream stream' : 'kv documents'})` : name
  describe(`room messages with history while ${what} is down`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => rejections.push(reason)
    before(() => process.on('unhandledRejection', onRejection))
    after(() => process.off('unhandledRejection', onRejection))

    it('reach the local members without offset and are acked, and carry rising offsets again once it is back', async () => {
      const nats = name === 'nats' ? { nats: { servers: [backend.service!.url], jetstream } } : {}
      const cluster = await startCluster(backend, 2, { rooms: { history_size: 10 }, cluster: nats })
      try {
        const [a, b] = cluster.nodes as [TestNode, TestNode]
        const [a1, a2, b1] = [await a.connect(), await a.connect(), await b.connect()]
        for (const c of [a1, a2, b1]) assert.equal((await c.request('join_room', { room_id: 'r' })).message_type, 'room_joined')
        await a2.request('room_message', { room_id: 'r', content: 'before' })
        const before = (await a1.next('room_message')).data.offset as number
        assert.equal(typeof before, 'number')
        await b1.next('room_message')

        await backend.service!.stop()
        await eventually('bus status down', 5000, () => (a.app.bus.status === 'down' ? true : undefined), 50)
        const unrecorded = a.app.link.unrecorded
        for (const content of ['during-1', 'during-2']) {
          assert.equal((await a2.request('room_message', { room_id: 'r', content })).message_type, 'ack', content)
          const got = await a1.next('room_message')
          assert.equal(got.data.content, content)
          assert.equal(got.data.sender_id, a2.id)
          assert.equal('offset' in got.data, false, `a message kept in no history carries no offset: ${JSON.stringify(got)}`)
        }
        assert.equal(a.app.link.unrecorded, unrecorded + 2, 'each message the history could not keep is counted')
        assert.deepEqual((await b1.quiet(300)).filter((f) => f.message_type === 'room_message'), [], 'the bus is down too')

        await backend.service!.start()
        const after = await eventually('a message across nodes with an offset again', 15_000, async () => {
          const reply = await a2.request('room_message', { room_id: 'r', content: 'after' })
          if (reply.message_type !== 'ack') return undefined
          const got = (await b1.quiet(200)).find((f) => f.message_type === 'room_message' && f.data.content === 'after')
          return typeof got?.data.offset === 'number' ? (got.data.offset as number) : undefined
        })
        assert.ok(after > before, `offset ${after} after the outage above ${before} before it`)
        assert.deepEqual(rejections, [])
      } finally {
        await cluster.close()
      }
    })
  })
}
