/**
 * For unit tests of one part of lib/ without an Application: connections over a socket
 * that records what it is sent, and a node's event emitter.
 */
import { EventEmitter } from 'node:events'
import type { WebSocket } from 'ws'
import { Connection, type ConnectionHost, type Identity } from '../../lib/connection.js'
import { SharedFrame } from '../../lib/shared-frame.js'
import type { AppEvents } from '../../lib/events.js'

/** A stand-in for a `ws` socket: records the frames it is sent (parsed) and how it was closed. */
export class RecordingSocket extends EventEmitter {
  readyState = 1
  bufferedAmount = 0
  isPaused = false
  readonly sent: Array<Record<string, any>> = []
  closed: { code: number; reason: string } | null = null
  send(data: string | Buffer): void {
    this.sent.push(JSON.parse(data.toString()))
  }
  // Fan-outs hand ws's sender a frame already framed (lib/shared-frame.ts).
  readonly _sender = { sendFrame: (list: readonly Buffer[]) => this.send(SharedFrame.payloadOf(list[0]!)) }
  close(code: number, reason: string): void {
    this.readyState = 3
    this.closed = { code, reason }
  }
  terminate(): void {
    this.readyState = 3
    this.closed ??= { code: 1006, reason: '' }
  }
  ping(): void {}
}

const host: ConnectionHost = { maxBufferedBytes: Number.POSITIVE_INFINITY, onSlowConsumer() {} }

/** A connection of `nodeId` with the given permissions (every one by default), over a RecordingSocket. */
export function fakeConnection(id: string, nodeId: string, identity: Partial<Identity> = {}): { conn: Connection; socket: RecordingSocket } {
  const socket = new RecordingSocket()
  const full: Identity = { userId: null, username: null, permissions: ['*'], claims: null, expiresAt: null, ...identity }
  const conn = new Connection(id, nodeId, socket as unknown as WebSocket, '127.0.0.1', host, full)
  return { conn, socket }
}

/** The app's events on a plain emitter, as a part emits them. */
export function eventEmitter(): EventEmitter<AppEvents> {
  return new EventEmitter<AppEvents>()
}

