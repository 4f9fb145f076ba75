/**
 * Route schemas through the whole chain (wshub/testing): refused data is answered with
 * 1001 and its issues before the handler, which does not run; accepted data reaches it,
 * as the schema's output.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { z } from 'zod'
import { createApp, ErrorCode } from 'wshub'
import { auth } from 'wshub/middleware/auth'
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

  it('gives every built-in message type of PROTOCOL.md section 3 with failures a schema: data of the wrong kind is a 1001 with its issues', async () => {
    const app = makeApp().use(auth({ allow_anonymous: true, secret: 's'.repeat(32) }))
    const client = (await testHarness(app)).connect()
    const types = ['join_room', 'leave_room', 'room_message', 'direct_message', 'room_members', 'auth']
    for (const [i, type] of types.entries()) {
      const [error] = await client.send({ message_type: type, data: 'not an object', message_id: i + 1 })
      assert.deepEqual([type, error?.data.code, error?.data.details], [type, 1001, { issues: [{ path: [], message: 'must be an object' }] }])
    }
    // ping lists no failure (section 3): whatever its data, a pong.
    const [pong] = await client.send({ message_type: 'ping', data: 'not an object', message_id: 'p' })
    assert.deepEqual([pong?.message_type, pong?.data.ts], ['pong', null])
  })

  it('answers both targets of a direct_message from its schema, the handler not reached', async () => {
    const app = makeApp()
    const client = (await testHarness(app)).connect()
    const [both] = await client.send({ message_type: 'direct_message', data: { target_id: 'a', target_user_id: 'u', content: 1 }, message_id: 1 })
    assert.deepEqual([both?.data.code, both?.data.details], [1001, { issues: [{ path: ['target_user_id'], message: 'must not be given with target_id' }] }])
  })

  it('keeps the answer to data with 10,000 failing places small (JSON Schema with allErrors, and zod)', async () => {
    const app = makeApp()
    let runs = 0
    app.route('numbers', { schema: { type: 'array', items: { type: 'number' } } }, () => void runs++)
    app.route('closed', { schema: { type: 'object', additionalProperties: false, properties: {} } }, () => void runs++)
    app.route('znumbers', { schema: z.array(z.number()) }, () => void runs++)
    const client = (await testHarness(app)).connect()
    const strings = Array.from({ length: 10_000 }, () => 'x')
    const keys = Object.fromEntries(strings.map((_, i) => [`k${i}`, 1]))
    for (const [type, data] of [['numbers', strings], ['closed', keys], ['znumbers', strings]] as const) {
      const [error] = await client.send({ message_type: type, data, message_id: type })
      assert.equal(error?.data.code, 1001)
      assert.equal(error?.data.details.issues.length, 10)
      assert.equal(error?.data.details.omitted, 9_990)
      assert.match(error?.data.message, /\(and 9999 more\)$/)
      assert.ok(JSON.stringify(error).length < 2048, `${type}: ${JSON.stringify(error).length} bytes`)
    }
    assert.equal(runs, 0)
  })

  it('awaits a schema that validates asynchronously: refused data never reaches the handler, accepted data does', async () => {
    const app = makeApp()
    let runs = 0
    const name = z.object({ name: z.string() }).refine(async (v) => v.name !== 'taken', { message: 'is taken', path: ['name'] })
    app.route('claim', { schema: name }, (ctx) => {
      runs++
      ctx.reply('claimed', ctx.data)
    })
    const client = (await testHarness(app)).connect()
    const [refused] = await client.send({ message_type: 'claim', data: { name: 'taken' }, message_id: 1 })
    assert.deepEqual([refused?.data.code, refused?.data.details], [1001, { issues: [{ path: ['name'], message: 'is taken' }] }])
    assert.equal(runs, 0)
    assert.deepEqual((await client.send({ message_type: 'claim', data: { name: 'free' }, message_id: 2 }))[0], { message_type: 'claimed', request_id: 2, data: { name: 'free' } })
    assert.equal(runs, 1)
  })
})
