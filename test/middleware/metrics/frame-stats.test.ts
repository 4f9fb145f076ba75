import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DURATION_BUCKETS, FrameStats, MAX_LABEL_VALUES, TypeStats } from '../../../middleware/metrics/frame-stats.js'

describe('TypeStats.observe', () => {
  it('counts each duration in the first bucket whose bound it does not pass, and +Inf past the last', () => {
    const stats = new TypeStats('ping')
    stats.observe(DURATION_BUCKETS[0]!)
    stats.observe(0.003)
    stats.observe(60)
    assert.equal(stats.buckets[0], 1)
    assert.equal(stats.buckets[DURATION_BUCKETS.indexOf(0.005)], 1)
    assert.equal(stats.buckets[DURATION_BUCKETS.length], 1)
    assert.equal(stats.count, 3)
    assert.ok(Math.abs(stats.sum - (DURATION_BUCKETS[0]! + 0.003 + 60)) < 1e-9)
  })
})

describe('FrameStats.inbound', () => {
  it('keeps one record per routed type and counts unrouted types as other', () => {
    const stats = new FrameStats((type) => type === 'ping')
    assert.equal(stats.inbound('ping'), stats.inbound('ping'))
    assert.equal(stats.inbound('ping').type, 'ping')
    assert.equal(stats.inbound('nope').type, 'other')
  })

  it('counts a type under its own name once a route for it is added', () => {
    const routed = new Set<string>()
    const stats = new FrameStats((type) => routed.has(type))
    assert.equal(stats.inbound('late').type, 'other')
    routed.add('late')
    assert.equal(stats.inbound('late').type, 'late')
  })

  it('counts types past the label bound as other', () => {
    const stats = new FrameStats(() => true)
    for (let i = 0; i < MAX_LABEL_VALUES + 10; i++) stats.inbound(`t${i}`)
    assert.ok(stats.in.size <= MAX_LABEL_VALUES, `size ${stats.in.size}`)
    assert.equal(stats.inbound(`t${MAX_LABEL_VALUES + 5}`).type, 'other')
  })
})

describe('FrameStats.sent', () => {
  it('counts frames by the type they carry and their bytes, strings and Buffers alike', () => {
    const stats = new FrameStats(() => true)
    const fanOut = Buffer.from('{"message_type":"room_message","data":{"é":1}}')
    stats.sent('{"message_type":"pong","data":{"é":1}}')
    stats.sent(fanOut)
    stats.sent(fanOut)
    assert.equal(stats.out.get('pong')!.frames, 1)
    assert.equal(stats.out.get('room_message')!.frames, 2)
    assert.equal(stats.bytesOut, Buffer.byteLength('{"message_type":"pong","data":{"é":1}}') + 2 * fanOut.length)
  })
})
