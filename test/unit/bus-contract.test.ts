/**
 * The Bus contract: the same assertions over every implementation (memory, redis, nats)
 * and every engine (a Redis Cluster with sharded pub/sub, Redis with Sentinels, a NATS
 * cluster). Redis and NATS run on real servers started for this file.
 */
import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import type { Bus } from '../../lib/bus/bus.js'
import { backendNames, engineNames, serviceOf, testPrefix, useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'

/** Resolves with the next payload a handler gets, or rejects after `ms`. */
function receiver(ms = 3000) {
  const got: Buffer[] = []
  let wake: (() => void) | null = null
  return {
    got,
    handler: (payload: Buffer) => {
      got.push(payload)
      wake?.()
    },
    async next(): Promise<Buffer> {
      const until = Date.now() + ms
      while (got.length === 0) {
        if (Date.now() > until) throw new Error(`nothing received within ${ms} ms`)
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, 50)
        })
      }
      return got.shift()!
    },
  }
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms))

for (const name of [...backendNames, ...engineNames]) {
  describe(`Bus (${name})`, { skip: name === 'memory' ? false : skipUnless(serviceOf(name)!) }, () => {
    const backend = useBackend(name)
    const open: Bus[] = []
    async function bus(): Promise<Bus> {
      const b = backend.bus()
      open.push(b)
      await b.connect()
      return b
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()))
    })

    describe('connect', () => {
      it('reports the status up once connected', async () => {
        const b = await bus()
        assert.equal(b.status, 'up')
      })
    })

    describe('publish', () => {
      it('reaches a subscriber on another bus, bytes unchanged', async () => {
        const [a, b] = [await bus(), await bus()]
        const subject = `${testPrefix()}.room.x`
        const r = receiver()
        await b.subscribe(subject, r.handler)
        const payload = Buffer.from('{"id":"1"}\n{"message_type":"é\\n"}\u0000', 'utf8')
        await a.publish(subject, payload)
        assert.deepEqual(await r.next(), payload)
      })

      it('reaches the publishing bus itself when it is subscribed', async () => {
        const a = await bus()
        const subject = `${testPrefix()}.broadcast`
        const r = receiver()
        await a.subscribe(subject, r.handler)
        await a.publish(subject, Buffer.from('self'))
        assert.equal((await r.next()).toString(), 'self')
      })

      it('resolves when nobody is subscribed', async () => {
        const a = await bus()
        await a.publish(`${testPrefix()}.nobody`, Buffer.from('x'))
      })

      it('does not reach a subscriber of another subject', async () => {
        const [a, b] = [await bus(), await bus()]
        const prefix = testPrefix()
        const r = receiver()
        await b.subscribe(`${prefix}.room.a`, r.handler)
        await a.publish(`${prefix}.room.b`, Buffer.from('x'))
        await a.publish(`${prefix}.room.a`, Buffer.from('y'))
        assert.equal((await r.next()).toString(), 'y')
        await settle()
        assert.equal(r.got.length, 0)
      })

      it('keeps the order of one publisher on one subject', async () => {
        const [a, b] = [await bus(), await bus()]
        const subject = `${testPrefix()}.room.order`
        const r = receiver()
        await b.subscribe(subject, r.handler)
        for (let i = 0; i < 50; i++) await a.publish(subject, Buffer.from(String(i)))
        const seen: string[] = []
        for (let i = 0; i < 50; i++) seen.push((await r.next()).toString())
        assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => String(i)))
      })
    })

    describe('subscribe', () => {
      it('replaces the handler when a subject is subscribed again', async () => {
        const [a, b] = [await bus(), await bus()]
        const subject = `${testPrefix()}.node.n1`
        const first = receiver()
        const second = receiver()
        await b.subscribe(subject, first.handler)
        await b.subscribe(subject, second.handler)
        await a.publish(subject, Buffer.from('x'))
        assert.equal((await second.next()).toString(), 'x')
        await settle()
        assert.equal(first.got.length, 0)
      })
    })

    describe('unsubscribe', () => {
      it('stops delivery to that subject', async () => {
        const [a, b] = [await bus(), await bus()]
        const prefix = testPrefix()
        const gone = receiver()
        const kept = receiver()
        await b.subscribe(`${prefix}.room.gone`, gone.handler)
        await b.subscribe(`${prefix}.room.kept`, kept.handler)
        await b.unsubscribe(`${prefix}.room.gone`)
        await a.publish(`${prefix}.room.gone`, Buffer.from('x'))
        await a.publish(`${prefix}.room.kept`, Buffer.from('y'))
        assert.equal((await kept.next()).toString(), 'y')
        await settle()
        assert.equal(gone.got.length, 0)
      })

      it('resolves for a subject never subscribed', async () => {
        const a = await bus()
        await a.unsubscribe(`${testPrefix()}.never`)
      })
    })

    // The memory bus has no server to lose: these hold for the buses over a network.
    // A whole multi-process engine is not stopped and frozen here: losing one of its
    // servers, what happens to them, is test/integration/engine-faults.test.ts.
    if (name === 'redis' || name === 'nats') describe('status', () => {
      async function untilStatus(b: Bus, status: 'up' | 'down', ms: number): Promise<void> {
        const until = Date.now() + ms
        while (b.status !== status) {
          if (Date.now() > until) throw new Error(`status not ${status} within ${ms} ms`)
          await settle(25)
        }
      }

      it('goes down when the server stops, refuses to publish, and comes back up with its subscriptions', async () => {
        const [a, b] = [await bus(), await bus()]
        const subject = `${testPrefix()}.room.back`
        const r = receiver(5000)
        await b.subscribe(subject, r.handler)
        const statuses: string[] = []
        b.on('status', (s: string) => statuses.push(s))
        try {
          await backend.service!.stop()
          await untilStatus(a, 'down', 5000)
          await untilStatus(b, 'down', 5000)
          await assert.rejects(a.publish(subject, Buffer.from('lost')))
        } finally {
          await backend.service!.start()
        }
        await untilStatus(a, 'up', 10_000)
        await untilStatus(b, 'up', 10_000)
        await a.publish(subject, Buffer.from('back'))
        assert.equal((await r.next()).toString(), 'back')
        assert.deepEqual(statuses, ['down', 'up'])
      })

      it('goes down within 5 s when the server stops answering without closing, and up when it answers again', async () => {
        const [a, b] = [await bus(), await bus()]
        const subject = `${testPrefix()}.room.frozen`
        const r = receiver(5000)
        await b.subscribe(subject, r.handler)
        try {
          backend.service!.pause()
          await untilStatus(a, 'down', 5000)
        } finally {
          backend.service!.resume()
        }
        await untilStatus(a, 'up', 10_000)
        await untilStatus(b, 'up', 10_000)
        await a.publish(subject, Buffer.from('thawed'))
        assert.equal((await r.next()).toString(), 'thawed')
      })

      it('makes a subscription asked for while down once the server returns', async () => {
        const [a, b] = [await bus(), await bus()]
        const subject = `${testPrefix()}.room.later`
        const r = receiver(5000)
        try {
          await backend.service!.stop()
          await untilStatus(b, 'down', 5000)
          await b.subscribe(subject, r.handler)
        } finally {
          await backend.service!.start()
        }
        await untilStatus(a, 'up', 10_000)
        await untilStatus(b, 'up', 10_000)
        await a.publish(subject, Buffer.from('made'))
        assert.equal((await r.next()).toString(), 'made')
      })
    })

    describe('close', () => {
      it('reports down with a status event and refuses to publish', async () => {
        const a = await bus()
        const status = new Promise((resolve) => a.once('status', (...args: unknown[]) => resolve(args)))
        await a.close()
        assert.deepEqual(await status, ['down'])
        assert.equal(a.status, 'down')
        await assert.rejects(a.publish(`${testPrefix()}.x`, Buffer.from('x')))
      })
    })
  })
}
