import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode, startMemoryPair } from '../support/node.js'
import { hs256, SECRET } from '../support/tokens.js'
import { createApp, type Application } from '../../lib/application.js'
import { AppError } from '../../lib/errors.js'
import type { ConfigInput } from '../../lib/config.js'
import { dedup, RecentRequests } from '../../middleware/dedup/index.js'
import { useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { startCluster } from '../support/cluster.js'
import { sleep } from '../support/expect.js'

const DUPLICATE = { status: 'ok', duplicate: true }

/** Routes whose effects can be counted: `count` succeeds, `fail` ends in 3000, `crash` in a plain Error. */
function countingRoutes(app: Application): Map<string, number> {
  const runs = new Map<string, number>()
  const run = (type: string) => runs.set(type, (runs.get(type) ?? 0) + 1)
  app.route('count', (ctx) => {
    run('count')
    ctx.reply('counted', { n: runs.get('count') })
  })
  app.route('fail', () => {
    run('fail')
    throw new AppError(3000, 'no such room, really')
  })
  app.route('crash', () => {
    run('crash')
    throw new Error('handler bug')
  })
  return runs
}

describe('dedup', () => {
  let node: TestNode
  let runs: Map<string, number>
  before(async () => {
    node = await startNode({ auth: { secret: SECRET } })
    runs = countingRoutes(node.app)
  })
  after(() => node.close())

  it('answers a repeated integer id on the same connection with a duplicate ack, without running it again', async () => {
    const client = await node.connect()
    const before = runs.get('count') ?? 0
    const first = await client.request('count', null, 1)
    assert.equal(first.message_type, 'counted')
    const repeat = await client.request('count', null, 1)
    assert.deepEqual([repeat.message_type, repeat.data], ['ack', DUPLICATE])
    assert.equal(runs.get('count'), before + 1)
  })

  it('answers a repeat of any type, a ping included, with a duplicate ack', async () => {
    const client = await node.connect()
    assert.equal((await client.request('ping', null, 7)).message_type, 'pong')
    assert.deepEqual((await client.request('ping', null, 7)).data, DUPLICATE)
  })

  it('does not take integer id 1 on a second connection as a duplicate', async () => {
    const first = await node.connect()
    const second = await node.connect()
    assert.equal((await first.request('count', null, 1)).message_type, 'counted')
    assert.equal((await second.request('count', null, 1)).message_type, 'counted')
  })

  it('takes a string id repeated by the same user on another connection as a duplicate', async () => {
    const token = hs256({ sub: 'retrying-user' })
    const first = await node.connect(`?token=${token}`)
    assert.equal((await first.request('count', null, 'req-abc')).message_type, 'counted')
    first.close()
    const second = await node.connect(`?token=${token}`)
    assert.deepEqual((await second.request('count', null, 'req-abc')).data, DUPLICATE)
  })

  it('does not take a string id of another user as a duplicate', async () => {
    const alice = await node.connect(`?token=${hs256({ sub: 'alice' })}`)
    const bob = await node.connect(`?token=${hs256({ sub: 'bob' })}`)
    assert.equal((await alice.request('count', null, 'shared-id')).message_type, 'counted')
    assert.equal((await bob.request('count', null, 'shared-id')).message_type, 'counted')
  })

  it('scopes a string id of an anonymous client to its connection', async () => {
    const first = await node.connect()
    const second = await node.connect()
    assert.equal((await first.request('count', null, 'anon-id')).message_type, 'counted')
    assert.deepEqual((await first.request('count', null, 'anon-id')).data, DUPLICATE)
    assert.equal((await second.request('count', null, 'anon-id')).message_type, 'counted')
  })

  it('keeps integer 1 and string "1" apart', async () => {
    const client = await node.connect()
    assert.equal((await client.request('count', null, 1)).message_type, 'counted')
    assert.equal((await client.request('count', null, '1')).message_type, 'counted')
  })

  it('answers the repeat of a failed request with the same error, without running it again', async () => {
    const client = await node.connect()
    const before = runs.get('fail') ?? 0
    const first = await client.request('fail', null, 3)
    const repeat = await client.request('fail', null, 3)
    assert.deepEqual(first.data, { code: 3000, message: 'no such room, really' })
    assert.deepEqual(repeat.data, first.data)
    assert.equal(runs.get('fail'), before + 1)
  })

  it('answers the repeat of a request that crashed with 1003 again', async () => {
    const client = await node.connect()
    const first = await client.request('crash', null, 4)
    const repeat = await client.request('crash', null, 4)
    assert.deepEqual([first.data.code, repeat.data.code], [1003, 1003])
    assert.equal(runs.get('crash'), 1)
  })

  it('runs frames without a message_id every time', async () => {
    const client = await node.connect()
    client.send({ message_type: 'count' })
    const a = await client.next('counted')
    client.send({ message_type: 'count' })
    const b = await client.next('counted')
    assert.equal(b.data.n, a.data.n + 1)
  })

  it('does not remember a frame refused at the envelope', async () => {
    const client = await node.connect()
    client.send({ message_type: 'bad type!', message_id: 5 })
    assert.equal((await client.next((f) => f.request_id === 5)).data.code, 1001)
    assert.equal((await client.request('count', null, 5)).message_type, 'counted')
  })
})

describe('dedup window', () => {
  it('runs a request again once dedup.window_ms has passed', async () => {
    const node = await startNode({ dedup: { window_ms: 100 } })
    try {
      countingRoutes(node.app)
      const client = await node.connect()
      assert.equal((await client.request('count', null, 1)).message_type, 'counted')
      assert.deepEqual((await client.request('count', null, 1)).data, DUPLICATE)
      await new Promise((r) => setTimeout(r, 150))
      assert.equal((await client.request('count', null, 1)).message_type, 'counted')
    } finally {
      await node.close()
    }
  })
})

describe('dedup in cluster mode', () => {
  it('catches a string-id retry after a reconnect to another node, through the cluster state', async () => {
    // A non-memory bus name puts dedup in cluster mode; the memory backends stand in for it in-process.
    const config: ConfigInput = { auth: { secret: SECRET }, cluster: { bus: 'redis' } }
    const [a, b] = await startMemoryPair(config)
    try {
      const runs = countingRoutes(a.app)
      countingRoutes(b.app).set('count', 0)
      const token = hs256({ sub: 'roaming-user' })
      const onA = await a.connect(`?token=${token}`)
      assert.equal((await onA.request('count', null, 'retry-me')).message_type, 'counted')
      onA.close()
      const onB = await b.connect(`?token=${token}`)
      assert.deepEqual((await onB.request('count', null, 'retry-me')).data, DUPLICATE)
      assert.equal((await onB.request('count', null, 1)).message_type, 'counted', 'integer ids stay per connection')
      assert.equal(runs.get('count'), 1)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('does not share string ids across nodes with the memory bus', async () => {
    const [a, b] = await startMemoryPair({ auth: { secret: SECRET } })
    try {
      countingRoutes(a.app)
      countingRoutes(b.app)
      const token = hs256({ sub: 'local-user' })
      assert.equal((await (await a.connect(`?token=${token}`)).request('count', null, 'x')).message_type, 'counted')
      assert.equal((await (await b.connect(`?token=${token}`)).request('count', null, 'x')).message_type, 'counted')
    } finally {
      await a.close()
      await b.close()
    }
  })
})

/**
 * A route `held` that tells when it has started and then waits for the test to end it:
 * with a reply (`release(null)`) or an error code.
 */
class HeldRoute {
  runs = 0
  readonly started: Promise<void>
  private markStarted!: () => void
  private end!: (code: number | null) => void
  private readonly ended: Promise<number | null>

  constructor() {
    this.started = new Promise((resolve) => (this.markStarted = resolve))
    this.ended = new Promise((resolve) => (this.end = resolve))
  }

  install(app: Application): void {
    app.route('held', async (ctx) => {
      this.runs++
      this.markStarted()
      const code = await this.ended
      if (code !== null) throw new AppError(code as 3000, 'failed on purpose')
      ctx.reply('held_done', { runs: this.runs })
    })
  }

  release(code: number | null): void {
    this.end(code)
  }
}

describe('dedup: a repeat while the first request still runs', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ auth: { secret: SECRET } })
  })
  after(() => node.close())

  /** Two connections of one user; the first sends `held` with the id, the second repeats it while it runs. */
  async function repeatWhileRunning(id: string) {
    const held = new HeldRoute()
    held.install(node.app)
    const token = hs256({ sub: `user-${id}` })
    const [first, second] = [await node.connect(`?token=${token}`), await node.connect(`?token=${token}`)]
    const firstReply = first.request('held', null, id)
    await held.started
    const secondReply = second.request('held', null, id)
    let secondAnswered = false
    void secondReply.then(() => (secondAnswered = true))
    await sleep(100)
    assert.equal(secondAnswered, false, 'the repeat waits for the first')
    return { held, firstReply, secondReply }
  }

  it('answers the repeat with the first one\'s error once it fails, not with a duplicate ack', async () => {
    const { held, firstReply, secondReply } = await repeatWhileRunning('fails-later')
    held.release(3000)
    assert.deepEqual((await firstReply).data, { code: 3000, message: 'failed on purpose' })
    assert.deepEqual((await secondReply).data, { code: 3000, message: 'failed on purpose' })
    assert.equal(held.runs, 1)
  })

  it('answers the repeat with a duplicate ack once the first succeeds', async () => {
    const { held, firstReply, secondReply } = await repeatWhileRunning('succeeds-later')
    held.release(null)
    assert.equal((await firstReply).message_type, 'held_done')
    assert.deepEqual((await secondReply).data, DUPLICATE)
    assert.equal(held.runs, 1)
  })

  it('answers 1004 to a repeat whose first is still running after dedup.pending_wait_ms, and the first one\'s outcome later', async () => {
    const bounded = await startNode({ auth: { secret: SECRET }, dedup: { pending_wait_ms: 150 } })
    try {
      const held = new HeldRoute()
      held.install(bounded.app)
      const token = hs256({ sub: 'impatient' })
      const [first, second] = [await bounded.connect(`?token=${token}`), await bounded.connect(`?token=${token}`)]
      const firstReply = first.request('held', null, 'slow-one')
      await held.started
      const startedAt = performance.now()
      const timedOut = await second.request('held', null, 'slow-one')
      assert.equal(timedOut.data.code, 1004)
      assert.ok(performance.now() - startedAt >= 140, 'it waited for the bound')
      held.release(3000)
      assert.equal((await firstReply).data.code, 3000)
      assert.equal((await second.request('held', null, 'slow-one')).data.code, 3000, 'a retry after the first ended gets its outcome')
      assert.equal(held.runs, 1)
    } finally {
      await bounded.close()
    }
  })
})

for (const name of ['redis', 'nats'] as const) {
  describe(`dedup: a repeat on another node while the first still runs (${name})`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)

    it('answers the repeat with the first one\'s error, through the cluster state', async () => {
      const cluster = await startCluster(backend, 2, { auth: { secret: SECRET } })
      try {
        const held = new HeldRoute()
        for (const n of cluster.nodes) held.install(n.app)
        const token = hs256({ sub: 'two-nodes', permissions: ['join:room'] })
        const onA = await cluster.nodes[0]!.connect(`?token=${token}`)
        const onB = await cluster.nodes[1]!.connect(`?token=${token}`)
        const firstReply = onA.request('held', null, 'same-id')
        await held.started
        const secondReply = onB.request('held', null, 'same-id')
        await sleep(150)
        held.release(3000)
        assert.deepEqual((await firstReply).data, { code: 3000, message: 'failed on purpose' })
        assert.deepEqual((await secondReply).data, { code: 3000, message: 'failed on purpose' })
        assert.equal(held.runs, 1)
        // The protocol's own case: join_room of a missing room, repeated at once on the other node.
        const joins = await Promise.all([onA.request('join_room', { room_id: 'no-such-room' }, 'join-x'), onB.request('join_room', { room_id: 'no-such-room' }, 'join-x')])
        assert.deepEqual(joins.map((f) => f.data.code), [3000, 3000])
      } finally {
        await cluster.close()
      }
    })
  })
}

describe('RecentRequests', () => {
  it('remembers at most max_entries keys, forgetting the oldest first', () => {
    const recent = new RecentRequests(60_000, 4)
    const now = Date.now()
    for (let i = 0; i < 10; i++) recent.claim(`k${i}`, now)
    assert.ok(recent.size <= 4, `size ${recent.size}`)
    assert.equal(recent.claim('k0', now), null, 'the oldest key was forgotten')
    assert.deepEqual(recent.claim('k9', now), { pending: true }, 'the newest key is remembered')
  })

  it('forgets keys older than the window', () => {
    const recent = new RecentRequests(1000, 100)
    const now = Date.now()
    recent.claim('old', now)
    assert.equal(recent.claim('old', now + 1000), null)
  })

  it('keeps the settled outcome of a key', () => {
    const recent = new RecentRequests(1000, 100)
    const now = Date.now()
    recent.claim('k', now)
    recent.settle('k', { ok: false, code: 3000, message: 'gone' })
    assert.deepEqual(recent.claim('k', now + 1), { ok: false, code: 3000, message: 'gone' })
  })
})

describe('dedup()', () => {
  it('returns a middleware named dedup', () => {
    assert.equal(dedup().name, 'dedup')
  })

  it('refuses a max_entries below 2 at use() time, naming the key', () => {
    const app = createApp({}, { defaults: false })
    assert.throws(() => app.use(dedup({ max_entries: 1 })), /dedup\.max_entries/)
  })

  it('is left out of the default chain where dedup.enabled is off', async () => {
    const node = await startNode({ dedup: { enabled: false } })
    try {
      const runs = countingRoutes(node.app)
      const client = await node.connect()
      await client.request('count', null, 1)
      await client.request('count', null, 1)
      assert.equal(runs.get('count'), 2)
    } finally {
      await node.close()
    }
  })

  it('works on its own, installed on an app without the default chain', async () => {
    const node = await startNode({}, { defaults: false })
    try {
      node.app.use(dedup({ window_ms: 5000 }))
      countingRoutes(node.app)
      const client = await node.connect()
      await client.request('count', null, 9)
      assert.deepEqual((await client.request('count', null, 9)).data, DUPLICATE)
    } finally {
      await node.close()
    }
  })
})
