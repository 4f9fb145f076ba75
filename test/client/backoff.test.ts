import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { backoffDelay } from '../../lib/client/backoff.js'

describe('backoffDelay', () => {
  const options = { baseMs: 100, maxMs: 1000 }

  it('doubles the ceiling with every attempt', () => {
    const nearlyOne = () => 0.999999
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(n, options, nearlyOne)), [99, 199, 399, 799])
  })

  it('never exceeds maxMs, however many attempts', () => {
    for (const attempt of [5, 10, 60, 5000]) assert.ok(backoffDelay(attempt, options, () => 0.999999) < 1000, `attempt ${attempt}`)
  })

  it('spreads delays over the whole window (full jitter)', () => {
    assert.equal(backoffDelay(3, options, () => 0), 0)
    assert.equal(backoffDelay(3, options, () => 0.5), 200)
  })

  it('stays within the window even when the random source misbehaves', () => {
    assert.ok(backoffDelay(2, options, () => 7) < 200)
    assert.equal(backoffDelay(2, options, () => -1), 0)
  })

  it('uses a 500 ms base and a 20 s cap by default', () => {
    assert.equal(backoffDelay(1, {}, () => 0.5), 250)
    assert.equal(backoffDelay(100, {}, () => 0.5), 10000)
  })
})
