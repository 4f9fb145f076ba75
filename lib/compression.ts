/**
 * permessage-deflate (RFC 7692), where `ws.compression.enabled` is on. Every connection
 * that negotiates it gets `server_no_context_takeover`, so each message the server sends
 * is compressed on its own: a fan-out is then deflated once per window size and the same
 * compressed frame (RSV1 set) written to every recipient, as the uncompressed frame is
 * otherwise (shared-frame.ts). Frames under `ws.compression.threshold` bytes go out
 * uncompressed. `ws.compression.max_memory_mb` bounds the zlib memory of the
 * connections: each is counted at its worst case (a deflate and an inflate stream), and
 * the handshakes past the budget are served without compression.
 */
import type { IncomingMessage } from 'node:http'
import { constants, deflateRawSync } from 'node:zlib'
import type { PerMessageDeflateOptions, WebSocket } from 'ws'
import type { WshubConfig } from './config.js'
import { allocFrame, type SharedFrame } from './shared-frame.js'

/** A compressed server frame: FIN, RSV1 (compressed), opcode 1 (text). */
const FIN_RSV1_TEXT = 0xc1
/** zlib's memLevel for every deflate stream (the default is 8): a quarter of its hash memory for a few percent of ratio on chat-sized messages. */
const MEM_LEVEL = 6
const DEFAULT_WINDOW_BITS = 15
/** The state of ws's sender in which a frame may be written past it (ws 8.18+: 0 = DEFAULT). */
const SENDER_IDLE = 0

type Deflating = WebSocket & {
  _extensions: { 'permessage-deflate'?: { params: { server_max_window_bits?: number; client_max_window_bits?: number } } }
  _sender: { _state: number }
}

/** The zlib memory of one connection at its worst: a deflate stream and an inflate stream of the largest window, and zlib's own state. */
function worstCaseBytes(): number {
  const deflate = (1 << (DEFAULT_WINDOW_BITS + 2)) + (1 << (MEM_LEVEL + 9)) + 6 * 1024
  const inflate = (1 << DEFAULT_WINDOW_BITS) + 7 * 1024
  return deflate + inflate
}

/**
 * The compression of one node's connections.
 *
 * @example
 * ```ts
 * const compression = Compression.from(app.config.ws)   // null when ws.compression.enabled is off
 * new WebSocketServer({ noServer: true, perMessageDeflate: compression?.wsOptions() ?? false })
 * ```
 */
export class Compression {
  /** Connections that negotiated compression now. */
  active = 0
  readonly maxConnections: number

  private constructor(readonly threshold: number, maxMemoryMb: number) {
    this.maxConnections = Math.max(1, Math.floor((maxMemoryMb * 1024 * 1024) / worstCaseBytes()))
    this.onClose = this.onClose.bind(this)
  }

  /** The compression of `ws.compression`, or null when it is off. */
  static from(ws: WshubConfig['ws']): Compression | null {
    return ws.compression.enabled ? new Compression(ws.compression.threshold, ws.compression.max_memory_mb) : null
  }

  /** The `perMessageDeflate` options of ws's server. */
  wsOptions(): PerMessageDeflateOptions {
    return {
      serverNoContextTakeover: true,
      threshold: this.threshold,
      zlibDeflateOptions: { memLevel: MEM_LEVEL },
      // ws's default: at most 10 zlib calls at once, the rest queued.
      concurrencyLimit: 10,
    }
  }

  /** Before the upgrade: past the memory budget, the client's offer is dropped, so it connects uncompressed. */
  admit(req: IncomingMessage): void {
    if (this.active >= this.maxConnections && req.headers['sec-websocket-extensions'] !== undefined) delete req.headers['sec-websocket-extensions']
  }

  /** After the upgrade: the window bits of the server's frames on this socket, or 0 when it negotiated no compression. */
  track(socket: WebSocket): number {
    const params = (socket as Deflating)._extensions['permessage-deflate']?.params
    if (params === undefined) return 0
    this.active++
    socket.once('close', this.onClose)
    return params.server_max_window_bits ?? DEFAULT_WINDOW_BITS
  }

  private onClose(): void {
    this.active--
  }

  /**
   * What to write to a compressing socket for a shared frame: the uncompressed frame under
   * the threshold, the frame deflated once for every socket of that window size above it,
   * or null when ws's sender is still compressing an earlier message of this socket (the
   * frame must queue behind it: `ws.send`, which compresses it for this socket alone).
   */
  wireFor(frame: SharedFrame, socket: WebSocket, bits: number): readonly Buffer[] | null {
    if ((socket as Deflating)._sender._state !== SENDER_IDLE) return null
    if (frame.payload.length < this.threshold) return frame.wire
    // zlib makes a window of 8 bits 9 for raw deflate: the peer could not inflate it.
    if (bits < 9) return null
    const deflated = (frame.deflated ??= new Map())
    let wire = deflated.get(bits)
    if (wire === undefined) deflated.set(bits, (wire = [deflateFrame(frame.payload, bits)] as const))
    return wire
  }
}

/** One compressed text frame: the payload deflated alone, without its sync-flush tail (RFC 7692 section 7.2.1). */
export function deflateFrame(payload: Buffer, windowBits: number): Buffer {
  const flushed = deflateRawSync(payload, { windowBits, memLevel: MEM_LEVEL, finishFlush: constants.Z_SYNC_FLUSH })
  const length = flushed.length - 4
  const bytes = allocFrame(FIN_RSV1_TEXT, length)
  flushed.copy(bytes, bytes.length - length, 0, length)
  return bytes
}
