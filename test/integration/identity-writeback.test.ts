/**
 * An `auth` message that lands while its node is writing itself back into the cluster
 * state (after the state came back from an outage) must win: the write-back carries the
 * user id it read when it started, and used to land after the auth's own write, leaving
 * the old user id in the state for good. Two nodes in this process on a real Redis or
 * NATS; the node writing back has its state behind a proxy that holds that client's
 * write-back until the auth's write is done (or 2 s have passed: the node may also wait
 * for the write-back before it writes the new identity).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { useBackend } from '../support/backends.js'
import { skipUnless, testPrefix } from '../support/services.js'
import { eventually } from '../support/cluster.js'
import { startNode, type TestNode } from '../support/node.js'
import { hs256, SECRET } from '../support/tokens.js'
import type { ClientRecord, ClusterState } from '../../lib/cluster/state.js'
import type { ConfigInput } from '../../lib/config.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const token = (sub: string) => hs256({ sub, permissions: ['join:room', 'send:message', 'create:room'] })

/** A state whose first `addClient` of `clientId` after `arm()` waits until `release()`; it counts that client's `updateClient` calls that completed. */
function gated(inner: ClusterState) {
  let armedFor: string | null = null
  let onHeld: () => void = () => {}
  const held = new Promise<void>((resolve) => (onHeld = resolve))
  let onRelease: () => void = () => {}
  const released = new Promise<void>((resolve) => (onRelease = resolve))
  const updates: string[] = []
  const state = new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key, target)
      if (typeof value !== 'function') return value
      if (key === 'addClient') {
        return async (record: ClientRecord) => {
          if (armedFor !== null && record.client_id === armedFor) {
            armedFor = null
            onHeld()
            await released
          }
          return value.call(target, record)
        }
      }
      if (key === 'updateClient') {
        return async (record: ClientRecord) => {
          const answer = await value.call(target, record)
          updates.push(record.user_id ?? '')
          return answer
        }
      }
      return value.bind(target)
    },
  })
  return {
    state,
    held,
    updates,
    arm: (clientId: string) => void (armedFor = clientId),
    release: () => onRelease(),
  }
}

for (const name of ['redis', 'nats'] as const) {
  describe(`an auth message while its node writes itself back into ${name}`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)

    it('leaves the new user id in the cluster state, not the one the write-back read', { timeout: 60_000 }, async () => {
      const prefix = testPrefix()
      const config = (node: string): ConfigInput => ({ auth: { secret: SECRET }, cluster: { ...backend.cluster(prefix), node_id: `${prefix}${node}`, node_ttl_ms: 1500 } })
      const gate = gated(backend.state(prefix))
      const nodes: TestNode[] = []
      try {
        nodes.push(await startNode(config('a'), { state: gate.state, bus: backend.bus() }))
        nodes.push(await startNode(config('b')))
        const [a, b] = nodes as [TestNode, TestNode]
        const [client, watcher] = [await a.connect(`?token=${token('before')}`), await b.connect()]
        for (const c of [client, watcher]) {
          const joined = await c.request('join_room', { room_id: 'lobby' })
          assert.equal(joined.message_type, 'room_joined', JSON.stringify(joined))
        }

        // An outage: node a's heartbeat fails, so it writes itself back once the state answers.
        await backend.service!.stop()
        await eventually('node a sees the bus down', 10_000, () => (a.app.bus.status === 'down' ? true : undefined), 50)
        await sleep(600)
        gate.arm(client.id)
        await backend.service!.start()
        await gate.held

        // The write-back holds the client's old record; the auth comes now.
        client.send({ message_type: 'auth', data: { token: token('after') }, message_id: 'auth-1' })
        await eventually('the auth written, or 2 s', 10_000, async () => (gate.updates.includes('after') ? true : undefined), 20).catch(() => {})
        gate.release()
        const ok = await client.next((f) => f.request_id === 'auth-1', 15_000)
        assert.deepEqual([ok.message_type, ok.data.user_id], ['auth_ok', 'after'])

        const seen = async () => {
          const members = (await watcher.request('room_members', { room_id: 'lobby' })).data.members as Array<{ client_id: string; user_id: string | null }>
          return { member: members.find((m) => m.client_id === client.id)?.user_id, record: (await b.app.clients.get(client.id))?.user_id }
        }
        let last: unknown
        await eventually('the new user id on the other node', 15_000, async () => {
          last = await seen()
          const { member, record } = last as { member: unknown; record: unknown }
          return member === 'after' && record === 'after' ? true : undefined
        }).catch((err) => assert.fail(`${(err as Error).message}: node b shows ${JSON.stringify(last)}`))
        // And it stays so: no write of the old one lands later.
        await sleep(1500)
        assert.deepEqual(await seen(), { member: 'after', record: 'after' })
      } finally {
        gate.release()
        await Promise.all(nodes.map((n) => n.close()))
      }
    })
  })
}
