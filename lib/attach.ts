/**
 * Serving wshub on an HTTP server the user made (Express, Koa, Fastify, Hono's node
 * server, a bare `https.Server`): `/ws` upgrades, and the node's own HTTP routes
 * (`/health`, `/metrics`, `/api/*`) unless told otherwise, with every other request and
 * upgrade left to the user's handlers. Detaching (at `app.close()`) puts the server back
 * as it was, still listening.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type { WshubConfig } from './config.js'
import type { HttpHandler } from './http-listeners.js'
import { ErrorCode } from './errors.js'
import { pathOf, refuseUpgrade } from './upgrade.js'

/** Options of `app.attach()`. */
export interface AttachOptions {
  /** The WebSocket endpoint on that server; default `ws.path` (`/ws`). */
  path?: string
  /**
   * Serve the node's HTTP routes (`/health`, `/metrics`, `/api/*`, `/admin` where the dashboard is on) on that server before
   * its own handlers see the request. Default true; false leaves every request to the
   * user, who may mount `app.handleRequest` where they like.
   */
  http?: boolean
}

/** What an attachment uses of the app (application.ts hands it the app). */
export interface AttachHost {
  readonly config: { readonly ws: WshubConfig['ws'] }
  readonly log: Logger
  readonly httpHandlers: readonly HttpHandler[]
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void
type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

const URL_PATH = /^\/[^\s?#]*$/

/**
 * How an app sits on a server it did not make. Made by `app.attach()`; `detach()` takes
 * it off again.
 */
export class Attachment {
  private readonly onUpgrade: UpgradeListener
  private readonly onRequest: RequestListener | null
  private readonly userListeners: RequestListener[]
  private readonly userUpgradeListeners: UpgradeListener[]

  constructor(app: AttachHost, readonly server: Server, options: AttachOptions) {
    const path = app.config.ws.path
    // The user's upgrade listeners are taken off too and called for the other paths only:
    // one that refuses paths not its own (ws's `new WebSocketServer({ server, path })`
    // answers them 400) would otherwise refuse wshub's before wshub has answered.
    const userUpgradeListeners = (this.userUpgradeListeners = server.listeners('upgrade') as UpgradeListener[])
    this.onUpgrade = (req, socket, head) => {
      if (pathOf(req.url) === path) return app.handleUpgrade(req, socket, head)
      for (const listener of userUpgradeListeners) listener.call(server, req, socket, head)
      // With no other listener, Node would leave this socket open for ever.
      if (userUpgradeListeners.length === 0 && server.listenerCount('upgrade') === 1) {
        refuseUpgrade(socket, 404, { message: `no WebSocket endpoint here; connect to ${path}` })
      }
    }
    server.removeAllListeners('upgrade')
    server.on('upgrade', this.onUpgrade)
    // The user's request listeners are taken off and called from ours for every request
    // wshub does not answer: two listeners would both write to one response.
    this.userListeners = options.http === false ? [] : (server.listeners('request') as RequestListener[])
    if (options.http === false) {
      this.onRequest = null
      return
    }
    const userListeners = this.userListeners
    this.onRequest = (req, res) => {
      void handleRequest(app, req, res).then((handled) => {
        if (!handled) for (const listener of userListeners) listener.call(server, req, res)
      })
    }
    server.removeAllListeners('request')
    server.on('request', this.onRequest)
  }

  /** Takes wshub's listeners off and gives the user's request and upgrade listeners back; the server keeps listening. */
  detach(): void {
    this.server.off('upgrade', this.onUpgrade)
    for (const listener of this.userUpgradeListeners) this.server.on('upgrade', listener)
    if (this.onRequest === null) return
    this.server.off('request', this.onRequest)
    for (const listener of this.userListeners) this.server.on('request', listener)
  }
}

/** Checks the options of `app.attach()` and writes the path into `ws.path`; throws a TypeError naming the bad one. */
export function checkAttachOptions(app: AttachHost, server: unknown, options: AttachOptions): void {
  if (typeof server !== 'object' || server === null || typeof (server as Server).on !== 'function' || typeof (server as Server).listeners !== 'function') {
    throw new TypeError('app.attach(server): server must be an http.Server or https.Server (for Fastify: fastify.server)')
  }
  if (typeof options !== 'object' || options === null) throw new TypeError('app.attach(server, options): options must be an object')
  if (options.path !== undefined) {
    if (typeof options.path !== 'string' || !URL_PATH.test(options.path)) {
      throw new TypeError(`app.attach(server, { path }): path must start with / and hold no spaces, ? or # (got ${JSON.stringify(options.path)})`)
    }
    app.config.ws.path = options.path
  }
}

/**
 * Answers a request with the node's HTTP handlers (`/health`, `/metrics`, `/api/*`, and
 * any added with `app.onHttp`); resolves to false, having written nothing, when none of
 * them serves it. A handler that throws gets a 500 with a JSON body.
 *
 * @example
 * ```ts
 * expressApp.use((req, res, next) => void hub.handleRequest(req, res).then((done) => done || next()))
 * ```
 */
export async function handleRequest(app: AttachHost, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  try {
    for (const handler of app.httpHandlers) if (await handler(req, res)) return true
    return false
  } catch (err) {
    app.log.error({ err }, 'http handler failed')
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ code: ErrorCode.ServerError, message: 'server error' }))
    return true
  }
}
