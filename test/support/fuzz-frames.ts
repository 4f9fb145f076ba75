/**
 * Hostile frames for the frame-path fuzzers: a seeded mutation fuzzer over valid
 * envelopes, fast-check arbitraries for the property-based tests, and the oracle that
 * says, from PROTOCOL.md section 2 alone, what a node must answer to a given frame.
 * Shared by test/integration/frame-fuzz.test.ts and bench/reliability/fuzz.ts.
 */
import fc from 'fast-check'

/** What PROTOCOL.md says a frame must get. */
export type Expectation =
  /** Invalid UTF-8 in a text frame: close 1007. */
  | { kind: 'close'; code: 1007 | 1009 }
  /** Refused at the envelope: error `code`, with `request_id` when the frame's own id was valid. */
  | { kind: 'envelope'; code: 1001 | 1002; id: number | string | null }
  /** A valid request: exactly one terminal reply carrying `request_id` = id. */
  | { kind: 'request'; id: number | string }
  /** A valid frame without message_id: a reply only where the type names one, or an error. */
  | { kind: 'notice' }

/** One frame to send: its bytes, and whether it goes as a binary frame. */
export interface FuzzFrame {
  bytes: Buffer
  binary: boolean
}

const TYPE = /^[a-zA-Z0-9_.:-]{1,64}$/
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function validId(id: unknown): boolean {
  if (typeof id === 'number') return Number.isInteger(id) && id >= 1 && id <= Number.MAX_SAFE_INTEGER
  return typeof id === 'string' && id.length >= 1 && id.length <= 64
}

/** The answer PROTOCOL.md requires for a frame, on a node whose max payload is `maxPayload`. */
export function expectationOf(frame: FuzzFrame, maxPayload: number): Expectation {
  if (frame.bytes.length > maxPayload) return { kind: 'close', code: 1009 }
  if (frame.binary) return { kind: 'envelope', code: 1001, id: null }
  let text: string
  try {
    text = strictUtf8.decode(frame.bytes)
  } catch {
    return { kind: 'close', code: 1007 }
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { kind: 'envelope', code: 1001, id: null }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { kind: 'envelope', code: 1001, id: null }
  const { message_id: id, message_type: type } = raw as Record<string, unknown>
  const absent = id === undefined || id === null
  const idOk = absent || validId(id)
  if (typeof type !== 'string' || !TYPE.test(type)) return { kind: 'envelope', code: 1001, id: idOk && !absent ? (id as number | string) : null }
  if (!idOk) return { kind: 'envelope', code: 1002, id: null }
  return absent ? { kind: 'notice' } : { kind: 'request', id: id as number | string }
}

/** A small seeded PRNG (mulberry32), so a failing fuzz run can be replayed from its seed. */
export class Random {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

const ROOMS = ['fuzz-a', 'fuzz-b', 'fuzz.c:d', 'x'.repeat(128)]

/** Values of every JSON type, and the edge cases of each, to put where a field of another type belongs. */
export const HOSTILE_VALUES: readonly unknown[] = [
  null, true, false, 0, -0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, Number.MIN_VALUE,
  '', ' ', 'x'.repeat(3000), '\u0000', '\ud800', '\udfff', '\ud83d\ude00', '\u202e\u2066', '\ufeff', '\uffff', 'e\u0301'.repeat(50),
  [], [null], [[[[[]]]]], {}, { room_id: 'fuzz-a' }, { length: 1e9 }, { toString: 'x', valueOf: 1 },
  { ['__proto__']: { polluted: true } }, { constructor: { prototype: { polluted: true } } }, { prototype: { polluted: true } },
  'fuzz-a', '__proto__', 'constructor', 'hasOwnProperty',
]

/** The valid envelopes the mutations start from: every built-in type and a few others. */
export function seedEnvelopes(targetId: string): Array<Record<string, unknown>> {
  return [
    { message_type: 'ping', data: { ts: 1 } },
    { message_type: 'join_room', data: { room_id: 'fuzz-a' } },
    { message_type: 'join_room', data: { room_id: 'fuzz-b', since: 0 } },
    { message_type: 'leave_room', data: { room_id: 'fuzz-a' } },
    { message_type: 'room_message', data: { room_id: 'fuzz-a', content: { text: 'hi', n: [1, 2, 3] } } },
    { message_type: 'direct_message', data: { target_id: targetId, content: 'hello' } },
    { message_type: 'room_members', data: { room_id: 'fuzz-a' } },
    { message_type: 'auth', data: { token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln' } },
    { message_type: 'no_such_type', data: null },
    { message_type: 'custom.echo:v1', data: [1, 'two', { three: 3 }] },
  ]
}

function deepNest(depth: number, open: string, close: string, inner: string): string {
  return open.repeat(depth) + inner + close.repeat(depth)
}

/** Sets an own property, even one named `__proto__` (an assignment would set the prototype instead). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true })
}

/** Replaces one field (of the envelope or of its data) with a hostile value, or adds a field. */
function mutateField(random: Random, envelope: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...envelope }
  const data = typeof out.data === 'object' && out.data !== null && !Array.isArray(out.data) ? { ...(out.data as Record<string, unknown>) } : null
  const value = random.pick(HOSTILE_VALUES)
  const where = random.int(data === null ? 4 : 7)
  if (where === 0) out.message_type = value
  else if (where === 1) out.message_id = value
  else if (where === 2) out.data = value
  else if (where === 3) define(out, random.pick(['__proto__', 'constructor', 'prototype', 'request_id', 'timestamp', 'extra']), value)
  else {
    const keys = Object.keys(data!)
    const key = where === 6 || keys.length === 0 ? random.pick(['__proto__', 'constructor', 'since', 'room_id', 'content', 'token', 'target_id']) : random.pick(keys)
    define(data!, key, value)
    out.data = data
  }
  return out
}

function withId(random: Random, envelope: Record<string, unknown>, nextId: () => number | string): Record<string, unknown> {
  const roll = random.int(10)
  if (roll < 6) return { ...envelope, message_id: nextId() }
  if (roll < 7) return { ...envelope, message_id: null }
  return envelope
}

/** Text mutations that keep the bytes valid UTF-8 unless the mutation is about bytes. */
function mutateText(random: Random, text: string, maxPayload: number): FuzzFrame {
  const at = random.int(text.length + 1)
  switch (random.int(12)) {
    case 0: {
      // A bit flip in the UTF-8 bytes: may leave invalid UTF-8 (close 1007).
      const bytes = Buffer.from(text)
      const i = random.int(bytes.length)
      bytes[i] = bytes[i]! ^ (1 << random.int(8))
      return { bytes, binary: false }
    }
    case 1: {
      // A bit flip that keeps the byte ASCII, so the frame stays valid UTF-8.
      const bytes = Buffer.from(text)
      const i = random.int(bytes.length)
      if (bytes[i]! < 0x80) bytes[i] = bytes[i]! ^ (1 << random.int(7))
      return { bytes, binary: false }
    }
    case 2:
      return text8(text.slice(0, at))
    case 3:
      return text8(text.slice(0, at) + text.slice(at + 1 + random.int(8)))
    case 4:
      return text8(text.slice(0, at) + random.pick(['"', '\\', '{', '}', '[', ']', ',', ':', '\u0000', 'null', '\ud800', '\\ud800', '\\u0000', '1e999', '-', '\n']) + text.slice(at))
    case 5:
      return text8(text.slice(0, at) + text.slice(random.int(text.length)))
    case 6: {
      const depth = 1 + random.int(Math.min(20_000, (maxPayload - text.length) / 2 - 10))
      const nested = random.chance(0.5) ? deepNest(depth, '[', ']', '1') : deepNest(depth, '{"a":', '}', '1')
      return text8(text.replace(/"data":/, `"data":${nested},"was":`))
    }
    case 7:
      return text8(text.replace(/"data":/, `"data":${random.pick(['1e309', '-1e309', '123456789012345678901234567890', '0.' + '0'.repeat(400) + '1', '9'.repeat(1000), '-0', '1E-400'])},"was":`))
    case 8: {
      const size = random.int(Math.max(1, maxPayload - text.length - 100))
      return text8(text.replace(/"data":/, `"data":"${'\u00e9'.repeat(size >> 2)}",` + '"was":'))
    }
    case 9:
      return { bytes: Buffer.from(text), binary: true }
    case 10: {
      // Raw bytes that are never UTF-8: lone surrogates as CESU-8, overlongs, stray continuation bytes.
      const bad = random.pick([[0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x80], [0xff], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]])
      const bytes = Buffer.from(text)
      const i = random.int(bytes.length)
      return { bytes: Buffer.concat([bytes.subarray(0, i), Buffer.from(bad), bytes.subarray(i)]), binary: false }
    }
    default:
      return text8(text + text.slice(random.int(text.length)))
  }
}

function text8(text: string): FuzzFrame {
  return { bytes: Buffer.from(text), binary: false }
}

/**
 * Endless mutated frames from a seed: valid envelopes with field-level mutations (every
 * type of value in every field, prototype keys) and text/byte-level mutations (bit flips,
 * truncation, deep nesting, huge numbers and strings, invalid UTF-8, binary frames).
 * `oversize` frames are rare and only made when asked for.
 */
export function* mutatedFrames(seed: number, targetId: string, maxPayload: number, nextId: () => number | string): Generator<FuzzFrame> {
  const random = new Random(seed)
  const seeds = seedEnvelopes(targetId)
  for (;;) {
    let envelope = withId(random, random.pick(seeds), nextId)
    const fieldMutations = random.int(3)
    for (let i = 0; i < fieldMutations; i++) envelope = mutateField(random, envelope)
    const text = JSON.stringify(envelope)
    yield random.chance(0.55) ? mutateText(random, text, maxPayload) : text8(text)
  }
}

/** A frame just over the payload limit (close 1009). */
export function oversizeFrame(maxPayload: number): FuzzFrame {
  return text8(JSON.stringify({ message_type: 'ping', data: 'x'.repeat(maxPayload) }))
}

// fast-check arbitraries, for the property-based tests.

const hostile = fc.constantFrom(...HOSTILE_VALUES)
const anyJson = fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 4 }), hostile, fc.string({ unit: 'binary', maxLength: 40 }))
const roomId = fc.oneof(fc.constantFrom(...ROOMS), fc.string({ unit: 'binary', maxLength: 130 }), hostile)
/** Any message_id, valid or not; `fresh` gives the valid ones, unique per run. */
const messageId = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant('fresh-int'),
  fc.constant('fresh-string'),
  fc.constantFrom(0, -1, 1.5, 2 ** 53, '', 'y'.repeat(65), true, [], {}, '\ud800'),
)
const messageType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('ping', 'join_room', 'leave_room', 'room_message', 'direct_message', 'room_members', 'auth', 'custom_type') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 70 }) },
  { weight: 1, arbitrary: hostile },
)
const data = fc.oneof(
  fc.record(
    { room_id: roomId, content: anyJson, since: fc.oneof(fc.nat(), fc.integer(), hostile), target_id: fc.oneof(fc.string(), hostile), token: fc.oneof(fc.string(), hostile), ts: anyJson },
    { requiredKeys: [] },
  ),
  anyJson,
)

/** An envelope-shaped object with any field of any type; `message_id` may be a `fresh-*` placeholder. */
export const envelopeArbitrary = fc.record(
  { message_type: messageType, data, message_id: messageId, request_id: anyJson },
  { requiredKeys: ['message_type'] },
)

/** Any frame: a hostile envelope, arbitrary JSON, arbitrary text, or arbitrary bytes. */
export const frameArbitrary = fc.oneof(
  { weight: 8, arbitrary: envelopeArbitrary.map((e) => ({ envelope: e as Record<string, unknown>, text: null, bytes: null })) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ envelope: null, text, bytes: null })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ envelope: null, text, bytes: null })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ envelope: null, text: null, bytes: Buffer.from(bytes) })) },
)

export type ArbitraryFrame = { envelope: Record<string, unknown> | null; text: string | null; bytes: Buffer | null }

/** Turns a generated frame into bytes, filling `fresh-*` ids with unique valid ones. */
export function encodeArbitrary(frame: ArbitraryFrame, nextInt: () => number, nextString: () => string): FuzzFrame {
  if (frame.bytes !== null) return { bytes: frame.bytes, binary: frame.bytes.length % 2 === 0 }
  if (frame.text !== null) return text8(frame.text)
  const envelope = { ...frame.envelope! }
  if (envelope.message_id === 'fresh-int') envelope.message_id = nextInt()
  else if (envelope.message_id === 'fresh-string') envelope.message_id = nextString()
  return text8(JSON.stringify(envelope))
}
