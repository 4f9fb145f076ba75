import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { decodeEnvelope, encodeEnvelope, newEnvelopeId, roomToken, SeenIds, subjects, type BusEnvelope } from '../../lib/bus/bus.js'

describe('encodeEnvelope', () => {
  it('round-trips through decodeEnvelope with the frame untouched', () => {
    const envelope: BusEnvelope = { kind: 'room', rooms: ['a'], except: ['n1.x'], frame: '{"message_type":"m","data":"line\\nbreak é"}', id: 'i1', origin: 'n1', traceparent: '00-abc-def-01' }
    assert.deepEqual(decodeEnvelope(encodeEnvelope(envelope)), envelope)
  })

  it('round-trips a kind without a frame', () => {
    const envelope: BusEnvelope = { kind: 'kick', to: 'n2.y', code: 4000, reason: 'bye', id: 'i2', origin: 'n1', traceparent: null }
    assert.deepEqual(decodeEnvelope(encodeEnvelope(envelope)), envelope)
  })
})

describe('decodeEnvelope', () => {
  it('throws on bytes that are not an envelope', () => {
    assert.throws(() => decodeEnvelope(Buffer.from('{"kind":"room"}\n{}')), /without id/)
    assert.throws(() => decodeEnvelope(Buffer.from('not json')))
  })
})

describe('newEnvelopeId', () => {
  it('never repeats within a process', () => {
    const ids = new Set(Array.from({ length: 10_000 }, newEnvelopeId))
    assert.equal(ids.size, 10_000)
  })
})

describe('SeenIds', () => {
  it('answers true the first time an id is offered and false for repeats', () => {
    const seen = new SeenIds(10)
    assert.deepEqual([seen.firstTime('a'), seen.firstTime('a'), seen.firstTime('b')], [true, false, true])
  })

  it('still knows an id one generation later', () => {
    const seen = new SeenIds(2)
    seen.firstTime('a')
    seen.firstTime('b')
    seen.firstTime('c')
    assert.equal(seen.firstTime('a'), false)
  })

  it('forgets an id two generations of maxAgeMs later, however little traffic there was', () => {
    let now = 0
    const seen = new SeenIds(1000, 60_000, () => now)
    seen.firstTime('a')
    now = 60_000
    seen.firstTime('b') // rotates: 'a' is in the previous generation
    assert.equal(seen.firstTime('a'), false, 'remembered for at least maxAgeMs')
    now = 120_000
    seen.firstTime('c') // rotates again: 'a' is dropped
    assert.equal(seen.firstTime('a'), true)
  })
})

describe('subjects', () => {
  it('names the room, node inbox and broadcast subjects under the prefix', () => {
    const s = subjects('p')
    assert.deepEqual([s.room('lobby:1'), s.node('n1'), s.broadcast], ['p.room.lobby:1', 'p.node.n1', 'p.broadcast'])
  })
})

describe('roomToken', () => {
  it('keeps a room id with dots one token, distinct from every plain id', () => {
    const tokens = ['a.b', '..', 'a', 'a-b', 'a_b', 'a:b'].map(roomToken)
    for (const t of tokens) assert.doesNotMatch(t, /\./)
    assert.equal(new Set(tokens).size, tokens.length)
  })
})
