import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode, startMemoryPair } from '../support/node.js'
import { hs256, SECRET } from '../support/tokens.js'
import { createApp } from '../../lib/application.js'
import { resolveConfig, type ConfigInput } from '../../lib/config.js'
import { rateLimit } from '../../middleware/rate-limit.js'
import type { TestClient } from '../support/ws-client.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function withNode(config: ConfigInput, run: (node: TestNode) => Promise<void>): Promise<void> {
  const node = await startNode(config)
  try {
    await run(node)
  } finally {
    await node.close()
  }
}

describe('rateLimit per connection', () => {
  it('lets a burst through, then refuses with 1005 and details.retry_after_ms', () =>
    withNode({ rate_limit: { per_connection: { rate: 1, burst: 3 } } }, async (node) => {
      const client = await node.connect()
      for (let i = 0; i < 3; i++) assert.equal((await client.request('ping')).message_type, 'pong')
      const refused = await client.request('ping')
      assert.equal(refused.message_type, 'error')
      assert.equal(refused.data.code, 1005)
      assert.ok(refused.data.details.retry_after_ms > 0 && refused.data.details.retry_after_ms <= 1000, JSON.stringify(refused.data))
    }))

  it('refills the bucket over time', () =>
    withNode({ rate_limit: { per_connection: { rate: 2, burst: 1 } } }, async (node) => {
      const client = await node.connect()
      assert.equal((await client.request('ping')).message_type, 'pong')
      const refused = await client.request('ping')
      assert.equal(refused.data.code, 1005)
      await sleep(refused.data.details.retry_after_ms + 20)
      assert.equal((await client.request('ping')).message_type, 'pong')
    }))

  it('counts frames by when they arrived, not by when they run after waiting behind a slow one', () =>
    withNode({ rate_limit: { per_connection: { rate: 10, burst: 3 } } }, async (node) => {
      // The first frame holds the connection's chain (as a cluster state slow to answer
      // would) while the client goes on at 5 frames/s, half its limit; then the backlog
      // runs at once. Counted when they run, all but the burst got 1005 (and with enough
      // of them the connection was closed with 1008).
      let release!: () => void
      const held = new Promise<void>((resolve) => (release = resolve))
      node.app.route('hold', async (ctx) => {
        await held
        ctx.reply('held', {})
      })
      const client = await node.connect()
      const answers: Array<Promise<unknown>> = [client.request('hold', {}, 'hold-1', 20_000)]
      for (let i = 0; i < 12; i++) {
        await sleep(200)
        answers.push(client.request('ping', {}, `p-${i}`, 20_000))
      }
      release()
      const frames = (await Promise.all(answers)) as Array<{ message_type: string; data: { code?: number } }>
      assert.deepEqual(frames.map((f) => f.message_type), ['held', ...Array(12).fill('pong')], JSON.stringify(frames.filter((f) => f.message_type === 'error')))
    }))

  it('keeps one bucket per connection', () =>
    withNode({ rate_limit: { per_connection: { rate: 1, burst: 1 } } }, async (node) => {
      const first = await node.connect()
      const second = await node.connect()
      assert.equal((await first.request('ping')).message_type, 'pong')
      assert.equal((await first.request('ping')).data.code, 1005)
      assert.equal((await second.request('ping')).message_type, 'pong')
    }))

  it('answers the rate_limit.max_violations-th refusal in a row with 1005, then closes with 1008', () =>
    withNode({ rate_limit: { per_connection: { rate: 1, burst: 1 }, max_violations: 3 } }, async (node) => {
      const client = await node.connect()
      await client.request('ping')
      assert.equal((await client.request('ping')).data.code, 1005)
      assert.equal((await client.request('ping')).data.code, 1005)
      assert.equal(client.closed, null, 'open after two violations of three')
      assert.equal((await client.request('ping')).data.code, 1005, 'the third violation is answered too')
      assert.equal((await client.waitClose()).code, 1008)
    }))

  it('counts violations in a row only: a frame let through starts the count again', () =>
    withNode({ rate_limit: { per_connection: { rate: 2, burst: 1 }, max_violations: 2 } }, async (node) => {
      const client = await node.connect()
      await client.request('ping')
      const refused = await client.request('ping')
      assert.equal(refused.data.code, 1005)
      await sleep(refused.data.details.retry_after_ms + 20)
      assert.equal((await client.request('ping')).message_type, 'pong')
      assert.equal((await client.request('ping')).data.code, 1005)
      await sleep(refused.data.details.retry_after_ms + 20)
      assert.equal((await client.request('ping')).message_type, 'pong')
      assert.equal(client.closed, null)
    }))

  it('emits rate_limited with the connection and the scope', () =>
    withNode({ rate_limit: { per_connection: { rate: 1, burst: 1 } } }, async (node) => {
      const client = await node.connect()
      const seen = new Promise<[string, string]>((resolve) => node.app.once('rate_limited', (c, scope) => resolve([c.id, scope])))
      await client.request('ping')
      await client.request('ping')
      assert.deepEqual(await seen, [client.id, 'connection'])
    }))

  it('applies new rates after a reload', () =>
    withNode({ rate_limit: { per_connection: { rate: 1, burst: 1 } } }, async (node) => {
      const previous = node.app.config
      const next = resolveConfig({ ...previous, rate_limit: { ...previous.rate_limit, per_connection: { rate: 1, burst: 5 } } } as ConfigInput)
      node.app.emit('reload', next, previous)
      const client = await node.connect()
      for (let i = 0; i < 5; i++) assert.equal((await client.request('ping')).message_type, 'pong', `frame ${i + 1}`)
      assert.equal((await client.request('ping')).data.code, 1005)
    }))
})

describe('rateLimit on frames refused at the envelope', () => {
  const JUNK = {
    'non-JSON': { code: 1001, send: (c: TestClient) => c.socket.send('not json') },
    binary: { code: 1001, send: (c: TestClient) => c.socket.send(Buffer.from('x'), { binary: true }) },
    'bad message_id': { code: 1002, send: (c: TestClient) => c.send({ message_type: 'ping', message_id: 0 }) },
  }

  it('answers a non-JSON frame over the limit with 1005 and details.retry_after_ms instead of 1001', () =>
    withNode({ rate_limit: { per_connection: { rate: 1, burst: 3 } } }, async (node) => {
      const client = await node.connect()
      for (let i = 0; i < 4; i++) client.socket.send('not json')
      const replies = [await client.next('error'), await client.next('error'), await client.next('error'), await client.next('error')]
      assert.deepEqual(replies.map((f) => f.data.code), [1001, 1001, 1001, 1005])
      assert.ok(replies[3]!.data.details.retry_after_ms > 0, JSON.stringify(replies[3]!.data))
      assert.equal(client.closed, null)
    }))

  it('takes junk and valid frames from one bucket', () =>
    withNode({ rate_limit: { per_connection: { rate: 1, burst: 2 } } }, async (node) => {
      const client = await node.connect()
      client.socket.send('not json')
      assert.equal((await client.next('error')).data.code, 1001)
      assert.equal((await client.request('ping')).message_type, 'pong')
      assert.equal((await client.request('ping')).data.code, 1005)
    }))

  for (const [kind, junk] of Object.entries(JUNK)) {
    it(`closes a flood of ${kind} frames with 1008 after rate_limit.max_violations refusals, answering none past them`, () =>
      withNode({ rate_limit: { per_connection: { rate: 1, burst: 3 }, max_violations: 3 } }, async (node) => {
        const client = await node.connect()
        for (let i = 0; i < 500; i++) junk.send(client)
        assert.equal((await client.waitClose()).code, 1008)
        const codes = client.frames.filter((f) => f.message_type === 'error').map((f) => f.data.code)
        assert.deepEqual(codes, [junk.code, junk.code, junk.code, 1005, 1005, 1005])
      }))
  }
})

describe('rateLimit per user', () => {
  it('shares one bucket among a user\'s connections on different nodes', async () => {
    const config: ConfigInput = { auth: { secret: SECRET }, rate_limit: { per_connection: { rate: 100, burst: 100 }, per_user: { rate: 1, burst: 2 } } }
    const [a, b] = await startMemoryPair(config)
    try {
      const token = hs256({ sub: 'busy-user' })
      const onA = await a.connect(`?token=${token}`)
      const onB = await b.connect(`?token=${token}`)
      assert.equal((await onA.request('ping')).message_type, 'pong')
      assert.equal((await onB.request('ping')).message_type, 'pong')
      const refused = await onB.request('ping')
      assert.equal(refused.data.code, 1005)
      assert.ok(refused.data.details.retry_after_ms > 0)
      const anonymous = await a.connect()
      assert.equal((await anonymous.request('ping')).message_type, 'pong')
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('rateLimit()', () => {
  it('returns a middleware named rateLimit', () => {
    assert.equal(rateLimit().name, 'rateLimit')
  })

  it('refuses a negative rate at use() time, naming the key', () => {
    const app = createApp({}, { defaults: false })
    assert.throws(() => app.use(rateLimit({ per_connection: { rate: -1 } })), /rate_limit\.per_connection\.rate/)
  })

  it('refuses a burst below 1 with a rate at use() time', () => {
    const app = createApp({}, { defaults: false })
    assert.throws(() => app.use(rateLimit({ per_connection: { rate: 5, burst: 0 } })), /rate_limit\.per_connection\.burst/)
  })

  it('works on its own, with options that win over the config', async () => {
    const node = await startNode({ rate_limit: { enabled: false } })
    try {
      node.app.use(rateLimit({ per_connection: { rate: 1, burst: 1 } }))
      const client = await node.connect()
      await client.request('ping')
      assert.equal((await client.request('ping')).data.code, 1005)
    } finally {
      await node.close()
    }
  })

  it('is left out of the default chain where rate_limit.enabled is off', () =>
    withNode({ rate_limit: { enabled: false, per_connection: { rate: 1, burst: 1 } } }, async (node) => {
      const client = await node.connect()
      for (let i = 0; i < 3; i++) assert.equal((await client.request('ping')).message_type, 'pong')
    }))
})
