import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { z } from 'zod'
import { createApp, defineRoute, defineRoutes } from 'wshub'
import { testHarness } from 'wshub/testing'
import { testLogger } from '../support/node.js'

describe('defineRoutes', () => {
  it('registers every route with app.routes(), schemas and permissions included', async () => {
    const routes = defineRoutes({
      add: defineRoute({ schema: z.object({ a: z.number(), b: z.number() }), replies: { sum: z.number() } }, (ctx) => ctx.reply('sum', ctx.data.a + ctx.data.b)),
      admin_only: defineRoute({ permission: 'admin:system' }, (ctx) => ctx.reply('ok', null)),
    })
    const app = createApp({}, { defaults: false, logger: testLogger() }).routes(routes)
    assert.ok(app.router.has('add') && app.router.has('admin_only'))
    const client = (await testHarness(app)).connect()
    assert.deepEqual((await client.send({ message_type: 'add', data: { a: 1, b: 2 }, message_id: 1 }))[0]?.data, 3)
    assert.equal((await client.send({ message_type: 'add', data: { a: 1 }, message_id: 2 }))[0]?.data.code, 1001)
    assert.equal((await client.send({ message_type: 'admin_only', message_id: 3 }))[0]?.data.code, 2001)
  })

  it('refuses a bad type name, or an entry not made by defineRoute, at once', () => {
    const ok = defineRoute({}, () => {})
    assert.throws(() => defineRoutes({ 'no spaces': ok }), /route type "no spaces"/)
    assert.throws(() => defineRoutes({ plain: (() => {}) as never }), /plain must be made with defineRoute/)
    assert.throws(() => defineRoute(null as never, () => {}), TypeError)
    assert.throws(() => defineRoute({}, 'handler' as never), TypeError)
  })

  it('compiles the schema when the app registers the route, not before: a bad one fails app.routes()', () => {
    const routes = defineRoutes({ bad: defineRoute({ schema: { type: 'no-such-type' } }, () => {}) })
    assert.throws(() => createApp({}, { defaults: false, logger: testLogger() }).routes(routes), /route bad: schema: not a valid JSON Schema/)
  })
})
