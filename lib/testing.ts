/**
 * Runs frames through an app's chain without sockets: fast unit tests of middleware and
 * handlers. The app is used as it is (its chain, routes, rooms and memory state); each
 * test connection records the frames the app sends it.
 *
 * @example
 * ```ts
 * import { createApp } from 'wshub'
 * import { testHarness } from 'wshub/testing'
 * const app = createApp({}, { defaults: false })
 * app.route('echo', (ctx) => ctx.reply('echo_reply', ctx.data))
 * const harness = await testHarness(app)
 * const client = harness.connect()
 * const [reply] = await client.send({ message_type: 'echo', data: 42, message_id: 1 })
 * // reply → { message_type: 'echo_reply', request_id: 1, data: 42 }
 * ```
 */
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { Application } from './application.js'
import { Connection, type Identity } from './connection.js'
import { clientRecordOf } from './clients.js'
import { EnvelopeError, validateEnvelope } from './protocol.js'
import { SharedFrame } from './shared-frame.js'

/** A frame as a test sees it. */
export interface SentFrame {
  message_type: string
  data: any
  request_id?: number | string
  timestamp?: number
}

/** A stand-in for a `ws` socket that records what is sent to it (and how it was closed). */
export class RecordingSocket extends EventEmitter {
  readyState = 1
  bufferedAmount = 0
  isPaused = false
  readonly sent: SentFrame[] = []
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

export interface TestConnection {
  readonly connection: Connection
  /** Every frame sent to this connection so far. */
  readonly sent: SentFrame[]
  /** How it was closed, if it was. */
  readonly closed: { code: number; reason: string } | null
  /** Runs one frame (an object, as a client would send it) through the chain; resolves to the frames it caused for this connection. */
  send(frame: Record<string, unknown>): Promise<SentFrame[]>
}

export interface TestHarness {
  /** A connection with an identity (anonymous with `auth.anonymous_permissions` by default). */
  connect(identity?: Partial<Identity>): TestConnection
}

const host = { maxBufferedBytes: Number.POSITIVE_INFINITY, onSlowConsumer() {} }

/** Starts the app's cluster link (no HTTP listener) and returns a harness for it. */
export async function testHarness(app: Application): Promise<TestHarness> {
  await app.link.start()
  return {
    connect(identity = {}) {
      const socket = new RecordingSocket()
      const full: Identity = {
        userId: null,
        username: null,
        permissions: app.config.auth.anonymous_permissions,
        claims: null,
        expiresAt: null,
        ...identity,
      }
      const id = `${app.nodeId}.${randomBytes(6).toString('base64url')}`
      const connection = new Connection(id, app.nodeId, socket as unknown as WebSocket, '127.0.0.1', host, full)
      app.server.connections.set(id, connection)
      // Known to the cluster state as a real connection is (an `auth` updates its record there).
      void app.state.addClient(clientRecordOf(connection)).catch((err) => app.link.stateMissed(err))
      return {
        connection,
        sent: socket.sent,
        get closed() {
          return socket.closed
        },
        async send(frame) {
          const before = socket.sent.length
          try {
            await app.dispatch(connection, validateEnvelope(frame))
          } catch (err) {
            if (!(err instanceof EnvelopeError)) throw err
            app.reject(connection, err.code, err.message, err.messageId)
          }
          return socket.sent.slice(before)
        },
      }
    },
  }
}
