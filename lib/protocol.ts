/**
 * The wire envelope of PROTOCOL.md section 2: parsing and validating inbound frames
 * once, and encoding outbound ones without building an object per frame.
 */
import { AppError, ErrorCode } from './errors.js'

/** A client's request id: a safe positive integer or a string of 1..64 chars. */
export type MessageId = number | string

/** What a valid inbound frame carries. */
export interface Envelope {
  type: string
  data: unknown
  messageId: MessageId | null
  /** `performance.now()` when the frame arrived (it may wait in its connection's backlog before it runs). */
  receivedAt: number
}

const TYPE_PATTERN = /^[a-zA-Z0-9_.:-]{1,64}$/
const ROOM_PATTERN = /^[a-zA-Z0-9_.:-]{1,128}$/

/** True for a valid `message_type` (1..64 chars of `[a-zA-Z0-9_.:-]`). */
export function isValidType(type: unknown): type is string {
  return typeof type === 'string' && TYPE_PATTERN.test(type)
}

/** True for a valid room id (1..128 chars of `[a-zA-Z0-9_.:-]`). */
export function isValidRoomId(id: unknown): id is string {
  return typeof id === 'string' && ROOM_PATTERN.test(id)
}

/** The room id when it is valid; fails with 1001 otherwise (what `app.to(room)` and every room message check). */
export function checkRoomId(roomId: unknown): string {
  if (!isValidRoomId(roomId)) throw new AppError(ErrorCode.InvalidFormat, 'room_id must be 1..128 chars of [a-zA-Z0-9_.:-]')
  return roomId
}

/** True for a valid `message_id`: integer 1..2^53-1 or a string of 1..64 chars. */
export function isValidMessageId(id: unknown): id is MessageId {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 1
  return typeof id === 'string' && id.length >= 1 && id.length <= 64
}

/**
 * A frame refused by the envelope check. `messageId` is set when the frame's own id was
 * valid, so that the error can still answer it.
 */
export class EnvelopeError extends AppError {
  readonly messageId: MessageId | null
  constructor(code: ErrorCode, message: string, messageId: MessageId | null) {
    super(code, message)
    this.messageId = messageId
  }
}

/**
 * Parses and validates one text frame. Throws an {@link EnvelopeError} (1001 or 1002)
 * for anything the protocol refuses.
 */
export function parseEnvelope(text: string): Envelope {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new EnvelopeError(ErrorCode.InvalidFormat, 'frame is not valid JSON', null)
  }
  return validateEnvelope(raw)
}

/** Validates a decoded frame (from JSON text or a binary codec) as an envelope. */
export function validateEnvelope(raw: unknown): Envelope {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EnvelopeError(ErrorCode.InvalidFormat, 'frame must be a JSON object', null)
  }
  const frame = raw as Record<string, unknown>
  const id = frame.message_id
  const idOk = id === undefined || id === null || isValidMessageId(id)
  const messageId = idOk && id !== undefined && id !== null ? (id as MessageId) : null
  const type = frame.message_type
  if (!isValidType(type)) {
    const why = type === undefined ? 'message_type is required' : 'message_type must be 1..64 chars of [a-zA-Z0-9_.:-]'
    throw new EnvelopeError(ErrorCode.InvalidFormat, why, messageId)
  }
  if (!idOk) {
    throw new EnvelopeError(ErrorCode.InvalidMessageId, 'message_id must be an integer 1..2^53-1 or a string of 1..64 chars', null)
  }
  const data = frame.data
  return { type, data: data === undefined ? null : data, messageId, receivedAt: performance.now() }
}

// Outbound encoding. `type` is written into the frame unescaped, so it is checked against
// the message_type pattern (no quote or backslash can pass it); only `data` and a string
// `request_id` go through JSON.stringify.

/** Throws a TypeError for a type a client could not read back: ctx.reply('a"b') would send broken JSON. */
function checkOutboundType(type: string): void {
  if (!TYPE_PATTERN.test(type)) throw new TypeError(`message type ${JSON.stringify(type)} must be 1..64 chars of [a-zA-Z0-9_.:-]`)
}

function encodeRequestId(id: MessageId): string {
  return typeof id === 'number' ? String(id) : JSON.stringify(id)
}

/**
 * The JSON text of a frame's `data` (`null` when undefined). Data nested deeper than the
 * encoder's stack allows (JSON.parse takes any depth, JSON.stringify does not) fails with
 * 1001: such data comes from a client's frame, and must not reach the error log as a 1003.
 * Found where the RangeError arises, so no frame pays for a walk of its data.
 */
export function encodeData(data: unknown): string {
  if (data === undefined) return 'null'
  try {
    return JSON.stringify(data) ?? 'null'
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) throw new AppError(ErrorCode.InvalidFormat, 'data is nested too deeply to be encoded again')
    throw err
  }
}

/** Encodes a server → client frame, with `request_id` when it answers a request. */
export function encodeFrame(type: string, data: unknown, requestId: MessageId | null = null): string {
  checkOutboundType(type)
  if (requestId === null) return `{"message_type":"${type}","data":${encodeData(data)}}`
  return `{"message_type":"${type}","request_id":${encodeRequestId(requestId)},"data":${encodeData(data)}}`
}

/** Encodes a delivery frame that carries the server's `timestamp` (room, direct, broadcast). */
export function encodeDelivery(type: string, data: unknown, timestamp: number): string {
  checkOutboundType(type)
  return `{"message_type":"${type}","data":${encodeData(data)},"timestamp":${timestamp}}`
}

/** Encodes an `error` frame. */
export function encodeError(code: number, message: string, details: unknown, requestId: MessageId | null): string {
  const payload = details === undefined ? { code, message } : { code, message, details }
  return encodeFrame('error', payload, requestId)
}

const TYPE_START = '{"message_type":"'.length

/**
 * The `message_type` of a frame this module encoded (they all start with it), read
 * without parsing the frame; for debug logs of outbound frames.
 */
export function typeOfFrame(frame: string | Buffer): string {
  const head = typeof frame === 'string' ? frame.slice(TYPE_START, TYPE_START + 65) : frame.toString('utf8', TYPE_START, TYPE_START + 65)
  const end = head.indexOf('"')
  return end === -1 ? head : head.slice(0, end)
}

const ACK_DATA = '{"status":"ok"}'
const DUPLICATE_ACK_DATA = '{"status":"ok","duplicate":true}'

/** Encodes an `ack` for a request, `duplicate` when it was a repeat. */
export function encodeAck(requestId: MessageId, duplicate = false): string {
  return `{"message_type":"ack","request_id":${encodeRequestId(requestId)},"data":${duplicate ? DUPLICATE_ACK_DATA : ACK_DATA}}`
}
