import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { compose, type Next } from '../../lib/compose.js'

type Ctx = { log: string[] }

describe('compose', () => {
  it('runs steps in order on the way in and in reverse after await next()', async () => {
    const ctx: Ctx = { log: [] }
    const step = (name: string) => async (c: Ctx, next: Next) => {
      c.log.push(`${name} in`)
      await next()
      c.log.push(`${name} out`)
    }
    await compose([step('a'), step('b'), step('c')])(ctx)
    assert.deepEqual(ctx.log, ['a in', 'b in', 'c in', 'c out', 'b out', 'a out'])
  })

  it('propagates an error thrown downstream to the caller', async () => {
    const boom = new Error('boom')
    const chain = compose<Ctx>([async (_c, next) => next(), () => { throw boom }])
    await assert.rejects(chain({ log: [] }), boom)
  })

  it('lets an upstream step catch a downstream error', async () => {
    const ctx: Ctx = { log: [] }
    await compose<Ctx>([
      async (c, next) => { try { await next() } catch (e) { c.log.push((e as Error).message) } },
      async () => { throw new Error('caught') },
    ])(ctx)
    assert.deepEqual(ctx.log, ['caught'])
  })

  it('rejects when next() is called twice', async () => {
    const chain = compose<Ctx>([async (_c, next) => { await next(); await next() }])
    await assert.rejects(chain({ log: [] }), /next\(\) called multiple times/)
  })

  it('resolves an empty chain', async () => {
    await compose<Ctx>([])({ log: [] })
  })

  it('calls the final next of an empty chain', async () => {
    const ctx: Ctx = { log: [] }
    await compose<Ctx>([])(ctx, async () => { ctx.log.push('last') })
    assert.deepEqual(ctx.log, ['last'])
  })

  it('can be used as a middleware inside another chain', async () => {
    const ctx: Ctx = { log: [] }
    const inner = compose<Ctx>([async (c, next) => { c.log.push('inner'); await next() }])
    await compose<Ctx>([inner, async (c) => { c.log.push('after') }])(ctx)
    assert.deepEqual(ctx.log, ['inner', 'after'])
  })

  it('is reusable across calls', async () => {
    const chain = compose<Ctx>([async (c) => { c.log.push('x') }])
    const a: Ctx = { log: [] }
    const b: Ctx = { log: [] }
    await chain(a)
    await chain(b)
    assert.deepEqual([a.log, b.log], [['x'], ['x']])
  })

  it('refuses a list with a non-function at build time', () => {
    assert.throws(() => compose([42 as never]), /middleware #0 must be a function/)
  })
})
