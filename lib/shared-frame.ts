/**
 * A frame sent to many clients at once (a room fan-out, a broadcast): the WebSocket frame
 * is built once, header and payload in one buffer, and every recipient's socket gets that
 * buffer as one write. `ws.send` would frame the payload again for each recipient and
 * write header and payload as two chunks (a `writev`). Socket.IO does the same for its
 * broadcasts (`wsPreEncodedFrame`), following ws's own advice (websockets/ws#617).
 *
 * Valid only where ws would write the frame as it is: no per-message compression, and
 * nothing queued in ws's sender (it queues only while it compresses or reads a Blob).
 * Where `ws.compression` is on, compression.ts writes the frame deflated once instead,
 * and falls back to `ws.send` for a socket whose sender is busy.
 */

/** A server frame: FIN set, opcode 1 (text), unmasked (RFC 6455 section 5.2). */
const FIN_TEXT = 0x81

/**
 * A buffer for one unmasked server frame of `length` payload bytes, its header written
 * (`firstByte`: FIN, RSV1 and the opcode); the payload goes after the header, at
 * `buffer.length - length`.
 */
export function allocFrame(firstByte: number, length: number): Buffer {
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10
  const bytes = Buffer.allocUnsafe(headerLength + length)
  bytes[0] = firstByte
  if (headerLength === 2) bytes[1] = length
  else if (headerLength === 4) {
    bytes[1] = 126
    bytes.writeUInt16BE(length, 2)
  } else {
    bytes[1] = 127
    bytes.writeBigUInt64BE(BigInt(length), 2)
  }
  return bytes
}

export class SharedFrame {
  /** The envelope's bytes (a view into `wire`): what `frame_out` and the history see. */
  readonly payload: Buffer
  /** The whole WebSocket frame, as the one-chunk list ws's sender writes. */
  readonly wire: readonly [Buffer]
  /** The frame compressed once per window size, made by compression.ts for the compressing sockets that get it. */
  deflated: Map<number, readonly [Buffer]> | null = null

  constructor(envelope: string) {
    const length = Buffer.byteLength(envelope)
    const bytes = allocFrame(FIN_TEXT, length)
    const headerLength = bytes.length - length
    bytes.write(envelope, headerLength, 'utf8')
    this.wire = [bytes]
    this.payload = bytes.subarray(headerLength)
  }

  /** The payload of a frame this class built (for stand-ins of a socket, as in `wshub/testing`). */
  static payloadOf(wire: Buffer): Buffer {
    const lengthByte = wire[1]!
    return wire.subarray(lengthByte < 126 ? 2 : lengthByte === 126 ? 4 : 10)
  }
}
