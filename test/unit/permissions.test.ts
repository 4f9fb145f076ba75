import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Permissions } from '../../lib/permissions.js'

describe('Permissions', () => {
  describe('has', () => {
    it('grants an exact permission', () => {
      assert.equal(new Permissions(['send:message']).has('send:message'), true)
    })

    it('refuses what was not granted', () => {
      const p = new Permissions(['send:message'])
      assert.equal(p.has('join:room'), false)
      assert.equal(p.has('send'), false)
    })

    it('lets a grant without a resource cover every resource', () => {
      const p = new Permissions(['join:room'])
      assert.equal(p.has('join:room:lobby'), true)
      assert.equal(p.has('join:room:a:b'), true)
    })

    it('lets a grant with a resource cover only that resource', () => {
      const p = new Permissions(['join:room:lobby'])
      assert.equal(p.has('join:room:lobby'), true)
      assert.equal(p.has('join:room:other'), false)
      assert.equal(p.has('join:room'), false)
    })

    it('does not let a grant with a resource cover a longer resource that starts with it (room ids hold colons)', () => {
      const p = new Permissions(['join:room:team'])
      assert.equal(p.has('join:room:team:admins'), false)
      assert.equal(new Permissions(['join:room']).has('join:room:team:admins'), true)
      assert.equal(new Permissions(['join']).has('join:room:team'), true, 'an action alone still covers its objects')
    })

    it('matches * globs, a trailing :* also granting the bare permission', () => {
      const p = new Permissions(['join:room:*', 'read:*:lobby'])
      assert.equal(p.has('join:room:anything'), true)
      assert.equal(p.has('join:room'), true)
      assert.equal(p.has('read:presence:lobby'), true)
      assert.equal(p.has('read:presence:other'), false)
    })

    it('does not let a prefix match a longer word', () => {
      assert.equal(new Permissions(['join:room']).has('join:rooms'), false)
      assert.equal(new Permissions(['join:room:*']).has('join:roomx'), false)
    })

    it('treats regexp characters in a glob literally', () => {
      const p = new Permissions(['join:room:a.b*'])
      assert.equal(p.has('join:room:a.bc'), true)
      assert.equal(p.has('join:room:axbc'), false)
    })

    it('grants everything to admin:system', () => {
      const p = new Permissions(['admin:system'])
      assert.equal(p.has('delete:room:x'), true)
      assert.equal(p.has('read:presence'), true)
    })

    it('grants nothing to the empty set', () => {
      assert.equal(Permissions.none.has('join:room'), false)
    })
  })

  describe('list', () => {
    it('keeps a copy of the grants', () => {
      const grants = ['join:room']
      const p = new Permissions(grants)
      grants.push('admin:system')
      assert.deepEqual(p.list, ['join:room'])
      assert.equal(p.has('delete:room'), false)
    })
  })
})
