import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { objectSchema, offset, optional, present, roomId, text } from '../../../lib/schema/object-schema.js'
import { compileSchema } from '../../../lib/schema/compile.js'

const schema = objectSchema({ room_id: roomId, since: optional(offset), content: present, to: optional(text(1, 5)) })

describe('objectSchema', () => {
  it('answers null for good data, without making anything', () => {
    const check = compileSchema(schema)
    const data = { room_id: 'lobby', since: 3, content: null }
    const target = { data }
    assert.equal(check(target), null)
    assert.equal(target.data, data, 'the same object')
  })

  it('lists each bad or missing field with its path', () => {
    assert.deepEqual(compileSchema(schema)({ data: { room_id: 'a b', since: -1, to: 'toolong' } }), [
      { message: 'must be 1..128 chars of [a-zA-Z0-9_.:-]', path: ['room_id'] },
      { message: 'must be a non-negative integer offset', path: ['since'] },
      { message: 'is required', path: ['content'] },
      { message: 'must be a string of 1..5 chars', path: ['to'] },
    ])
  })

  it('refuses what is not an object', () => {
    for (const data of [null, 'lobby', 3, ['room_id']]) assert.deepEqual(compileSchema(schema)({ data }), [{ message: 'must be an object', path: [] }])
  })

  it('is a Standard Schema for anyone else', async () => {
    assert.deepEqual(await schema['~standard'].validate({ room_id: 'x', content: 1 }), { value: { room_id: 'x', content: 1 } })
    assert.equal(((await schema['~standard'].validate({})) as { issues: unknown[] }).issues.length, 2)
  })

  it('runs its rule once every field passed, and answers what the rule answers', () => {
    const either = Object.freeze([{ message: 'give a or b', path: [] }])
    let calls = 0
    const rule = (data: { a?: string; b?: string }) => {
      calls++
      return data.a === undefined && data.b === undefined ? either : null
    }
    const check = compileSchema(objectSchema({ a: optional(text(1, 3)), b: optional(text(1, 3)) }, rule))
    assert.equal(check({ data: { a: 'x' } }), null)
    assert.equal(check({ data: {} }), either)
    assert.deepEqual(check({ data: { a: 'toolong' } }), [{ message: 'must be a string of 1..3 chars', path: ['a'] }])
    assert.equal(calls, 2, 'not run when a field failed')
  })
})
