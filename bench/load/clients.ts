/**
 * The load generator's clients: one shape over two wire protocols. `envelope` speaks
 * the wshub envelope over `ws` (the raw and wshub targets share it, byte for byte);
 * `socketio` speaks Socket.IO through socket.io-client, WebSocket transport only.
 * Frames are recognised by sniffing the type rather than parsing each one, so that the
 * generator spends its CPU on the sockets, not on JSON.
 */
import WebSocket from 'ws'
import { io, type Socket } from 'socket.io-client'
import { monoMs } from '../support/stats.js'

export type Protocol = 'envelope' | 'socketio'

/** What a client reports to its worker. */
export interface Sink {
  reply(client: LoadClient, latencyMs: number): void
  error(): void
  /** A room message arrived that its publisher stamped `sentAtMs` (monotonic clock). */
  delivery(sentAtMs: number): void
  broadcast(): void
  closed(): void
}

export interface LoadClient {
  /** Sends one `ping` request; the reply is reported to the sink with its latency. */
  request(): void
  join(room: string): Promise<void>
  publish(room: string, content: { t: number; p: string }): void
  readonly open: boolean
  close(): void
}

const OPEN_TIMEOUT_MS = 20_000

function sentAt(text: string): number {
  const i = text.indexOf('"t":')
  return i === -1 ? Number.NaN : parseFloat(text.slice(i + 4, i + 32))
}

class EnvelopeClient implements LoadClient {
  private readonly sentTimes: number[] = []
  private nextId = 1
  private joinWaiter: ((frame: string) => void) | null = null

  constructor(private readonly ws: WebSocket, private readonly sink: Sink) {}

  static connect(url: string, localAddress: string | undefined, sink: Sink): Promise<EnvelopeClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, localAddress, handshakeTimeout: OPEN_TIMEOUT_MS })
      const client = new EnvelopeClient(ws, sink)
      let welcomed = false
      ws.on('message', (data: Buffer) => {
        const text = data.toString()
        if (!welcomed) {
          welcomed = true
          if (text.includes('"welcome"')) resolve(client)
          else reject(new Error(`first frame was not a welcome: ${text.slice(0, 200)}`))
          return
        }
        client.onFrame(text)
      })
      ws.on('error', (err) => {
        if (!welcomed) reject(err)
      })
      ws.on('close', (code) => {
        if (!welcomed) reject(new Error(`closed ${code} before the welcome`))
        else sink.closed()
      })
    })
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  private onFrame(text: string): void {
    const head = text.slice(0, 40)
    if (head.includes('"room_message"')) this.sink.delivery(sentAt(text))
    else if (head.includes('"pong"')) this.sink.reply(this, monoMs() - this.sentTimes.shift()!)
    else if (head.includes('"broadcast"')) this.sink.broadcast()
    else if (head.includes('"room_joined"') && this.joinWaiter) this.joinWaiter(text)
    else if (text.includes('"message_type":"error"')) {
      if (this.joinWaiter) this.joinWaiter(text)
      else {
        this.sentTimes.shift()
        this.sink.error()
      }
    }
  }

  request(): void {
    const now = monoMs()
    this.sentTimes.push(now)
    this.ws.send(`{"message_type":"ping","message_id":${this.nextId++},"data":{"ts":${Math.round(now)}}}`)
  }

  join(room: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.joinWaiter = (frame) => {
        this.joinWaiter = null
        if (frame.includes('"room_joined"')) resolve()
        else reject(new Error(`join_room failed: ${frame.slice(0, 200)}`))
      }
      this.ws.send(JSON.stringify({ message_type: 'join_room', message_id: this.nextId++, data: { room_id: room } }))
    })
  }

  publish(room: string, content: { t: number; p: string }): void {
    this.ws.send(JSON.stringify({ message_type: 'room_message', data: { room_id: room, content } }))
  }

  close(): void {
    this.ws.terminate()
  }
}

class SocketIoClient implements LoadClient {
  constructor(private readonly socket: Socket, private readonly sink: Sink) {
    socket.on('room_message', (data: { content: { t: number } }) => sink.delivery(data.content.t))
    socket.on('broadcast', () => sink.broadcast())
  }

  static connect(url: string, localAddress: string | undefined, sink: Sink): Promise<SocketIoClient> {
    return new Promise((resolve, reject) => {
      const options = { transports: ['websocket'], forceNew: true, reconnection: false, timeout: OPEN_TIMEOUT_MS, perMessageDeflate: false, localAddress }
      const socket = io(url, options as unknown as Parameters<typeof io>[1])
      let connected = false
      socket.once('connect', () => {
        connected = true
        resolve(new SocketIoClient(socket, sink))
      })
      socket.once('connect_error', (err) => reject(err))
      socket.on('disconnect', () => {
        if (connected) sink.closed()
      })
    })
  }

  get open(): boolean {
    return this.socket.connected
  }

  request(): void {
    const start = monoMs()
    this.socket.emit('ping', { ts: Math.round(start) }, () => this.sink.reply(this, monoMs() - start))
  }

  join(room: string): Promise<void> {
    return new Promise((resolve) => this.socket.emit('join_room', { room_id: room }, () => resolve()))
  }

  publish(room: string, content: { t: number; p: string }): void {
    this.socket.emit('room_message', { room_id: room, content })
  }

  close(): void {
    this.socket.disconnect()
  }
}

/** Opens one client; resolves once the server greeted it (welcome, or Socket.IO's connect). */
export function connectClient(protocol: Protocol, url: string, localAddress: string | undefined, sink: Sink): Promise<LoadClient> {
  return protocol === 'envelope' ? EnvelopeClient.connect(url, localAddress, sink) : SocketIoClient.connect(url, localAddress, sink)
}
