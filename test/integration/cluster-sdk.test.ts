/**
 * The server SDK across nodes (broadcast, sendTo, kick, room deletion), at-most-once
 * delivery whatever the bus redelivers, and a bus outage as the app sees it: two apps
 * in this process, each with its own connections to a real Redis or NATS.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { eventually, startCluster } from '../support/cluster.js'
import type { TestNode } from '../support/node.js'
import { encodeEnvelope, subjects } from '../../lib/bus/bus.js'
import { encodeDelivery } from '../../lib/protocol.js'

for (const name of ['redis', 'nats'] as const) {
  describe(`the server SDK across two nodes on ${name}`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    let cluster: Awaited<ReturnType<typeof startCluster>>
    let a: TestNode
    let b: TestNode
    before(async () => {
      cluster = await startCluster(backend, 2)
      ;[a, b] = cluster.nodes as [TestNode, TestNode]
    })
    after(async () => {
      await cluster?.close()
    })

    describe('connection', () => {
      it('sends the welcome first, once every node can find the client', async () => {
        b.app.once('connection', (conn) => conn.send('{"message_type":"hello","data":null}'))
        const socket = new WebSocket(b.url)
        const frames: Array<{ message_type: string; data: any }> = []
        let registered: Promise<unknown> = Promise.resolve('not checked')
        await new Promise<void>((resolve, reject) => {
          socket.on('error', reject)
          socket.on('message', (raw) => {
            const frame = JSON.parse(raw.toString())
            frames.push(frame)
            // Asked the moment the welcome arrives, from the other node.
            if (frame.message_type === 'welcome') registered = a.app.state.getClient(frame.data.client_id)
            if (frames.length === 2) resolve()
          })
        })
        socket.terminate()
        assert.deepEqual(frames.map((f) => f.message_type), ['welcome', 'hello'])
        assert.equal(((await registered) as { client_id?: string } | null)?.client_id, frames[0]!.data.client_id)
      })
    })

    describe('broadcast', () => {
      it('reaches every client of every node once', async () => {
        const [onA, onB] = [await a.connect(), await b.connect()]
        await a.app.broadcast('broadcast', { message: 'hello all' })
        for (const c of [onA, onB]) assert.deepEqual((await c.next('broadcast')).data, { message: 'hello all' })
        assert.deepEqual((await onB.quiet(200)).filter((f) => f.message_type === 'broadcast'), [])
      })
    })

    describe('sendTo', () => {
      it('reaches a client on the other node', async () => {
        const onB = await b.connect()
        await a.app.sendTo(onB.id, 'notice', { n: 1 })
        assert.deepEqual((await onB.next('notice')).data, { n: 1 })
      })
    })

    describe('kick', () => {
      it('closes a client on the other node with 4000', async () => {
        const onB = await b.connect()
        await a.app.kick(onB.id)
        assert.equal((await onB.waitClose()).code, 4000)
      })

      it('fails with 4000 for a client no node has', async () => {
        await assert.rejects(a.app.kick(`${b.app.nodeId}.nobody`), (err: { code?: number }) => err.code === 4000)
      })
    })

    describe('rooms.delete', () => {
      it('sends room_left with reason deleted to members on the other node', async () => {
        const onB = await b.connect()
        await onB.request('join_room', { room_id: 'doomed-room' })
        await a.app.rooms.delete('doomed-room')
        assert.deepEqual((await onB.next('room_left')).data, { room_id: 'doomed-room', status: 'left', reason: 'deleted' })
        assert.equal(await a.app.rooms.members('doomed-room'), null)
      })
    })

    describe('bus envelopes', () => {
      it('are delivered at most once, however often the bus carries them', async () => {
        const onB = await b.connect()
        const raw = backend.bus()
        await raw.connect()
        try {
          const payload = encodeEnvelope({ kind: 'direct', to: onB.id, frame: encodeDelivery('direct_message', { content: 'once' }, 1), id: 'fixed-id-1', origin: 'elsewhere', traceparent: null })
          for (let i = 0; i < 3; i++) await raw.publish(subjects(cluster.prefix).node(b.app.nodeId), payload)
          assert.equal((await onB.next('direct_message')).data.content, 'once')
          assert.deepEqual((await onB.quiet(300)).filter((f) => f.message_type === 'direct_message'), [])
        } finally {
          await raw.close()
        }
      })
    })
  })

  describe(`close on ${name}`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)

    it('takes the node out of the cluster\'s node list at once, with its clients', async () => {
      const cluster = await startCluster(backend, 2)
      try {
        const [a, b] = cluster.nodes as [TestNode, TestNode]
        const onB = await b.connect()
        await onB.request('join_room', { room_id: 'r' })
        assert.deepEqual((await a.app.state.nodes()).map((n) => n.node_id).sort(), [a.app.nodeId, b.app.nodeId].sort())
        await b.close()
        assert.deepEqual((await a.app.state.nodes()).map((n) => n.node_id), [a.app.nodeId])
        assert.equal(await a.app.state.getClient(onB.id), null)
        assert.deepEqual(await a.app.rooms.members('r'), [])
      } finally {
        await cluster.close()
      }
    })
  })

  describe(`a node whose ${name} goes away`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => rejections.push(reason)
    before(() => process.on('unhandledRejection', onRejection))
    after(() => process.off('unhandledRejection', onRejection))

    it('reports the bus down within 5 s, keeps local delivery, counts what could not cross, and is up again by itself', async () => {
      const cluster = await startCluster(backend, 2)
      try {
        const [a, b] = cluster.nodes as [TestNode, TestNode]
        const [a1, a2, b1, b2] = [await a.connect(), await a.connect(), await b.connect(), await b.connect()]
        for (const c of [a1, a2, b1, b2]) await c.request('join_room', { room_id: 'r' })
        await b2.request('join_room', { room_id: 'only-b2' })
        assert.equal(b.app.rooms.localCount, 2)
        assert.equal(a.app.bus.status, 'up')

        await backend.service!.stop()
        await eventually('bus status down', 5000, () => (a.app.bus.status === 'down' && b.app.bus.status === 'down' ? true : undefined), 50)
        // Leaves while the state cannot hear it: the node must still drop it from the state later.
        b2.socket.terminate()
        const before = a.app.link.undelivered
        assert.equal((await a2.request('room_message', { room_id: 'r', content: 'local' })).message_type, 'ack')
        assert.equal((await a1.next('room_message')).data.content, 'local')
        assert.ok(a.app.link.undelivered > before, 'the room message that could not cross is counted')

        await backend.service!.start()
        await eventually('bus status up', 10_000, () => (a.app.bus.status === 'up' && b.app.bus.status === 'up' ? true : undefined), 50)
        await eventually('cross-node delivery', 10_000, async () => {
          await b1.request('room_message', { room_id: 'r', content: 'across' })
          return (await a1.quiet(100)).some((f) => f.message_type === 'room_message' && f.data.content === 'across') ? true : undefined
        })
        await eventually('the members the cluster state lists', 10_000, async () => {
          const ids = ((await a.app.rooms.members('r')) ?? []).map((m) => m.client_id).sort()
          return ids.join() === [a1.id, a2.id, b1.id].sort().join() ? true : undefined
        })
        assert.equal(await a.app.state.getClient(b2.id), null)
        assert.equal(b.app.rooms.localCount, 1, 'the room only b2 was in is dropped on its node')
        assert.deepEqual(rejections, [])
      } finally {
        await cluster.close()
      }
    })
  })
}
