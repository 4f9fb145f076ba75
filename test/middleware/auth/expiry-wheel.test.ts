import { describe, it, beforeEach, afterEach, mock } from 'node:test'
import assert from 'node:assert/strict'
import { ExpiryWheel } from '../../../middleware/auth/expiry-wheel.js'

describe('ExpiryWheel', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }))
  afterEach(() => mock.timers.reset())

  it('expires an item at its time, not before', () => {
    const expired: string[] = []
    const wheel = new ExpiryWheel<string>((item) => expired.push(item))
    wheel.set('a', 1_005_000)
    mock.timers.tick(4_999)
    assert.deepEqual(expired, [])
    mock.timers.tick(1)
    assert.deepEqual(expired, ['a'])
    assert.equal(wheel.size, 0)
  })

  it('expires items of different times in order, each at its own time', () => {
    const expired: string[] = []
    const wheel = new ExpiryWheel<string>((item) => expired.push(item))
    wheel.set('late', 1_003_000)
    wheel.set('early', 1_001_000)
    wheel.set('early-too', 1_001_000)
    mock.timers.tick(1_000)
    assert.deepEqual(expired, ['early', 'early-too'])
    mock.timers.tick(2_000)
    assert.deepEqual(expired, ['early', 'early-too', 'late'])
  })

  it('moves an item when it is set again', () => {
    const expired: string[] = []
    const wheel = new ExpiryWheel<string>((item) => expired.push(item))
    wheel.set('a', 1_001_000)
    wheel.set('a', 1_010_000)
    mock.timers.tick(5_000)
    assert.deepEqual(expired, [])
    mock.timers.tick(5_000)
    assert.deepEqual(expired, ['a'])
  })

  it('forgets a deleted item', () => {
    const expired: string[] = []
    const wheel = new ExpiryWheel<string>((item) => expired.push(item))
    wheel.set('a', 1_001_000)
    wheel.delete('a')
    mock.timers.tick(2_000)
    assert.deepEqual(expired, [])
    assert.equal(wheel.size, 0)
  })

  it('expires at once an item whose time has passed', () => {
    const expired: string[] = []
    const wheel = new ExpiryWheel<string>((item) => expired.push(item))
    wheel.set('stale', 999_000)
    mock.timers.tick(0)
    assert.deepEqual(expired, ['stale'])
  })

  it('stops everything on close', () => {
    const expired: string[] = []
    const wheel = new ExpiryWheel<string>((item) => expired.push(item))
    wheel.set('a', 1_001_000)
    wheel.close()
    mock.timers.tick(2_000)
    assert.deepEqual(expired, [])
  })
})
