import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { MemoryBus, MemoryHub } from '../../../lib/bus/memory.js'

async function connected(hub: MemoryHub): Promise<MemoryBus> {
  const bus = new MemoryBus(hub)
  await bus.connect()
  return bus
}

describe('MemoryBus', () => {
  describe('connect', () => {
    it('goes from down to up and says so once', async () => {
      const bus = new MemoryBus()
      const statuses: string[] = []
      bus.on('status', (s) => statuses.push(s))
      assert.equal(bus.status, 'down')
      await bus.connect()
      await bus.connect()
      assert.equal(bus.status, 'up')
      assert.deepEqual(statuses, ['up'])
    })
  })

  describe('publish', () => {
    it('delivers the same bytes to every bus of the hub subscribed to the subject', async () => {
      const hub = new MemoryHub()
      const [a, b, c] = await Promise.all([connected(hub), connected(hub), connected(hub)])
      const got: string[] = []
      await a.subscribe('s', (p) => got.push(`a:${p}`))
      await b.subscribe('s', (p) => got.push(`b:${p}`))
      await c.subscribe('other', (p) => got.push(`c:${p}`))
      await a.publish('s', Buffer.from('hi'))
      await tick()
      assert.deepEqual(got.sort(), ['a:hi', 'b:hi'])
    })

    it('delivers on a later tick, never inside the publish call', async () => {
      const bus = await connected(new MemoryHub())
      let got = 0
      await bus.subscribe('s', () => got++)
      await bus.publish('s', Buffer.from('x'))
      assert.equal(got, 0)
      await tick()
      assert.equal(got, 1)
    })

    it('does nothing for a subject nobody subscribed to', async () => {
      const bus = await connected(new MemoryHub())
      await bus.publish('nobody', Buffer.from('x'))
    })

    it('does not reach buses of another hub', async () => {
      const a = await connected(new MemoryHub())
      const b = await connected(new MemoryHub())
      let got = 0
      await b.subscribe('s', () => got++)
      await a.publish('s', Buffer.from('x'))
      await tick()
      assert.equal(got, 0)
    })

    it('rejects while the bus is down', async () => {
      await assert.rejects(new MemoryBus().publish('s', Buffer.from('x')), /closed/)
    })
  })

  describe('subscribe', () => {
    it('replaces the handler of a subject it already had', async () => {
      const bus = await connected(new MemoryHub())
      const got: string[] = []
      await bus.subscribe('s', () => got.push('first'))
      await bus.subscribe('s', () => got.push('second'))
      await bus.publish('s', Buffer.from('x'))
      await tick()
      assert.deepEqual(got, ['second'])
    })
  })

  describe('unsubscribe', () => {
    it('stops delivery to this bus only', async () => {
      const hub = new MemoryHub()
      const [a, b] = await Promise.all([connected(hub), connected(hub)])
      const got: string[] = []
      await a.subscribe('s', () => got.push('a'))
      await b.subscribe('s', () => got.push('b'))
      await a.unsubscribe('s')
      await b.publish('s', Buffer.from('x'))
      await tick()
      assert.deepEqual(got, ['b'])
    })

    it('forgets a subject nobody listens to any more', async () => {
      const hub = new MemoryHub()
      const bus = await connected(hub)
      await bus.subscribe('s', () => {})
      await bus.unsubscribe('s')
      assert.equal(hub.subjects.has('s'), false)
    })
  })

  describe('close', () => {
    it('drops every subscription and goes down', async () => {
      const hub = new MemoryHub()
      const bus = await connected(hub)
      const statuses: string[] = []
      bus.on('status', (s) => statuses.push(s))
      await bus.subscribe('a', () => {})
      await bus.subscribe('b', () => {})
      await bus.close()
      assert.equal(hub.subjects.size, 0)
      assert.equal(bus.status, 'down')
      assert.deepEqual(statuses, ['down'])
    })
  })
})
