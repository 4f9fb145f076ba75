import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Permissions } from '../../lib/permissions.js'

describe('Permissions.of', () => {
  it('returns one shared compiled set for the same list', () => {
    const grants = ['join:room', 'send:message']
    assert.equal(Permissions.of(grants), Permissions.of(grants))
  })

  it('grants exactly what a set compiled by the constructor grants', () => {
    const grants = ['join:room:*', 'send:message']
    const shared = Permissions.of(grants)
    const own = new Permissions(grants)
    for (const wanted of ['join:room:lobby', 'join:room', 'send:message', 'send:message:x', 'create:room', 'admin:system']) {
      assert.equal(shared.has(wanted), own.has(wanted), wanted)
    }
  })

  it('compiles the list again when it was changed since', () => {
    const grants = ['join:room']
    const before = Permissions.of(grants)
    grants.push('create:room')
    const after = Permissions.of(grants)
    assert.notEqual(after, before)
    assert.equal(after.has('create:room'), true)
    assert.equal(before.has('create:room'), false)
  })

  it('keeps different lists with the same grants apart', () => {
    const a = Permissions.of(['join:room'])
    const b = Permissions.of(['leave:room'])
    assert.equal(a.has('leave:room'), false)
    assert.equal(b.has('leave:room'), true)
  })
})
