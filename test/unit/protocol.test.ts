import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  EnvelopeError, encodeAck, typeOfFrame, encodeDelivery, encodeError, encodeFrame, isValidMessageId, isValidRoomId, isValidType, parseEnvelope, validateEnvelope, type Envelope,
} from '../../lib/protocol.js'
import { ErrorCode, isAppError } from '../../lib/errors.js'

/** An envelope without its arrival time (a clock reading), which is checked on its own. */
function withoutArrival({ receivedAt, ...rest }: Envelope): Omit<Envelope, 'receivedAt'> {
  assert.equal(typeof receivedAt, 'number')
  return rest
}

function refusal(text: string): EnvelopeError {
  try {
    parseEnvelope(text)
  } catch (err) {
    assert.ok(err instanceof EnvelopeError, `expected an EnvelopeError, got ${String(err)}`)
    return err
  }
  assert.fail(`${text} was accepted`)
}

describe('isValidType', () => {
  it('accepts 1..64 chars of [a-zA-Z0-9_.:-]', () => {
    for (const type of ['a', 'join_room', 'chat.v2:send-now', 'x'.repeat(64)]) assert.equal(isValidType(type), true, type)
  })

  it('refuses empty, too long, other characters and non-strings', () => {
    for (const type of ['', 'x'.repeat(65), 'has space', 'slash/no', 'é', 42, null, undefined]) assert.equal(isValidType(type), false, String(type))
  })
})

describe('isValidRoomId', () => {
  it('accepts 1..128 chars of [a-zA-Z0-9_.:-]', () => {
    assert.equal(isValidRoomId('lobby'), true)
    assert.equal(isValidRoomId('r'.repeat(128)), true)
  })

  it('refuses empty, 129 chars, other characters and non-strings', () => {
    for (const id of ['', 'r'.repeat(129), 'a b', 'a/b', 7, null]) assert.equal(isValidRoomId(id), false, String(id))
  })
})

describe('isValidMessageId', () => {
  it('accepts integers 1..2^53-1 and strings of 1..64 chars', () => {
    for (const id of [1, 42, Number.MAX_SAFE_INTEGER, 'a', 'x'.repeat(64)]) assert.equal(isValidMessageId(id), true, String(id))
  })

  it('refuses 0, negatives, fractions, 2^53, booleans, objects, empty and 65-char strings', () => {
    for (const id of [0, -1, 1.5, 2 ** 53, Infinity, NaN, true, {}, [], '', 'x'.repeat(65)]) assert.equal(isValidMessageId(id), false, JSON.stringify(id))
  })
})

describe('parseEnvelope', () => {
  it('returns the type, the data and the message id of a valid frame', () => {
    assert.deepEqual(withoutArrival(parseEnvelope('{"message_type":"ping","data":{"ts":1},"message_id":7}')), { type: 'ping', data: { ts: 1 }, messageId: 7 })
  })

  it('makes absent data null', () => {
    assert.equal(parseEnvelope('{"message_type":"ping"}').data, null)
  })

  it('treats message_id null as absent', () => {
    assert.equal(parseEnvelope('{"message_type":"ping","message_id":null}').messageId, null)
  })

  it('ignores request_id and timestamp from the client', () => {
    assert.deepEqual(withoutArrival(parseEnvelope('{"message_type":"ping","request_id":"x","timestamp":"y"}')), { type: 'ping', data: null, messageId: null })
  })

  it('refuses malformed JSON with 1001', () => {
    assert.equal(refusal('{"message_type":').code, ErrorCode.InvalidFormat)
  })

  it('refuses arrays, strings, numbers and null with 1001', () => {
    for (const text of ['[]', '"ping"', '42', 'null']) assert.equal(refusal(text).code, ErrorCode.InvalidFormat, text)
  })

  it('refuses a missing or invalid message_type with 1001', () => {
    for (const text of ['{}', '{"message_type":""}', '{"message_type":"a b"}', `{"message_type":"${'x'.repeat(65)}"}`, '{"message_type":5}']) {
      assert.equal(refusal(text).code, ErrorCode.InvalidFormat, text)
    }
  })

  it('carries a valid message_id on a 1001 so the error can answer it', () => {
    assert.equal(refusal('{"message_type":"a b","message_id":"req-1"}').messageId, 'req-1')
  })

  it('refuses a bad message_id with 1002 and no id to answer', () => {
    for (const id of ['0', '-1', '1.5', String(2 ** 53), 'true', '{}', '""', `"${'x'.repeat(65)}"`]) {
      const err = refusal(`{"message_type":"ping","message_id":${id}}`)
      assert.equal(err.code, ErrorCode.InvalidMessageId, id)
      assert.equal(err.messageId, null)
    }
  })
})

describe('validateEnvelope', () => {
  it('validates an already decoded value (a binary codec output)', () => {
    assert.deepEqual(withoutArrival(validateEnvelope({ message_type: 'x', message_id: 'a' })), { type: 'x', data: null, messageId: 'a' })
    assert.throws(() => validateEnvelope('x'), EnvelopeError)
  })
})

describe('encodeFrame', () => {
  it('encodes a frame that parses back to its type and data, data always present', () => {
    assert.deepEqual(JSON.parse(encodeFrame('pong', { ts: 1 })), { message_type: 'pong', data: { ts: 1 } })
    assert.deepEqual(JSON.parse(encodeFrame('x', undefined)), { message_type: 'x', data: null })
  })

  it('refuses a type that is not a valid message_type, rather than send broken JSON', () => {
    for (const type of ['a"b', 'back\\slash', '', 'x'.repeat(65)]) assert.throws(() => encodeFrame(type, null), TypeError, type)
    assert.throws(() => encodeDelivery('a"b', null, 1), TypeError)
  })

  it('carries request_id as the same JSON type as the message_id', () => {
    assert.equal(JSON.parse(encodeFrame('pong', null, 12)).request_id, 12)
    assert.equal(JSON.parse(encodeFrame('pong', null, 'a"b')).request_id, 'a"b')
  })

  it('fails with 1001 on data nested too deeply to encode, which JSON.parse took from a client', () => {
    const deep = JSON.parse(`${'['.repeat(15_000)}${']'.repeat(15_000)}`)
    assert.throws(() => encodeFrame('echo', { content: deep }), (err: unknown) => isAppError(err) && err.code === ErrorCode.InvalidFormat)
    assert.throws(() => encodeDelivery('room_message', { content: deep }, 1), (err: unknown) => isAppError(err) && err.code === ErrorCode.InvalidFormat)
  })

  it('still throws data JSON cannot carry at all (a cycle, a BigInt) as it is: a server bug, not the client\'s', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    assert.throws(() => encodeFrame('x', cycle), TypeError)
    assert.throws(() => encodeFrame('x', { n: 1n }), TypeError)
  })
})

describe('encodeDelivery', () => {
  it('carries the timestamp', () => {
    assert.deepEqual(JSON.parse(encodeDelivery('room_message', { a: 1 }, 123)), { message_type: 'room_message', data: { a: 1 }, timestamp: 123 })
  })
})

describe('encodeError', () => {
  it('encodes code and message, details only when given', () => {
    assert.deepEqual(JSON.parse(encodeError(3003, 'not in room', undefined, 5)), { message_type: 'error', request_id: 5, data: { code: 3003, message: 'not in room' } })
    assert.deepEqual(JSON.parse(encodeError(1005, 'slow down', { retry_after_ms: 10 }, null)).data, { code: 1005, message: 'slow down', details: { retry_after_ms: 10 } })
  })
})

describe('encodeAck', () => {
  it('encodes the ack of a request, with duplicate when asked', () => {
    assert.deepEqual(JSON.parse(encodeAck('m1')), { message_type: 'ack', request_id: 'm1', data: { status: 'ok' } })
    assert.deepEqual(JSON.parse(encodeAck(3, true)).data, { status: 'ok', duplicate: true })
  })
})

describe('typeOfFrame', () => {
  it('reads the message_type of an encoded frame, string or bytes', () => {
    assert.equal(typeOfFrame(encodeFrame('pong', { ts: 1 }, 3)), 'pong')
    assert.equal(typeOfFrame(Buffer.from(encodeDelivery('room_message', { a: '"x"' }, 1))), 'room_message')
    assert.equal(typeOfFrame(encodeAck('m')), 'ack')
    assert.equal(typeOfFrame(encodeError(1001, 'bad', undefined, null)), 'error')
    assert.equal(typeOfFrame(encodeFrame('x'.repeat(64), null)), 'x'.repeat(64))
  })
})
