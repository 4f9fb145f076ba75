/**
 * One logical connection that outlives its sockets: it opens a socket with a fresh
 * token, waits for the `welcome`, watches the heartbeat, and after a loss schedules the
 * next attempt with bounded, jittered backoff, emitting the state events as it goes.
 * What a reconnect means for rooms, requests and queued sends is the client's part,
 * through the hooks `welcomed`, `frame`, `lostConnection` and `ended`.
 */
import { backoffDelay } from './backoff.js'
import { Emitter } from './emitter.js'
import { ClientError } from './errors.js'
import { isNodeWs, onServerPing, openSocket, refusedStatus, resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from './transport.js'
import { Watchdog, defaultMargin } from './watchdog.js'
import type { ClientOptions, ConnectionState, Frame, Welcome } from './types.js'

/** Close code the server sends on a kick: reconnecting would undo the kick. */
const KICKED = 4000
const CONNECT_TIMEOUT_MS = 10_000

export abstract class Connection extends Emitter {
  readonly url: string
  protected readonly options: ClientOptions
  protected stateValue: ConnectionState = 'idle'
  private socket: WebSocketLike | null = null
  private pingsVisible = false
  private welcomeValue: Welcome | null = null
  private attempt = 0
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private connectTimer: ReturnType<typeof setTimeout> | null = null
  private WebSocketClass: WebSocketConstructor | null = null
  private readonly watchdog: Watchdog
  private waiters: Array<{ resolve: (welcome: Welcome) => void; reject: (err: Error) => void }> = []

  constructor(url: string, options: ClientOptions) {
    super()
    this.url = url
    this.options = options
    this.watchdog = new Watchdog(
      () => this.drop(1006, 'no heartbeat from the server'),
      () => this.socket?.send('{"message_type":"ping","data":null}'),
    )
  }

  /** A frame from the server (after the welcome handling). */
  protected abstract frame(frame: Frame): void
  /** The `welcome` arrived; the connection is open. Runs before the `open` event. */
  protected abstract welcomed(welcome: Welcome): void
  /** The socket is gone; a reconnect may follow. */
  protected abstract lostConnection(): void
  /** The client is closed for good; `err` is what waiting work rejects with. */
  protected abstract ended(err: ClientError): void

  /** idle, connecting, open, reconnecting or closed. */
  get state(): ConnectionState {
    return this.stateValue
  }

  /** The last `welcome`: this connection's client id, node, user and heartbeat. */
  get welcome(): Welcome | null {
    return this.welcomeValue
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

  /** Writes a frame on the open socket. */
  protected write(text: string): void {
    this.socket!.send(text)
  }

  private async open(): Promise<void> {
    this.stateValue = 'connecting'
    this.emit('connecting', { attempt: this.attempt })
    let token: string | null
    try {
      token = await this.token()
    } catch (err) {
      // The token source may recover (a login service back up): try again later.
      if (this.stateValue === 'connecting') this.lost(1006, `could not get a token: ${(err as Error).message}`)
      return
    }
    let socket: WebSocketLike
    try {
      const WebSocketClass = (this.WebSocketClass ??= await resolveWebSocket(this.options.WebSocket))
      if (this.stateValue !== 'connecting') return
      const placement = this.options.tokenIn ?? (isNodeWs(WebSocketClass) ? 'header' : 'protocol')
      socket = openSocket(WebSocketClass, this.url, token, placement)
    } catch (err) {
      // No WebSocket, a bad URL, a header token in a browser: trying again cannot help.
      if (this.stateValue === 'connecting') this.finish(1006, `cannot connect: ${(err as Error).message}`)
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
    if (frame.message_type === 'welcome') this.onWelcome(frame.data as Welcome)
    this.frame(frame)
  }

  private onWelcome(welcome: Welcome): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    this.connectTimer = null
    this.welcomeValue = welcome
    this.attempt = 0
    const heartbeatMs = typeof welcome.heartbeat_ms === 'number' && welcome.heartbeat_ms > 0 ? welcome.heartbeat_ms : 30_000
    this.watchdog.start(heartbeatMs, this.options.heartbeatMarginMs ?? defaultMargin(heartbeatMs), this.pingsVisible)
    this.stateValue = 'open'
    this.welcomed(welcome)
    for (const waiter of this.waiters.splice(0)) waiter.resolve(welcome)
    this.emit('open', welcome)
  }

  /** Gives up on the current socket (dead server, no welcome) and goes on as if it had closed. */
  private drop(code: number, reason: string): void {
    const socket = this.detach()
    if (socket === null) return
    socket.onclose = null
    socket.onerror = () => {}
    try {
      // ws's close() would wait up to 30 s for a dead peer's close frame; terminate() does not.
      const terminate = (socket as { terminate?: () => void }).terminate
      if (typeof terminate === 'function') terminate.call(socket)
      else socket.close()
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
    this.lostConnection()
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
    if (this.stateValue !== 'reconnecting') return
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      void this.open()
    }, delay)
  }

  private finish(code: number, reason: string, status?: number): void {
    this.stateValue = 'closed'
    const closed = new ClientError('closed', `the client is closed (${code}${reason ? `: ${reason}` : ''})`)
    this.ended(closed)
    for (const waiter of this.waiters.splice(0)) waiter.reject(closed)
    this.emit('closed', status === undefined ? { code, reason, reconnect: false } : { code, reason, reconnect: false, status })
  }
}
