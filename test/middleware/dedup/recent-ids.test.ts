import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_SLOTS, RecentIds } from '../../../middleware/dedup/recent-ids.js'

const WINDOW = 60_000

describe('RecentIds.claim', () => {
  it('answers null the first time and the pending outcome for a repeat within the window', () => {
    const ids = new RecentIds({ used: 0, max: 1000 })
    const now = Date.now()
    assert.equal(ids.claim(1, now, WINDOW), null)
    assert.deepEqual(ids.claim(1, now + 1, WINDOW), { ok: true })
  })

  it('forgets an id once the window has passed', () => {
    const ids = new RecentIds({ used: 0, max: 1000 })
    const now = Date.now()
    ids.claim(1, now, 1000)
    assert.equal(ids.claim(1, now + 1000, 1000), null)
    assert.deepEqual(ids.claim(1, now + 1001, 1000), { ok: true }, 'the new claim is remembered')
  })

  it('grows to keep every id of the window while the budget allows', () => {
    const budget = { used: 0, max: 1000 }
    const ids = new RecentIds(budget)
    const now = Date.now()
    for (let id = 1; id <= 100; id++) assert.equal(ids.claim(id, now, WINDOW), null)
    for (let id = 1; id <= 100; id++) assert.deepEqual(ids.claim(id, now, WINDOW), { ok: true }, `id ${id}`)
    assert.equal(budget.used, ids.capacity)
  })

  it('forgets the oldest ids first once the node-wide budget is spent', () => {
    const budget = { used: 0, max: 16 }
    const ids = new RecentIds(budget)
    const now = Date.now()
    for (let id = 1; id <= 40; id++) ids.claim(id, now, WINDOW)
    assert.ok(budget.used <= 16, `used ${budget.used}`)
    assert.equal(ids.claim(1, now, WINDOW), null, 'the oldest id was forgotten')
    assert.deepEqual(ids.claim(40, now, WINDOW), { ok: true }, 'the newest id is remembered')
  })

  it('holds at most MAX_SLOTS ids on one connection', () => {
    const ids = new RecentIds({ used: 0, max: 10 * MAX_SLOTS })
    const now = Date.now()
    for (let id = 1; id <= MAX_SLOTS + 10; id++) ids.claim(id, now, WINDOW)
    assert.equal(ids.capacity, MAX_SLOTS)
    assert.equal(ids.claim(1, now, WINDOW), null)
  })

  it('does not confuse a reused slot with an id claimed again after its window', () => {
    const ids = new RecentIds({ used: 0, max: 8 })
    const now = Date.now()
    ids.claim(5, now, 1000)
    ids.claim(5, now + 2000, 1000)
    for (let id = 100; id < 107; id++) ids.claim(id, now + 2000, 1000)
    assert.deepEqual(ids.claim(5, now + 2001, 1000), { ok: true })
  })
})

describe('RecentIds.settle', () => {
  it('keeps the outcome of a failed request for its repeats', () => {
    const ids = new RecentIds({ used: 0, max: 1000 })
    const now = Date.now()
    ids.claim(3, now, WINDOW)
    ids.settle(3, { ok: false, code: 3000, message: 'gone' })
    assert.deepEqual(ids.claim(3, now + 1, WINDOW), { ok: false, code: 3000, message: 'gone' })
  })
})

describe('RecentIds.release', () => {
  it('gives its slots back to the budget', () => {
    const budget = { used: 0, max: 1000 }
    const ids = new RecentIds(budget)
    for (let id = 1; id <= 20; id++) ids.claim(id, 0, WINDOW)
    ids.release()
    assert.equal(budget.used, 0)
  })
})
