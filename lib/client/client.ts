/**
 * The wshub client: requests and replies, rooms, direct messages and the send queue on
 * top of a connection that reconnects by itself (connection.ts). After a reconnect it
 * rejoins its rooms asking for what it missed, sends again the requests whose reply was
 * lost, then flushes what was queued while offline.
 */
import { isValidRoomId, isValidType } from '../protocol.js'
import { Connection } from './connection.js'
import { ClientError, WshubError } from './errors.js'
import { Requests, type PendingRequest, type RetryPolicy } from './requests.js'
import { RoomTracker } from './room-tracker.js'
import type { ClientEvents, ClientOptions, Frame, Joined, Member, MessageHandler, Welcome } from './types.js'
import type { ClientRoutes, EventData, ReplyTo, RequestArgs, RequestType, TypedEventName, UntypedName, Untyped } from './typed-routes.js'

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
 *
 * Typed with a server's routes, `request()` checks each type's data and types its reply,
 * and `on()` types each payload:
 * ```ts
 * import type { App } from './server.js'          // export type App = typeof app
 * const typed = new WshubClient<App>(url)
 * const reply = await typed.request('add', { a: 1, b: 2 })
 * if (reply.message_type === 'sum') console.log(reply.data.toFixed(2))
 * ```
 */
export class WshubClient<R = Untyped> extends Connection {
  private readonly queueLimit: number
  private readonly requestTimeoutMs: number
  private readonly outbox: Array<string | PendingRequest> = []
  private readonly requests: Requests
  private readonly rooms = new RoomTracker()
  /** This client's ids on its recent connections: the server never sends a client its own room messages, nor will a replay. */
  private readonly ownIds: string[] = []

  constructor(url: string, options: ClientOptions = {}) {
    super(url, options)
    this.queueLimit = options.queueLimit ?? 100
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000
    if (!(Number.isInteger(this.queueLimit) && this.queueLimit >= 0)) throw new TypeError('queueLimit must be an integer ≥ 0')
    if (!(this.requestTimeoutMs > 0)) throw new TypeError('requestTimeoutMs must be a positive number of ms')
    this.requests = new Requests((request) => this.unqueue(request))
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
  on<K extends TypedEventName<R>>(type: K, handler: MessageHandler<EventData<R, K>>): this
  on<T = any>(type: UntypedName<R>, handler: MessageHandler<T>): this
  on(name: string, handler: (...args: any[]) => void): this {
    this.addListener(name, handler)
    return this
  }

  /** Removes a listener; with no handler, every listener of that name. */
  off(name: string, handler?: (...args: any[]) => void): this {
    this.removeListener(name, handler)
    return this
  }

  /**
   * Sends a frame without waiting for anything. While disconnected it waits in the queue;
   * throws a `ClientError` when the queue is full or the client is closed.
   */
  send(type: string, data?: unknown): void {
    if (!isValidType(type)) throw new TypeError(`message type ${JSON.stringify(type)} must be 1..64 chars of [a-zA-Z0-9_.:-]`)
    if (this.stateValue === 'closed') throw new ClientError('closed', 'the client is closed; make a new one')
    const frame = JSON.stringify({ message_type: type, data })
    if (this.stateValue === 'open') this.write(frame)
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
  request<K extends RequestType<R>>(type: K, ...args: RequestArgs<ClientRoutes<R>[K], RequestOptions>): Promise<ReplyTo<ClientRoutes<R>[K]>>
  request<T = any>(type: UntypedName<R>, data?: unknown, options?: RequestOptions): Promise<Frame<T>>
  request(type: string, data?: unknown, options: RequestOptions = {}): Promise<Frame> {
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

  // The connection's hooks.

  protected frame(frame: Frame): void {
    const type = frame.message_type
    if (type === 'room_message' && (!this.rooms.accept(frame.data) || this.isOwn(frame.data))) return
    if (type === 'room_left' && frame.request_id === undefined) this.rooms.remove((frame.data as { room_id?: string } | null)?.room_id ?? '')
    if (frame.request_id !== undefined && frame.request_id !== null) this.requests.settle(frame)
    if (!CLIENT_EVENTS.has(type)) this.emit(type, frame.data, frame)
    this.emit('*', frame.data, frame)
  }

  protected welcomed(welcome: Welcome): void {
    this.ownIds.push(welcome.client_id)
    if (this.ownIds.length > 32) this.ownIds.shift()
    // The server runs one connection's frames in order, so rejoins go out first and the
    // queued room messages behind them find the rooms joined.
    for (const room of this.rooms.joinedRooms()) this.rejoin(room)
    for (const request of this.requests.takeLost()) this.put(request)
    for (const item of this.outbox.splice(0)) this.put(item)
  }

  protected lostConnection(): void {
    this.rooms.connectionLost()
    this.requests.connectionLost()
  }

  protected ended(err: ClientError): void {
    this.requests.rejectAll(err)
    this.outbox.length = 0
  }

  private isOwn(data: unknown): boolean {
    const sender = (data as { sender_id?: unknown } | null)?.sender_id
    return typeof sender === 'string' && this.ownIds.includes(sender)
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

  // Sending.

  private call<T>(type: string, data: unknown, options: RequestOptions, retry: RetryPolicy): Promise<Frame<T>> {
    if (this.stateValue === 'closed') return Promise.reject(new ClientError('closed', 'the client is closed; make a new one'))
    const { request, reply } = this.requests.create(type, data, options.timeout ?? this.requestTimeoutMs, retry)
    if (this.stateValue === 'open') this.put(request)
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

  private put(item: string | PendingRequest): void {
    if (typeof item === 'string') {
      this.write(item)
      return
    }
    item.status = 'sent'
    this.write(item.encode())
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
}
