import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { slope, soakSvg } from '../../../bench/reliability/plot.js'

describe('slope', () => {
  it('is the least-squares slope of the points', () => {
    assert.equal(slope([[0, 1], [1, 3], [2, 5]]), 2)
    assert.ok(Math.abs(slope([[0, 0], [1, 1], [2, 1], [3, 2]]) - 0.6) < 1e-12)
  })

  it('is NaN for fewer than two points or a single x', () => {
    assert.ok(Number.isNaN(slope([[1, 1]])))
    assert.ok(Number.isNaN(slope([[1, 1], [1, 2]])))
  })
})

describe('soakSvg', () => {
  it('draws one path per series with its name in the legend, in a well-formed svg element', () => {
    const svg = soakSvg('t', [{ name: 'rss', color: '#000', points: [[0, 1], [60, 2]] }], [{ name: 'loop', color: '#111', points: [[0, 5], [60, 6]] }])
    assert.match(svg, /^<svg [^>]*>[\s\S]*<\/svg>\n$/)
    assert.equal(svg.match(/<path /g)?.length, 2)
    assert.ok(svg.includes('>rss<') && svg.includes('>loop<'))
  })
})
