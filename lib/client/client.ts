/**
 * The wshub client: one logical connection that survives reconnects. It reconnects with
 * bounded, jittered backoff, rejoins its rooms asking for what it missed, retries
 * requests whose reply was lost, keeps sends made while offline in a bounded queue, and
 * takes a server that went silent for dead.
 */
import { isValidRoomId, isValidType } from '../protocol.js'
import { backoffDelay } from './backoff.js'
import { Emitter } from './emitter.js'
import { ClientError, WshubError } from './errors.js'
import { Requests, type PendingRequest, type RetryPolicy } from './requests.js'
import { RoomTracker } from './room-tracker.js'
import { isNodeWs, onServerPing, openSocket, refusedStatus, resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from './transport.js'
import { Watchdog, defaultMargin } from './watchdog.js'
import type { ClientEvents, ClientOptions, ConnectionState, Frame, Joined, Member, MessageHandler, Welcome } from './types.js'

/** Close code the server sends on a kick: reconnecting would undo the kick. */
const KICKED = 4000
const CONNECT_TIMEOUT_MS = 10_000
const CLIENT_EVENTS = new Set(['connecting', 'open', 'closed', 'reconnecting', 'rejoined', 'rejoin_failed'])

/** Options of one request. */
export interface RequestOptions {
  /** ms to wait for the reply before rejecting with code 1004. Default: the client's `requestTimeoutMs`. */
  timeout?: number
}

/**
 * @example
 * ```ts
 * import { WshubClient } from 'wshub/client'
 * const client = new WshubClient('wss://chat.example.com/ws', { token: () => fetchToken() })
 * client.on('room_message', (data) => render(data))
 * client.on('rejoined', ({ room, recovered }) => { if (!recovered) reload(room) })
 * await client.connect()
 * await client.join('lobby', { since: 0 })          // with history: replays what the room kept
 * await client.publish('lobby', { text: 'hello' })  // resolves on the server's ack
 * ```
 */
export class WshubClient extends Emitter {
  readonly url: string
  private readonly options: ClientOptions
  private readonly queueLimit: number
  private readonly requestTimeoutMs: number
  private stateValue: ConnectionState = 'idle'
  private socket: WebSocketLike | null = null
  private pingsVisible = false
  private welcomeValue: Welcome | null = null
  private attempt = 0
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private connectTimer: ReturnType<typeof setTimeout> | null = null
  private WebSocketClass: WebSocketConstructor | null = null
  private readonly outbox: Array<string | PendingRequest> = []
  private readonly requests: Requests
  private readonly rooms = new RoomTracker()
  private readonly watchdog: Watchdog
  /** This client's ids on its recent connections: the server never sends a client its own room messages, nor will a replay. */
  private readonly ownIds: string[] = []
  private waiters: Array<{ resolve: (welcome: Welcome) => void; reject: (err: Error) => void }> = []

  constructor(url: string, options: ClientOptions = {}) {
    super()
    this.url = url
    this.options = options
    this.queueLimit = options.queueLimit ?? 100
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000
    if (!(Number.isInteger(this.queueLimit) && this.queueLimit >= 0)) throw new TypeError('queueLimit must be an integer ≥ 0')
    if (!(this.requestTimeoutMs > 0)) throw new TypeError('requestTimeoutMs must be a positive number of ms')
    this.requests = new Requests((request) => this.unqueue(request))
    this.watchdog = new Watchdog(
      () => this.drop(1006, 'no heartbeat from the server'),
      () => this.socket?.send('{"message_type":"ping","data":null}'),
    )
  }

  /** idle, connecting, open, reconnecting or closed. */
  get state(): ConnectionState {
    return this.stateValue
  }

  /** The last `welcome`: this connection's client id, node, user and heartbeat. */
  get welcome(): Welcome | null {
    return this.welcomeValue
  }

  /** The rooms the client is in (and rejoins after a reconnect). */
  get joinedRooms(): string[] {
    return this.rooms.joinedRooms()
  }

  /** The last offset seen in a room, or null: what a rejoin will send as `since`. */
  lastOffset(room: string): number | null {
    return this.rooms.offset(room)
  }

  /** Sends and requests waiting for a connection. */
  get queued(): number {
    return this.outbox.length
  }

  /** Listens to a client event, or to server frames of a `message_type` (`*` for every frame). */
  on<K extends keyof ClientEvents>(event: K, handler: (...args: ClientEvents[K]) => void): this
  on<T = any>(type: string, handler: MessageHandler<T>): this
  on(name: string, handler: (...args: any[]) => void): this {
    this.addListener(name, handler)
    return this
  }

  /** Removes a listener; with no handler, every listener of that name. */
  off(name: string, handler?: (...args: any[]) => void): this {
    this.removeListener(name, handler)
    return this
  }

  /** Connects (once); resolves with the first `welcome`, rejects if the client is closed before one. */
  connect(): Promise<Welcome> {
    if (this.stateValue === 'closed') return Promise.reject(new ClientError('closed', 'the client is closed; make a new one'))
    if (this.stateValue === 'open') return Promise.resolve(this.welcomeValue!)
    const ready = new Promise<Welcome>((resolve, reject) => this.waiters.push({ resolve, reject }))
    if (this.stateValue === 'idle') void this.open()
    return ready
  }

  /**
   * Sends a frame without waiting for anything. While disconnected it waits in the queue;
   * throws a `ClientError` when the queue is full or the client is closed.
   */
  send(type: string, data?: unknown): void {
    if (!isValidType(type)) throw new TypeError(`message type ${JSON.stringify(type)} must be 1..64 chars of [a-zA-Z0-9_.:-]`)
    this.ensureNotClosed()
    const frame = JSON.stringify({ message_type: type, data })
    if (this.stateValue === 'open') this.socket!.send(frame)
    else this.enqueue(frame)
  }

  /**
   * Sends a request and resolves with the frame that answers it. Rejects with a
   * `WshubError` carrying the server's code, or 1004 on timeout. A request whose
   * connection is lost is sent again, with the same `message_id`, after the reconnect.
   *
   * @example
   * ```ts
   * const { data } = await client.request('my_custom_action', { x: 1 }, { timeout: 5000 })
   * ```
   */
  request<T = any>(type: string, data?: unknown, options: RequestOptions = {}): Promise<Frame<T>> {
    if (!isValidType(type)) return Promise.reject(new TypeError(`message type ${JSON.stringify(type)} must be 1..64 chars of [a-zA-Z0-9_.:-]`))
    return this.call(type, data, options, 'same')
  }

  /**
   * Joins a room. With `since` (an offset; 0 for everything the room kept) the server
   * replays the messages after it before answering. The client rejoins the room after
   * every reconnect, asking for what it missed.
   */
  async join(room: string, options: RequestOptions & { since?: number } = {}): Promise<Joined> {
    if (!isValidRoomId(room)) throw new TypeError(`room id ${JSON.stringify(room)} must be 1..128 chars of [a-zA-Z0-9_.:-]`)
    this.rooms.joining(room, options.since ?? null)
    try {
      const reply = await this.call<Joined>('join_room', () => this.rooms.joinData(room), options, 'fresh')
      this.rooms.joined(room, reply.data.recovered)
      return reply.data
    } catch (err) {
      if (!(err instanceof WshubError && err.code === 3004)) this.rooms.remove(room)
      throw err
    }
  }

  /** Leaves a room (resolves also when the server says the client was not in it). */
  async leave(room: string, options: RequestOptions = {}): Promise<void> {
    this.rooms.remove(room)
    try {
      await this.call('leave_room', { room_id: room }, options, 'fresh')
    } catch (err) {
      if (!(err instanceof WshubError && err.code === 3003)) throw err
    }
  }

  /** Sends `content` to every other member of a room; resolves on the server's ack. */
  publish(room: string, content: unknown, options: RequestOptions = {}): Promise<Frame> {
    return this.call('room_message', { room_id: room, content }, options, 'same')
  }

  /** Sends `content` to one client, on whatever node it is; resolves on the ack, rejects with 4000 when it is gone. */
  sendTo(clientId: string, content: unknown, options: RequestOptions = {}): Promise<Frame> {
    return this.call('direct_message', { target_id: clientId, content }, options, 'same')
  }

  /** The members of a room across the cluster. */
  async members(room: string, options: RequestOptions = {}): Promise<Member[]> {
    const reply = await this.call<{ members: Member[] }>('room_members', { room_id: room }, options, 'fresh')
    return reply.data.members
  }

  /**
   * Closes for good: no reconnect; waiting requests reject and queued sends are
   * discarded. Resolves once the socket is closed.
   */
  close(code = 1000, reason = 'client closed'): Promise<void> {
    if (this.stateValue === 'closed') return Promise.resolve()
    const socket = this.detach()
    this.finish(code, reason)
    if (socket === null) return Promise.resolve()
    return new Promise((resolve) => {
      socket.onclose = () => resolve()
      socket.onerror = () => {}
      socket.close(code, reason)
    })
  }

  // Connection lifecycle.

  private async open(): Promise<void> {
    this.stateValue = 'connecting'
    this.emit('connecting', { attempt: this.attempt })
    let socket: WebSocketLike
    try {
      const WebSocketClass = (this.WebSocketClass ??= await resolveWebSocket(this.options.WebSocket))
      const token = await this.token()
      if (this.stateValue !== 'connecting') return
      const placement = this.options.tokenIn ?? (isNodeWs(WebSocketClass) ? 'header' : 'protocol')
      socket = openSocket(WebSocketClass, this.url, token, placement)
    } catch (err) {
      if (this.stateValue === 'connecting') this.lost(1006, `could not connect: ${(err as Error).message}`)
      return
    }
    this.socket = socket
    let status: number | undefined
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data)
    }
    socket.onerror = (event) => {
      status ??= refusedStatus(event)
    }
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.detach()
      this.lost(event.code, event.reason || (status === undefined ? '' : `upgrade refused with HTTP ${status}`), status)
    }
    this.pingsVisible = onServerPing(socket, () => this.watchdog.touch())
    this.connectTimer = setTimeout(() => this.drop(1006, 'no welcome from the server in time'), CONNECT_TIMEOUT_MS)
  }

  private async token(): Promise<string | null> {
    const source = this.options.token
    if (typeof source === 'function') return (await source()) ?? null
    return source ?? null
  }

  private receive(raw: unknown): void {
    if (typeof raw !== 'string') return
    this.watchdog.touch()
    let frame: Frame
    try {
      frame = JSON.parse(raw) as Frame
    } catch {
      return
    }
    if (typeof frame !== 'object' || frame === null || typeof frame.message_type !== 'string') return
    const type = frame.message_type
    if (type === 'welcome') this.welcomed(frame.data as Welcome)
    else if (type === 'room_message' && (!this.rooms.accept(frame.data) || this.isOwn(frame.data))) return
    else if (type === 'room_left' && frame.request_id === undefined) this.rooms.remove((frame.data as { room_id?: string })?.room_id ?? '')
    if (frame.request_id !== undefined && frame.request_id !== null) this.requests.settle(frame)
    if (!CLIENT_EVENTS.has(type)) this.emit(type, frame.data, frame)
    this.emit('*', frame.data, frame)
  }

  private isOwn(data: unknown): boolean {
    const sender = (data as { sender_id?: unknown } | null)?.sender_id
    return typeof sender === 'string' && this.ownIds.includes(sender)
  }

  private welcomed(welcome: Welcome): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    this.connectTimer = null
    this.welcomeValue = welcome
    this.attempt = 0
    this.ownIds.push(welcome.client_id)
    if (this.ownIds.length > 32) this.ownIds.shift()
    const heartbeatMs = typeof welcome.heartbeat_ms === 'number' && welcome.heartbeat_ms > 0 ? welcome.heartbeat_ms : 30_000
    this.watchdog.start(heartbeatMs, this.options.heartbeatMarginMs ?? defaultMargin(heartbeatMs), this.pingsVisible)
    this.stateValue = 'open'
    // The server runs one connection's frames in order, so rejoins go out first and the
    // queued room messages behind them find the rooms joined.
    for (const room of this.rooms.joinedRooms()) this.rejoin(room)
    for (const request of this.requests.takeLost()) this.write(request)
    for (const item of this.outbox.splice(0)) this.write(item)
    for (const waiter of this.waiters.splice(0)) waiter.resolve(welcome)
    this.emit('open', welcome)
  }

  private rejoin(room: string): void {
    this.call<Joined>('join_room', () => this.rooms.joinData(room), {}, 'drop').then(
      (reply) => this.emit('rejoined', { room, recovered: this.rooms.joined(room, reply.data.recovered) }),
      (err: Error) => {
        // A ClientError means the connection went again: the next welcome rejoins.
        if (!(err instanceof WshubError)) return
        this.rooms.remove(room)
        this.emit('rejoin_failed', { room, error: err })
      },
    )
  }

  /** Gives up on the current socket (dead server, no welcome) and goes on as if it had closed. */
  private drop(code: number, reason: string): void {
    const socket = this.detach()
    if (socket === null) return
    socket.onclose = null
    socket.onerror = () => {}
    try {
      socket.close()
    } catch {
      // a socket that cannot even close is gone anyway
    }
    this.lost(code, reason)
  }

  /** Unhooks the current socket from the client; returns it. */
  private detach(): WebSocketLike | null {
    const socket = this.socket
    this.socket = null
    this.watchdog.stop()
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    this.connectTimer = this.reconnectTimer = null
    if (socket !== null) socket.onmessage = null
    return socket
  }

  private lost(code: number, reason: string, status?: number): void {
    this.rooms.connectionLost()
    this.requests.connectionLost()
    const maxAttempts = this.options.maxAttempts ?? Infinity
    if (this.options.reconnect === false || code === KICKED || this.attempt >= maxAttempts) {
      this.finish(code, reason, status)
      return
    }
    this.emit('closed', status === undefined ? { code, reason, reconnect: true } : { code, reason, reconnect: true, status })
    if (this.stateValue === 'closed') return // a listener closed the client
    this.attempt++
    const delay = backoffDelay(this.attempt, this.options.backoff, this.options.random)
    this.stateValue = 'reconnecting'
    this.emit('reconnecting', { attempt: this.attempt, delay })
    if (this.stateValue !== 'reconnecting') return // a listener closed the client
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      void this.open()
    }, delay)
  }

  private finish(code: number, reason: string, status?: number): void {
    this.stateValue = 'closed'
    const closed = new ClientError('closed', `the client is closed (${code}${reason ? `: ${reason}` : ''})`)
    this.requests.rejectAll(closed)
    this.outbox.length = 0
    for (const waiter of this.waiters.splice(0)) waiter.reject(closed)
    this.emit('closed', status === undefined ? { code, reason, reconnect: false } : { code, reason, reconnect: false, status })
  }

  // Sending.

  private call<T>(type: string, data: unknown, options: RequestOptions, retry: RetryPolicy): Promise<Frame<T>> {
    if (this.stateValue === 'closed') return Promise.reject(new ClientError('closed', 'the client is closed; make a new one'))
    const { request, reply } = this.requests.create(type, data, options.timeout ?? this.requestTimeoutMs, retry)
    if (this.stateValue === 'open') this.write(request)
    else {
      try {
        this.enqueue(request)
      } catch (err) {
        this.requests.forget(request)
        return Promise.reject(err)
      }
    }
    return reply as Promise<Frame<T>>
  }

  private write(item: string | PendingRequest): void {
    if (typeof item === 'string') {
      this.socket!.send(item)
      return
    }
    item.status = 'sent'
    this.socket!.send(item.encode())
  }

  private enqueue(item: string | PendingRequest): void {
    if (this.outbox.length >= this.queueLimit) {
      throw new ClientError('queue_full', `${this.outbox.length} sends already wait for the connection (queueLimit ${this.queueLimit}); wait for 'open' or raise queueLimit`)
    }
    this.outbox.push(item)
  }

  private unqueue(request: PendingRequest): void {
    const i = this.outbox.indexOf(request)
    if (i !== -1) this.outbox.splice(i, 1)
  }

  private ensureNotClosed(): void {
    if (this.stateValue === 'closed') throw new ClientError('closed', 'the client is closed; make a new one')
  }
}
