import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Histogram, linearFit, median } from '../../../bench/support/stats.js'
import { split } from '../../../bench/support/targets.js'

function within(actual: number, expected: number, share: number): void {
  assert.ok(Math.abs(actual - expected) <= share * expected, `${actual} is not within ${share * 100} % of ${expected}`)
}

describe('Histogram', () => {
  it('gives percentiles within 2 % of the exact values', () => {
    const h = new Histogram()
    for (let i = 1; i <= 10_000; i++) h.record(i / 100)
    within(h.percentile(0.5), 50, 0.02)
    within(h.percentile(0.99), 99, 0.02)
  })

  it('merges what another histogram serialised, as if recorded in one', () => {
    const a = new Histogram()
    const b = new Histogram()
    const both = new Histogram()
    for (let i = 0; i < 500; i++) {
      a.record(1 + i)
      both.record(1 + i)
      b.record(1000 + i)
      both.record(1000 + i)
    }
    const merged = new Histogram().merge(a.toJSON()).merge(b.toJSON())
    assert.equal(merged.count, 1000)
    assert.equal(merged.percentile(0.25), both.percentile(0.25))
    assert.equal(merged.percentile(0.99), both.percentile(0.99))
  })

  it('forgets every sample on reset', () => {
    const h = new Histogram()
    h.record(5)
    h.reset()
    assert.equal(h.count, 0)
    assert.ok(Number.isNaN(h.percentile(0.5)))
  })
})

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones, ignoring NaN', () => {
    assert.equal(median([3, 1, 2]), 2)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.equal(median([Number.NaN, 7]), 7)
  })
})

describe('linearFit', () => {
  it('finds the slope and intercept of points on a line, with r² of 1', () => {
    const fit = linearFit([[5000, 100 + 5000 * 4], [10000, 100 + 10000 * 4], [20000, 100 + 20000 * 4]])
    within(fit.slope, 4, 1e-9)
    within(fit.intercept, 100, 1e-9)
    within(fit.r2, 1, 1e-9)
  })
})

describe('split', () => {
  it('splits a total into shares that differ by at most one and add up to it', () => {
    assert.deepEqual(split(10, 3), [4, 3, 3])
    assert.deepEqual(split(2, 4), [1, 1, 0, 0])
  })
})
