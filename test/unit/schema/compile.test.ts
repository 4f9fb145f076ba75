import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { z } from 'zod'
import * as v from 'valibot'
import { compileSchema } from '../../../lib/schema/compile.js'
import type { StandardSchemaV1 } from '../../../lib/schema/standard-schema.js'

async function run(schema: unknown, data: unknown): Promise<{ data: unknown; issues: unknown }> {
  const target = { data }
  const issues = await compileSchema(schema)(target)
  return { data: target.data, issues }
}

describe('compileSchema', () => {
  it('takes a zod schema: its output replaces data, its issues come back with their paths', async () => {
    const schema = z.object({ n: z.number().int(), tag: z.string().default('none') })
    assert.deepEqual(await run(schema, { n: 1, extra: true }), { data: { n: 1, tag: 'none' }, issues: null })
    const refused = await run(schema, { n: 'x' })
    assert.deepEqual((refused.issues as StandardSchemaV1.Issue[]).map((i) => i.path), [['n']])
  })

  it('takes a valibot schema that validates asynchronously, and awaits it', async () => {
    const schema = v.pipeAsync(v.object({ name: v.string() }), v.checkAsync(async (value) => value.name !== 'taken', 'is taken'))
    const target = { data: { name: 'free' } as unknown }
    const pending = compileSchema(schema)(target)
    assert.ok(pending instanceof Promise, 'an async schema answers with a promise')
    assert.equal(await pending, null)
    const refused = await run(schema, { name: 'taken' })
    assert.equal((refused.issues as StandardSchemaV1.Issue[])[0]!.message, 'is taken')
  })

  it('takes a hand-written Standard Schema', async () => {
    const even: StandardSchemaV1<number> = {
      '~standard': { version: 1, vendor: 'test', validate: (x) => (typeof x === 'number' && x % 2 === 0 ? { value: x } : { issues: [{ message: 'must be even' }] }) },
    }
    assert.deepEqual(await run(even, 4), { data: 4, issues: null })
    assert.deepEqual(await run(even, 3), { data: 3, issues: [{ message: 'must be even' }] })
  })

  it('compiles a JSON Schema with ajv, naming missing and extra keys in the path', async () => {
    const schema = {
      type: 'object',
      required: ['id', 'items'],
      additionalProperties: false,
      properties: { id: { type: 'string' }, items: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer', minimum: 1 } } } } },
    }
    assert.deepEqual(await run(schema, { id: 'a', items: [{ qty: 2 }] }), { data: { id: 'a', items: [{ qty: 2 }] }, issues: null })
    const refused = await run(schema, { items: [{ qty: 0 }, { qty: 'x' }], other: 1 })
    assert.deepEqual(refused.issues, [
      { path: ['id'], message: 'is required' },
      { path: ['other'], message: 'is not allowed' },
      { path: ['items', 0, 'qty'], message: 'must be >= 1' },
      { path: ['items', 1, 'qty'], message: 'must be integer' },
    ])
  })

  it('refuses, at compile time, what is not a schema, a bad JSON Schema and an async one', () => {
    for (const bad of [null, 42, 'string', [], () => true]) assert.throws(() => compileSchema(bad), TypeError, `${String(bad)}`)
    assert.throws(() => compileSchema({ type: 'object', propertees: {} }), /not a valid JSON Schema: .*propertees/)
    assert.throws(() => compileSchema({ $async: true, type: 'object' }), /\$async/)
    assert.throws(() => compileSchema({ '~standard': { version: 2, validate() {} } }), /Standard Schema v1/)
  })
})

describe('compileSchema: a frame without data', () => {
  it('lets an optional or defaulted Standard Schema accept it (null on the wire, undefined to the schema)', async () => {
    assert.deepEqual(await run(z.object({ limit: z.number().default(20) }).default({ limit: 20 }), null), { data: { limit: 20 }, issues: null })
    assert.deepEqual(await run(z.string().optional(), null), { data: undefined, issues: null })
    assert.deepEqual(await run(v.pipeAsync(v.optional(v.string())), null), { data: undefined, issues: null })
  })

  it('keeps null for a schema that takes null, and refuses it where neither is allowed', async () => {
    assert.deepEqual(await run(z.string().nullable(), null), { data: null, issues: null })
    const refused = await run(z.object({ n: z.number() }), null)
    assert.equal((refused.issues as unknown[]).length, 1)
    assert.equal(refused.data, null)
  })
})

describe('compileSchema: how validate is called', () => {
  it('calls validate as a method of ~standard, so a vendor may use this', async () => {
    const props = {
      version: 1 as const,
      vendor: 'this-user',
      limit: 3,
      validate(this: { limit: number }, value: unknown) {
        return typeof value === 'number' && value <= this.limit ? { value } : { issues: [{ message: `must be at most ${this.limit}` }] }
      },
    }
    assert.deepEqual(await run({ '~standard': props }, 2), { data: 2, issues: null })
    assert.deepEqual(await run({ '~standard': props }, 5), { data: 5, issues: [{ message: 'must be at most 3' }] })
  })
})
