/**
 * Route schemas through the whole chain (wshub/testing): refused data is answered with
 * 1001 and its issues before the handler, which does not run; accepted data reaches it,
 * as the schema's output.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { z } from 'zod'
import { createApp, ErrorCode } from 'wshub'
import { testHarness } from 'wshub/testing'
import { testLogger } from '../support/node.js'

function makeApp() {
  return createApp({}, { defaults: false, logger: testLogger() })
}

describe('router: route schemas', () => {
  it('answers refused data with 1001 and details.issues, without running the handler', async () => {
    const app = makeApp()
    let runs = 0
    app.route('order', { schema: z.object({ sku: z.string(), qty: z.number().int().positive() }) }, (ctx) => {
      runs++
      ctx.reply('order_ok', ctx.data)
    })
    const client = (await testHarness(app)).connect()
    const [error] = await client.send({ message_type: 'order', data: { sku: 7, qty: 0 }, message_id: 1 })
    assert.equal(error?.message_type, 'error')
    assert.equal(error?.request_id, 1)
    assert.equal(error?.data.code, ErrorCode.InvalidFormat)
    assert.match(error?.data.message, /^data\.sku: .* \(and 1 more\)$/)
    assert.deepEqual(error?.data.details.issues.map((i: { path: unknown }) => i.path), [['sku'], ['qty']])
    assert.equal(runs, 0)
    const [ok] = await client.send({ message_type: 'order', data: { sku: 'a', qty: 2 }, message_id: 2 })
    assert.deepEqual(ok, { message_type: 'order_ok', request_id: 2, data: { sku: 'a', qty: 2 } })
    assert.equal(runs, 1)
  })

  it("hands the handler the schema's output (defaults filled, unknown keys stripped)", async () => {
    const app = makeApp()
    app.route('tagged', { schema: z.object({ tag: z.string().default('none') }) }, (ctx) => ctx.reply('tagged_reply', ctx.data))
    const client = (await testHarness(app)).connect()
    const [reply] = await client.send({ message_type: 'tagged', data: { extra: 1 }, message_id: 1 })
    assert.deepEqual(reply?.data, { tag: 'none' })
  })

  it('checks a JSON Schema route the same way', async () => {
    const app = makeApp()
    app.route('sum', { schema: { type: 'array', items: { type: 'number' } } }, (ctx) => ctx.reply('sum_reply', ctx.data.reduce((a, b) => a + b, 0)))
    const client = (await testHarness(app)).connect()
    assert.deepEqual((await client.send({ message_type: 'sum', data: [1, 2], message_id: 1 }))[0]?.data, 3)
    const [error] = await client.send({ message_type: 'sum', data: [1, 'x'], message_id: 2 })
    assert.deepEqual([error?.data.code, error?.data.details], [1001, { issues: [{ path: [1], message: 'must be number' }] }])
  })

  it('checks the permission and the data limit before the schema', async () => {
    const app = makeApp()
    app.route('guarded', { permission: 'admin:room', schema: z.object({ n: z.number() }) }, () => {})
    app.route('small', { maxDataBytes: 10, schema: z.object({ n: z.number() }) }, () => {})
    const client = (await testHarness(app)).connect()
    assert.equal((await client.send({ message_type: 'guarded', data: {}, message_id: 1 }))[0]?.data.code, ErrorCode.Forbidden)
    assert.equal((await client.send({ message_type: 'small', data: { s: 'x'.repeat(20) }, message_id: 2 }))[0]?.data.code, ErrorCode.MessageTooLarge)
  })

  it('answers 1001 when the validator runs out of stack on deep data, and 1003 when it fails otherwise', async () => {
    const app = makeApp()
    type Tree = { kids: Tree[] }
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ kids: z.array(tree) }))
    app.route('tree', { schema: tree }, () => {})
    app.route('broken', { schema: { '~standard': { version: 1, vendor: 'x', validate: () => { throw new Error('validator bug') } } } }, () => {})
    const client = (await testHarness(app)).connect()
    let deep: Tree = { kids: [] }
    for (let i = 0; i < 100_000; i++) deep = { kids: [deep] }
    assert.equal((await client.send({ message_type: 'tree', data: deep, message_id: 1 }))[0]?.data.code, ErrorCode.InvalidFormat)
    assert.equal((await client.send({ message_type: 'broken', data: 1, message_id: 2 }))[0]?.data.code, ErrorCode.ServerError)
  })

  it('refuses a bad schema or replies map at registration, naming the route', () => {
    const app = makeApp()
    assert.throws(() => app.route('bad', { schema: { type: 'nope' } }, () => {}), /^TypeError: route bad: schema: not a valid JSON Schema/)
    assert.throws(() => app.route('bad', { schema: 42 as never }, () => {}), /^TypeError: route bad: schema must be/)
    assert.throws(() => app.route('bad', { replies: { 'no good': z.string() } }, () => {}), /route bad: reply type "no good"/)
  })

  it('gives the built-in routes their 1001 from their declared schemas, with the path', async () => {
    const app = makeApp()
    const client = (await testHarness(app)).connect()
    const [since] = await client.send({ message_type: 'join_room', data: { room_id: 'lobby', since: 'x' }, message_id: 1 })
    assert.deepEqual([since?.data.code, since?.data.details], [1001, { issues: [{ path: ['since'], message: 'must be a non-negative integer offset' }] }])
    const [target] = await client.send({ message_type: 'direct_message', data: { content: 1 }, message_id: 2 })
    assert.deepEqual([target?.data.code, target?.data.details], [1001, { issues: [{ path: ['target_id'], message: 'is required (or target_user_id)' }] }])
  })
})
