/**
 * The node's HTTP listeners: the main one (`/ws` upgrades and, by default, the HTTP API)
 * and, where `http.admin_address` is set, a second one for the API alone. Requests go to
 * the app's HTTP handlers in order; a request Node's parser refuses still gets a JSON
 * answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { ErrorCode } from './errors.js'
import type { AppEvents, EventSink } from './events.js'
import { pathOf, refuseUpgrade } from './upgrade.js'
import { ConfigError, type WshubConfig } from './config.js'
import { formatHostPort, parseHostPort } from './host-port.js'

const CLIENT_ERRORS: Record<number, string> = {
  400: 'malformed HTTP request',
  408: 'the request headers did not arrive within http.handshake_timeout_ms',
  431: 'request headers too large: send a token of a few KB in one header',
}

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

/** An HTTP handler; returns false when it did not handle the request. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>

/**
 * What the listeners use of the app (application.ts hands it the app, through the
 * server). The handler lists are read per request, so a handler added after `listen()` answers.
 */
export interface ListenersHost extends EventSink<Pick<AppEvents, 'http_refused'>> {
  readonly config: Pick<WshubConfig, 'http' | 'ws'>
  readonly log: Logger
  /** Every HTTP handler, in order (what the admin listener, or the only listener, tries). */
  readonly httpHandlers: readonly HttpHandler[]
  /** The handlers that also answer on the main port when an admin listener is open. */
  readonly publicHttpHandlers: readonly HttpHandler[]
}

export class HttpListeners {
  private readonly http: Server
  private adminHttp: Server | null = null

  constructor(private readonly app: ListenersHost, onUpgrade: UpgradeHandler) {
    // Node drops a request whose headers are late only when its connections check runs,
    // every 30 s by default: a slow-loris upgrade would outlive handshake_timeout_ms by that much.
    const checkEvery = Math.min(30_000, Math.max(100, Math.floor(app.config.http.handshake_timeout_ms / 4)))
    this.http = createServer({ connectionsCheckingInterval: checkEvery }, (req, res) => void this.onRequest(req, res, false))
    this.http.headersTimeout = app.config.http.handshake_timeout_ms
    this.http.requestTimeout = app.config.http.handshake_timeout_ms * 3
    this.http.on('upgrade', onUpgrade)
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket))
  }

  /** Listens on `http.host:http.port`, and on `http.admin_address` when set; resolves to the main address. */
  async listen(): Promise<AddressInfo> {
    const { host, port, admin_address } = this.app.config.http
    await listenOn(this.http, host, port, 'http.host', 'http.port')
    if (admin_address !== '') {
      const admin = parseHostPort(admin_address)
      this.adminHttp = createServer((req, res) => void this.onRequest(req, res, true))
      try {
        await listenOn(this.adminHttp, admin.host, admin.port, 'http.admin_address', 'http.admin_address')
      } catch (err) {
        // The main listener is open already: a node that cannot start must not hold it.
        this.http.close()
        throw err
      }
    }
    return this.http.address() as AddressInfo
  }

  /** The address of the admin listener, when `http.admin_address` set one. */
  adminAddress(): AddressInfo | null {
    return (this.adminHttp?.address() as AddressInfo | null) ?? null
  }

  /** Stops accepting; resolves once every connection is gone. */
  close(): Promise<void> {
    return Promise.all([
      new Promise<void>((resolve) => this.http.close(() => resolve())),
      this.adminHttp ? new Promise<void>((resolve) => this.adminHttp!.close(() => resolve())) : undefined,
    ]).then(() => {})
  }

  closeAllConnections(): void {
    this.http.closeAllConnections()
    this.adminHttp?.closeAllConnections()
  }

  // With an admin listener, handlers added with `{ admin: true }` (the HTTP API) answer
  // only there; without one, every handler answers on the main port.
  private async onRequest(req: IncomingMessage, res: ServerResponse, onAdminListener: boolean): Promise<void> {
    const handlers = onAdminListener || this.adminHttp === null ? this.app.httpHandlers : this.app.publicHttpHandlers
    try {
      for (const handler of handlers) if (await handler(req, res)) return
      if (!onAdminListener && pathOf(req.url) === this.app.config.ws.path) return notUpgraded(res, req.url)
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 404, message: 'not found' }))
    } catch (err) {
      this.app.log.error({ err }, 'http handler failed')
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: ErrorCode.ServerError, message: 'server error' }))
    }
  }

  /**
   * A request Node's HTTP parser refused before any handler saw it: headers over the size
   * limit (a 100 KB token) get 431, headers still incomplete at handshake_timeout_ms get
   * 408, anything else malformed 400; each with a JSON body, as a refused upgrade has.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
    this.app.emit('http_refused', { status })
    refuseUpgrade(socket, status, { message: CLIENT_ERRORS[status]! })
    // The peer may never close its side: do not keep the socket for it.
    setTimeout(() => socket.destroy(), 1000).unref()
  }
}

// Why a listen failed, for the message. `badValue`: another value of the key would fix it
// (a ConfigError: the CLI exits 2); EADDRINUSE and a DNS that did not answer may pass by themselves.
const LISTEN_FAILURES: Record<string, { on: 'host' | 'port'; reason: string; badValue: boolean }> = {
  EADDRINUSE: { on: 'port', reason: 'the address is already in use (another process listens there)', badValue: false },
  EACCES: { on: 'port', reason: 'permission denied (ports below 1024 need privileges)', badValue: true },
  EADDRNOTAVAIL: { on: 'host', reason: 'no interface of this machine has that address', badValue: true },
  ENOTFOUND: { on: 'host', reason: 'the host name does not resolve', badValue: true },
  EAI_AGAIN: { on: 'host', reason: 'the host name could not be resolved (DNS did not answer)', badValue: false },
}

/** Listens, or fails with a message that names the key and the address (`http.port: cannot listen on 127.0.0.1:8080: ...`). */
function listenOn(server: Server, host: string, port: number, hostKey: string, portKey: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      const known = err.code === undefined ? undefined : LISTEN_FAILURES[err.code]
      const key = known?.on === 'host' ? hostKey : portKey
      const message = `${key}: cannot listen on ${formatHostPort(host, port)}: ${known?.reason ?? err.message} (${err.code ?? 'error'})`
      reject(known?.badValue === true ? new ConfigError(message) : Object.assign(new Error(message), { code: err.code }))
    }
    server.once('error', fail)
    server.listen(port, host, () => {
      server.off('error', fail)
      resolve()
    })
  })
}

/**
 * A plain request (no upgrade) to the WebSocket endpoint: 426 Upgrade Required, with the
 * `Upgrade` header RFC 9110 asks of a 426, as ws's own server answers.
 */
function notUpgraded(res: ServerResponse, path: string | undefined): void {
  const body = JSON.stringify({ code: ErrorCode.InvalidFormat, message: `${pathOf(path)} is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)` })
  res.writeHead(426, { 'content-type': 'application/json', upgrade: 'websocket', connection: 'Upgrade' }).end(body)
}
