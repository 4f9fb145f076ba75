/**
 * Users as targets, cluster-wide: `app.toUser`, `ctx.toUser`, `direct_message` with
 * `target_user_id`, `app.clients.kickUser` and `auth.max_connections_per_user`, each over
 * two nodes on the memory bus, on a real Redis and on a real NATS.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { backendNames, useBackend } from '../support/backends.js'
import { skipUnless, testPrefix } from '../support/services.js'
import { startNode, type TestNode } from '../support/node.js'
import { hs256 } from '../support/tokens.js'
import { rawRequest, UPGRADE_HEADERS } from '../support/raw-http.js'
import { eventually } from '../support/http.js'
import type { ConfigInput } from '../../lib/config.js'

const token = (user: string) => `?token=${hs256({ sub: user, permissions: ['send:message'] })}`

for (const name of backendNames) {
  describe(`users as targets on two nodes (${name})`, { skip: name === 'memory' ? false : skipUnless(name) }, () => {
    const backend = useBackend(name)
    let a: TestNode
    let b: TestNode

    before(async () => {
      const prefix = testPrefix()
      const config = (node: string): ConfigInput => ({
        auth: { secret: 'test-secret-of-at-least-32-bytes!!', max_connections_per_user: 3 },
        cluster: { ...backend.cluster(prefix), node_id: `${prefix}${node}` },
      })
      // On the memory bus the two apps share one bus hub and one state, as two nodes would share Redis.
      const shared = name === 'memory' ? () => ({ bus: backend.bus(), state: backend.state(prefix) }) : () => ({})
      a = await startNode(config('a'), shared())
      b = await startNode(config('b'), shared())
      for (const node of [a, b]) {
        node.app.route('notify_user', async (ctx) => {
          const reached = await ctx.toUser((ctx.data as { user: string }).user).send('notice', { from: ctx.client.id })
          ctx.reply('notify_user_reply', { reached })
        })
      }
    })
    after(async () => {
      await a?.close()
      await b?.close()
    })

    it('app.toUser(user).send reaches every connection of the user on both nodes, and no one else', async () => {
      const [a1, a2, b1] = [await a.connect(token('alice1')), await a.connect(token('alice1')), await b.connect(token('alice1'))]
      const other = await b.connect(token('bob1'))
      assert.equal(await b.app.toUser('alice1').send('notice', { n: 1 }), 3)
      for (const client of [a1, a2, b1]) assert.deepEqual((await client.next('notice')).data, { n: 1 })
      assert.deepEqual((await other.quiet()).filter((f) => f.message_type === 'notice'), [])
      assert.equal(await a.app.toUser('nobody').send('notice', {}), 0)
      for (const client of [a1, a2, b1, other]) client.close()
    })

    it('ctx.toUser reaches the user\'s connections on the other node, and leaves the sender out', async () => {
      const [mine, elsewhere] = [await a.connect(token('carol1')), await b.connect(token('carol1'))]
      const reply = await mine.request('notify_user', { user: 'carol1' })
      assert.deepEqual(reply.data, { reached: 1 })
      assert.deepEqual((await elsewhere.next('notice')).data, { from: mine.id })
      assert.deepEqual((await mine.quiet()).filter((f) => f.message_type === 'notice'), [])
      mine.close()
      elsewhere.close()
    })

    it('direct_message with target_user_id reaches every connection of the user on every node, and acks', async () => {
      const sender = await a.connect(token('dave1'))
      const [b1, b2, a1] = [await b.connect(token('erin1')), await b.connect(token('erin1')), await a.connect(token('erin1'))]
      const ack = await sender.request('direct_message', { target_user_id: 'erin1', content: { text: 'hi' } })
      assert.equal(ack.message_type, 'ack', JSON.stringify(ack.data))
      for (const client of [b1, b2, a1]) {
        const got = await client.next('direct_message')
        assert.deepEqual(got.data, { content: { text: 'hi' }, sender_id: sender.id, sender_user_id: 'dave1', target_user_id: 'erin1' })
        assert.equal(typeof got.timestamp, 'number')
      }
      for (const client of [sender, b1, b2, a1]) client.close()
    })

    it('direct_message to one\'s own user id reaches one\'s other connections, not the sender', async () => {
      const [phone, laptop] = [await a.connect(token('fay1')), await b.connect(token('fay1'))]
      assert.equal((await phone.request('direct_message', { target_user_id: 'fay1', content: 'sync' })).message_type, 'ack')
      assert.equal((await laptop.next('direct_message')).data.content, 'sync')
      assert.deepEqual((await phone.quiet()).filter((f) => f.message_type === 'direct_message'), [])
      phone.close()
      laptop.close()
    })

    it('direct_message answers 4001 for a user with no connection, and 1001 for both targets or a bad user id', async () => {
      const sender = await a.connect(token('gus1'))
      assert.equal((await sender.request('direct_message', { target_user_id: 'offline-user', content: 1 })).data.code, 4001)
      assert.equal((await sender.request('direct_message', { target_user_id: 'x', target_id: 'y', content: 1 })).data.code, 1001)
      assert.equal((await sender.request('direct_message', { target_user_id: 42, content: 1 })).data.code, 1001)
      assert.equal((await sender.request('direct_message', { target_user_id: '', content: 1 })).data.code, 1001)
      sender.close()
    })

    it('app.clients.kickUser closes every connection of the user on both nodes with 4000', async () => {
      const [a1, b1, b2] = [await a.connect(token('hank1')), await b.connect(token('hank1')), await b.connect(token('hank1'))]
      const bystander = await b.connect(token('ivy1'))
      const closes = [a1, b1, b2].map((c) => c.waitClose(5000))
      assert.equal(await a.app.clients.kickUser('hank1', 'banned'), 3)
      for (const close of await Promise.all(closes)) assert.deepEqual(close, { code: 4000, reason: 'banned' })
      assert.equal(bystander.closed, null)
      await eventually(async () => (await b.app.state.clientsOfUser('hank1')).length === 0, 5000, 'hank1 gone from the state')
      assert.equal(await a.app.clients.kickUser('hank1'), 0)
      bystander.close()
    })

    it('auth.max_connections_per_user counts the whole cluster: past it, HTTP 429 with code 2004 on either node', async () => {
      const held = [await a.connect(token('judy1')), await b.connect(token('judy1')), await a.connect(token('judy1'))]
      for (const node of [a, b]) {
        const answer = await rawRequest(node.port, `/ws${token('judy1')}`, UPGRADE_HEADERS)
        assert.equal(answer.status, 429)
        const body = JSON.parse(answer.body) as { code: number; message: string }
        assert.equal(body.code, 2004)
        assert.match(body.message, /max_connections_per_user/)
      }
      // Another user, and anonymous clients, are not counted against judy1.
      ;(await b.connect(token('kim1'))).close()
      ;(await b.connect()).close()
      // Once one leaves, a new connection is let in.
      held[1]!.close()
      await eventually(async () => (await a.app.state.clientsOfUser('judy1')).length === 2, 5000, 'judy1 down to 2')
      const again = await b.connect(token('judy1'))
      for (const client of [...held, again]) client.close()
    })
  })
}
