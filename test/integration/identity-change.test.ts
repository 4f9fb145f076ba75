/**
 * An `auth` message replaces the connection's identity (PROTOCOL.md section 3): the user
 * id every node shows for it changes too, in `room_members`, `GET /api/clients` and the
 * server SDK, on every backend (two nodes in this process, on a real Redis or NATS).
 * While the cluster state cannot be reached the `auth` still succeeds on its node, and
 * the node writes the new user id once the state answers again.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { backendNames, useBackend, type Backend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { eventually, startCluster } from '../support/cluster.js'
import { startMemoryPair, type TestNode } from '../support/node.js'
import { callApi } from '../support/http.js'
import { hs256, SECRET } from '../support/tokens.js'
import type { ConfigInput } from '../../lib/config.js'
import type { TestClient } from '../support/ws-client.js'
import { openRedis } from '../../lib/bus/redis-client.js'

const ADMIN = 'admin-token-for-identity-tests'
const config: ConfigInput = {
  auth: { secret: SECRET },
  http: { admin_token: ADMIN },
  rooms: { presence_events: true },
}

async function twoNodes(backend: Backend): Promise<{ nodes: [TestNode, TestNode]; close(): Promise<void> }> {
  if (backend.name === 'memory') {
    const nodes = await startMemoryPair(config)
    return { nodes, close: async () => void (await Promise.all(nodes.map((n) => n.close()))) }
  }
  const cluster = await startCluster(backend, 2, config)
  return { nodes: cluster.nodes as [TestNode, TestNode], close: cluster.close }
}

async function userIdIn(asker: TestClient, room: string, clientId: string): Promise<string | null | undefined> {
  const reply = await asker.request('room_members', { room_id: room })
  return (reply.data.members as Array<{ client_id: string; user_id: string | null }>).find((m) => m.client_id === clientId)?.user_id
}

/** Writes Redis's data to its RDB file (the test Redis keeps none otherwise), which it loads when it starts again. */
async function snapshotRedis(backend: Backend): Promise<void> {
  const raw = openRedis(backend.service!.url, 'test-snapshot')
  await raw.connect()
  try {
    await raw.save()
  } finally {
    raw.disconnect()
  }
}

const token = (sub: string) => hs256({ sub, permissions: ['join:room', 'send:message'] })

for (const name of backendNames) {
  describe(`an auth message on ${name}`, { skip: name === 'memory' ? false : skipUnless(name) }, () => {
    const backend = useBackend(name)
    let pair: Awaited<ReturnType<typeof twoNodes>> | null = null
    after(async () => {
      await pair?.close()
    })

    it('changes the user id the other node shows in room_members, GET /api/clients and the server SDK, and emits no presence event', async () => {
      pair ??= await twoNodes(backend)
      const [a, b] = pair.nodes
      const [late, watcher] = [await a.connect(), await b.connect()]
      assert.equal(late.welcome.data.user_id, null)
      for (const c of [late, watcher]) assert.equal((await c.request('join_room', { room_id: 'lobby' })).message_type, 'room_joined')
      await watcher.quiet(100)

      const ok = await late.request('auth', { token: token('late') })
      assert.deepEqual([ok.message_type, ok.data.user_id], ['auth_ok', 'late'])

      assert.equal(await userIdIn(watcher, 'lobby', late.id), 'late')
      const page = await callApi(b.http, '/api/clients', { token: ADMIN })
      assert.equal(page.body.clients.find((c: { client_id: string }) => c.client_id === late.id)?.user_id, 'late')
      assert.equal((await b.app.clients.get(late.id))?.user_id, 'late')
      // The member neither left nor joined: its user id changed, which room_members shows.
      assert.deepEqual((await watcher.quiet(200)).filter((f) => f.message_type.startsWith('member_')), [])
    })

    it('changes it again on a second auth, and back to the token\'s user id in every room the client is in', async () => {
      pair ??= await twoNodes(backend)
      const [a, b] = pair.nodes
      const [client, watcher] = [await a.connect(), await b.connect()]
      for (const room of ['r1', 'r2']) {
        await client.request('join_room', { room_id: room })
        await watcher.request('join_room', { room_id: room })
      }
      await client.request('auth', { token: token('first') })
      await client.request('auth', { token: token('second') })
      for (const room of ['r1', 'r2']) assert.equal(await userIdIn(watcher, room, client.id), 'second', room)
      assert.equal((await b.app.clients.get(client.id))?.user_id, 'second')
    })
  })

  if (name === 'memory') continue

  // Coming back with its data, the state still holds the member records with the old user
  // id, which the node must write again; coming back empty, the node writes everything back.
  const faults: Array<[string, (b: Backend) => Promise<void>]> =
    name === 'redis'
      ? [
          ['restarted from a snapshot (keeping its data)', async (b) => (await snapshotRedis(b), b.service!.stop())],
          ['restarted empty', (b) => b.service!.stop()],
        ]
      : [['restarted (keeping its JetStream data)', (b) => b.service!.stop()]]

  for (const [what, down] of faults) {
    describe(`an auth message while ${name} is ${what}`, { skip: skipUnless(name) }, () => {
      const backend = useBackend(name)

      it('succeeds on its node, and the node writes the new user id into the cluster state once it answers again', async () => {
        const pair = await twoNodes(backend)
        try {
          const [a, b] = pair.nodes
          const [client, watcher] = [await a.connect(), await b.connect()]
          for (const c of [client, watcher]) await c.request('join_room', { room_id: 'lobby' })

          await down(backend)
          await eventually('bus status down', 5000, () => (a.app.bus.status === 'down' ? true : undefined), 50)
          const ok = await client.request('auth', { token: token('offline') })
          assert.deepEqual([ok.message_type, ok.data.user_id], ['auth_ok', 'offline'])
          // The identity applies on its node at once.
          assert.equal(a.app.server.connections.get(client.id)?.userId, 'offline')

          await backend.service!.start()
          await eventually('the new user id in room_members on the other node', 15_000, async () =>
            (await userIdIn(watcher, 'lobby', client.id)) === 'offline' ? true : undefined,
          )
          assert.equal((await b.app.clients.get(client.id))?.user_id, 'offline')
        } finally {
          await pair.close()
          // The next restart must come back empty, as the other tests expect.
          await backend.service!.stop()
          backend.service!.wipe()
          await backend.service!.start()
        }
      })
    })
  }
}
