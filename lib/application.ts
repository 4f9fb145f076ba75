/**
 * The application: the middleware chain, the routes, the node's rooms, clients and
 * cluster link, and the server SDK (`broadcast`, `to(room)`, `sendTo`, `kick`).
 * The chain is composed once, at `listen()` or on the first frame after a `use()`.
 *
 * The composition root: the one file that knows every part. Each part declares the small
 * host it uses (`RoomsHost` in rooms.ts, `LinkHost` in cluster-link.ts, ...) and the app
 * passes itself as that host, so no part imports this file and each can be made in a
 * unit test without it (docs/README.md, "Dependencies run one way").
 */
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { compose, type Composed, type Next } from './compose.js'
import { Context } from './context.js'
import { resolveConfig, type ConfigInput, type WshubConfig } from './config.js'
import { createLogger } from './logger.js'
import type { Envelope, MessageId } from './protocol.js'
import { Rooms } from './rooms.js'
import { RoomTarget } from './broadcast.js'
import { WsServer, type HandshakeHook } from './server.js'
import type { HttpHandler } from './http-listeners.js'
import { ClusterLink } from './cluster-link.js'
import { Delivery, type DeliveryWrapper } from './delivery.js'
import { FrameRunner, type RejectHook } from './frame-runner.js'
import type { Bus } from './bus/bus.js'
import type { ClusterState } from './cluster/state.js'
import { openBackends } from './backends.js'
import { MemoryBus } from './bus/memory.js'
import { MemoryState } from './cluster/memory.js'
import { Router, type Handler, type ReplySchemas, type RouteOptions } from '../middleware/router.js'
import type { RouteEntry, WithRoute } from './route-map.js'
import type { Schema } from './schema/compile.js'
import type { InferData, InferInput } from './schema/infer.js'
import type { RepliesOf, ReplyTypesOf, RoutesOfDefinitions, RouteDefinitions } from './define-routes.js'
import type { Connection } from './connection.js'
import { registerBuiltinRoutes } from './builtin-routes.js'
import { defaultChain } from '../middleware/index.js'
import type { AppEvents } from './events.js'
import { Clients } from './clients.js'
import { installHttpApi } from './http-api.js'
import { installDashboard } from './dashboard/index.js'
import { applyReload, type ReloadResult } from './reload.js'
import { Attachment, checkAttachOptions, handleRequest, type AttachOptions } from './attach.js'
import { refuseUpgrade } from './upgrade.js'
import { UserTarget } from './user-target.js'
import { userLimit } from './user-limit.js'

export type { AppEvents } from './events.js'
export type { DeliveryWrapper } from './delivery.js'
export type { RejectHook } from './frame-runner.js'
export type { HandshakeHook } from './server.js'
export type { HttpHandler } from './http-listeners.js'

// `ctx.app` is the whole app: context.ts declares the type empty and uses only its ContextHost.
declare module './context.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface ContextApp extends Application {}
}

/**
 * A middleware: `async (ctx, next) => { ...; await next(); ... }`. It may carry a
 * `setup(app)` that `app.use()` calls once, for what it needs beyond frames (a handshake
 * hook, event listeners, an HTTP route). `Adds` is what it puts on `ctx.state`: the
 * routes of an app it is `use`d on see it typed.
 */
export interface Middleware<Adds extends object = {}> {
  (ctx: Context<any, Adds>, next: Next): unknown
  setup?(app: Application): void
}

export interface AppOptions {
  /** Install the default chain (trace → metrics → auth → rate-limit → dedup). Default true. */
  defaults?: boolean
  /** Use this bus instead of the one `cluster.bus` names (tests, in-process clusters). */
  bus?: Bus
  /** Use this state instead of the one `cluster.bus` names. */
  state?: ClusterState
  /** Use this logger instead of making one from `log.*`. */
  logger?: Logger
  /** Serve the HTTP API (`/health`, `/api/*`) and, where configured, the dashboard (`/admin`). Default true. */
  httpApi?: boolean
}

/** Where an HTTP handler answers. */
export interface HttpHandlerOptions {
  /** Only on the admin listener when `http.admin_address` opens one (as the HTTP API does); on the main port otherwise. */
  admin?: boolean
}

/**
 * @typeParam St - what the typed middleware `use`d so far add to `ctx.state`
 * @typeParam Rt - the routes chained on the app so far (types only: `WshubClient<typeof app>` reads them)
 */
export class Application<St extends object = {}, Rt extends object = {}> extends EventEmitter<AppEvents> {
  /** Types only (nothing at run time): the routes registered through this type. */
  declare readonly '~routes': Rt
  /** The configuration in force; `reload()` replaces it with a new object. */
  config: WshubConfig
  readonly nodeId: string
  log: Logger
  /** `log.level` is debug or finer: per-frame logs are on. Read once per frame, not per field. */
  debug: boolean
  bus!: Bus
  state!: ClusterState
  readonly rooms: Rooms
  readonly clients: Clients
  readonly router = new Router()
  readonly server: WsServer
  readonly link: ClusterLink
  /** How frames reach clients, local and remote. */
  readonly delivery: Delivery
  private readonly runner: FrameRunner
  /** Decodes binary frames into envelopes; null refuses them with 1001. */
  binaryCodec: ((frame: Buffer) => unknown) | null = null
  readonly handshakeHooks: HandshakeHook[] = []
  /** What frames refused at the envelope go through before they are answered (see {@link onReject}). */
  readonly rejectHooks: RejectHook[] = []
  /** Every HTTP handler, in order (what the admin listener, or the only listener, tries). */
  readonly httpHandlers: HttpHandler[] = []
  /** The handlers that also answer on the main port when an admin listener is open. */
  readonly publicHttpHandlers: HttpHandler[] = []
  /** Frames whose chain has not settled yet. */
  inFlight = 0
  private readonly middleware: Middleware[] = []
  private chain: Composed<Context> | null = null
  private started = false
  private attachment: Attachment | null = null

  constructor(config: WshubConfig, options: AppOptions = {}) {
    super()
    this.config = config
    this.nodeId = config.cluster.node_id || `node-${randomBytes(4).toString('hex')}`
    this.log = options.logger ?? createLogger(config, this.nodeId)
    this.debug = this.log.isLevelEnabled('debug')
    if (options.bus) this.bus = options.bus
    if (options.state) this.state = options.state
    // The embedded default needs no connection, so it is ready before listen().
    if (config.cluster.bus === 'memory') {
      this.bus ??= new MemoryBus()
      this.state ??= new MemoryState()
    }
    // Each part gets the app as the host it declares; what it reads per use (config, state,
    // bus, the other parts) is read through it, so a reload or listen() is seen at once.
    this.rooms = new Rooms(this)
    this.clients = new Clients(this)
    this.server = new WsServer(this)
    this.link = new ClusterLink(this)
    this.delivery = new Delivery(this)
    this.runner = new FrameRunner(this)
    registerBuiltinRoutes(this)
    if (options.httpApi !== false) {
      installHttpApi(this)
      installDashboard(this)
    }
  }

  /**
   * Adds a middleware before the router.
   *
   * @example
   * ```ts
   * app.use(async (ctx, next) => { const t = performance.now(); await next(); ctx.log.debug({ ms: performance.now() - t }) })
   * ```
   */
  use<A extends object = {}>(middleware: Middleware<A>): Application<St & A, Rt> {
    if (typeof middleware !== 'function') throw new TypeError('app.use() takes a middleware function: async (ctx, next) => { ... }')
    this.middleware.push(middleware as Middleware)
    middleware.setup?.(this)
    this.chain = null
    // The same app; only its type learns what the middleware adds.
    return this as unknown as Application<St & A, Rt>
  }

  /**
   * Routes a message type to a handler, with optional checks. With a `schema`, the
   * handler runs only for data it accepts, and `ctx.data` is typed from it; with
   * `replies`, `ctx.reply` takes only those. Chained, each call adds the route to the
   * app's type, for `WshubClient<typeof app>`.
   *
   * @example
   * ```ts
   * app.route('shout', { permission: 'send:message' }, (ctx) => ctx.to(ctx.data.room_id).send('shout', ctx.data))
   * app.route('add', { schema: z.object({ a: z.number(), b: z.number() }), replies: { sum: z.number() } }, (ctx) => ctx.reply('sum', ctx.data.a + ctx.data.b))
   * ```
   */
  route<T extends string>(type: T, handler: Handler<Context<any, St>>): Application<St, WithRoute<Rt, T, RouteEntry>>
  route<T extends string, const S extends Schema | undefined = undefined, const R extends ReplySchemas | undefined = undefined>(
    type: T,
    options: RouteOptions<S, R>,
    handler: Handler<Context<[S] extends [undefined] ? any : InferData<S>, St, ReplyTypesOf<R>>>,
  ): Application<St, WithRoute<Rt, T, RouteEntry<InferInput<S>, RepliesOf<R>>>>
  route(type: string, optionsOrHandler: RouteOptions | Handler<any>, handler?: Handler<any>): Application<St, any> {
    if (typeof optionsOrHandler === 'function') this.router.add(type, {}, optionsOrHandler)
    else this.router.add(type, optionsOrHandler, handler as Handler)
    return this
  }

  /**
   * Registers every route of a {@link defineRoutes} map.
   *
   * @example
   * ```ts
   * app.routes(routes)   // export type Routes = typeof routes, for WshubClient<Routes>
   * ```
   */
  routes<D extends RouteDefinitions>(routes: D): Application<St, Rt & RoutesOfDefinitions<D>> {
    for (const [type, definition] of Object.entries(routes)) this.router.add(type, definition.options, definition.handler)
    return this as unknown as Application<St, Rt & RoutesOfDefinitions<D>>
  }

  /** Adds a hook that runs before the upgrade (the auth middleware's token check is one). */
  onHandshake(hook: HandshakeHook): this {
    this.handshakeHooks.push(hook)
    return this
  }

  /**
   * Adds a hook for frames refused at the envelope, which never enter the chain: the
   * rate limiter charges them to the connection's bucket here. The first hook that returns
   * an error decides the answer.
   *
   * @example
   * ```ts
   * app.onReject((client, code) => (++junk >= 100 ? new AppError(ErrorCode.RateLimited, 'slow down') : null))
   * ```
   */
  onReject(hook: RejectHook): this {
    this.rejectHooks.push(hook)
    return this
  }

  /**
   * Adds an HTTP handler on the node's port (the HTTP API and `/metrics` are some);
   * handlers are tried in order until one returns true.
   *
   * @example
   * ```ts
   * app.onHttp((req, res) => req.url === '/ready' ? (res.end('yes'), true) : false)
   * app.onHttp(adminOnlyHandler, { admin: true })   // only on http.admin_address when set
   * ```
   */
  onHttp(handler: HttpHandler, options: HttpHandlerOptions = {}): this {
    this.httpHandlers.push(handler)
    if (options.admin !== true) this.publicHttpHandlers.push(handler)
    return this
  }

  /**
   * Puts a new configuration in force without dropping a connection: validates it whole
   * (a bad value throws a `ConfigError` naming the key, and nothing changes), keeps the
   * running value of every key that needs a restart (`http.*`, `ws.path`, `ws.max_payload`,
   * `cluster.*`, ...), points `app.config` at the new object, calls `setLogLevel` when
   * `log.level` changed, and emits `reload` with `(config, previous)`, to which middleware
   * listen for their own keys (rate limits, auth keys).
   *
   * @example
   * ```ts
   * const { applied, restartRequired } = app.reload(loadConfig('wshub.yaml'))
   * ```
   */
  reload(config: WshubConfig): ReloadResult {
    return applyReload(this, config)
  }

  /**
   * Wraps the delivery of envelopes from other nodes; wrappers added later run outside
   * earlier ones.
   *
   * @example
   * ```ts
   * app.aroundDelivery((envelope, deliver) => { const t = performance.now(); deliver(envelope); log(performance.now() - t) })
   * ```
   */
  aroundDelivery(wrapper: DeliveryWrapper): this {
    this.delivery.around(wrapper)
    return this
  }

  /** Sets the log level at run time (the one global debug switch). */
  setLogLevel(level: string): void {
    this.log.level = level
    this.debug = this.log.isLevelEnabled('debug')
  }

  /** Connects the bus and state and joins the cluster: what `listen()`, `start()` and `attach()` begin with. */
  private async open(): Promise<void> {
    if (this.started) throw new Error('the app is started already: call one of listen(), attach() or start(), once')
    this.started = true
    if (!this.bus || !this.state) {
      const backends = await openBackends(this.config, this.log)
      this.bus ??= backends.bus
      this.state ??= backends.state
    }
    // Last of the handshake hooks: it counts the user the auth hook found.
    this.onHandshake(userLimit(this))
    this.compile()
    await this.link.start()
  }

  /** Starts the node: connects the bus and state, then listens. Resolves to the address. */
  async listen(): Promise<AddressInfo> {
    await this.open()
    const address = await this.server.listen()
    // The admin listener's address too, with the port it picked when http.admin_address asked for port 0.
    const admin = this.server.adminAddress()
    const adminFields = admin === null ? {} : { admin_host: admin.address, admin_port: admin.port }
    this.log.info({ port: address.port, host: address.address, ...adminFields, path: this.config.ws.path, bus: this.config.cluster.bus }, 'listening')
    return address
  }

  /**
   * Starts the node without a listener of its own, for a server that hands its upgrades
   * over with {@link handleUpgrade} (`attach` calls it).
   *
   * @example
   * ```ts
   * await app.start()
   * server.on('upgrade', (req, socket, head) => app.handleUpgrade(req, socket, head))
   * ```
   */
  async start(): Promise<void> {
    await this.open()
    this.server.startHeartbeat()
  }

  /**
   * Serves `/ws` (and, unless `http: false`, `/health`, `/metrics`, `/api/*`) on an
   * `http.Server` or `https.Server` the user made; every other request and upgrade stays
   * with the user's handlers. `app.close()` drains wshub's clients and takes its listeners
   * off, leaving the server listening (lib/attach.ts).
   *
   * @example
   * ```ts
   * const server = expressApp.listen(3000)
   * await app.attach(server)                 // ws://host:3000/ws beside the app's routes
   * ```
   */
  async attach(server: Server, options: AttachOptions = {}): Promise<void> {
    checkAttachOptions(this, server, options)
    await this.start()
    this.attachment = new Attachment(this, server, options)
    this.log.info({ path: this.config.ws.path, bus: this.config.cluster.bus }, 'attached')
  }

  /**
   * Takes one upgrade request (from a framework that hands upgrades over): runs the
   * handshake and, past it, makes the WebSocket. Refused with 503 before `start()` or
   * `attach()`, and with 404 when the path is not `ws.path`.
   *
   * @example
   * ```ts
   * server.on('upgrade', (req, socket, head) => { if (req.url?.startsWith('/ws')) app.handleUpgrade(req, socket, head) })
   * ```
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.started) return refuseUpgrade(socket, 503, { message: 'wshub is not started: call app.attach(server) or app.start() first' })
    void this.server.onUpgrade(req, socket, head)
  }

  /**
   * Answers a request with the node's HTTP routes; resolves to false, having written
   * nothing, when it is not one of them.
   *
   * @example
   * ```ts
   * expressApp.use((req, res, next) => void app.handleRequest(req, res).then((done) => done || next()))
   * ```
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    return handleRequest(this, req, res)
  }

  /** Drains and stops: closes every client with 1001, lets in-flight handlers finish, leaves the cluster. An attached app leaves the user's server listening. */
  async close(): Promise<void> {
    await this.server.close()
    this.attachment?.detach()
    this.attachment = null
    await this.link.stop()
    this.log.info('stopped')
  }

  private compile(): Composed<Context> {
    return (this.chain = compose<Context>([...this.middleware, this.router.middleware()]))
  }

  /** Runs one valid envelope through the chain, in arrival order per connection (see frame-runner.ts). */
  dispatch(client: Connection, envelope: Envelope): Promise<void> {
    return this.runner.dispatch(client, envelope)
  }

  /** Answers a frame refused before the chain (envelope errors), keeping the connection open. */
  reject(client: Connection, code: number, message: string, messageId: MessageId | null): void {
    this.runner.reject(client, code, message, messageId)
  }

  /** The composed chain (composed again after a `use()`). */
  get composed(): Composed<Context> {
    return this.chain ?? this.compile()
  }

  // Server SDK and delivery.

  /**
   * A target for every member of a room, cluster-wide.
   *
   * @example
   * ```ts
   * await app.to('lobby').send('notice', { text: 'maintenance at noon' })
   * ```
   */
  to(roomId: string): RoomTarget {
    return new RoomTarget(this, [Rooms.check(roomId)])
  }

  /**
   * A target for every connection of one user, on every node (lib/user-target.ts).
   *
   * @example
   * ```ts
   * const reached = await app.toUser('alice').send('notification', { text: 'shipped' })   // 0: offline
   * ```
   */
  toUser(userId: string): UserTarget {
    return new UserTarget(this, userId)
  }

  /** Sends `{message_type: type, data}` to every client of the cluster. */
  broadcast(type: string, data: unknown): Promise<void> {
    return this.delivery.toAll(type, data)
  }

  /** Sends to one client on whatever node it is; fails with 4000 when there is none. */
  sendTo(clientId: string, type: string, data: unknown): Promise<void> {
    return this.delivery.toClient(clientId, type, data)
  }

  /** Closes a client with 4000 on whatever node it is; fails with 4000 when there is none. */
  kick(clientId: string, reason = 'kicked'): Promise<void> {
    return this.delivery.kick(clientId, reason)
  }

  /** Delivers an encoded frame to the members of rooms: local members now, the rest over the bus. */
  deliverToRooms(rooms: readonly string[], frame: string, except: readonly string[]): Promise<void> {
    return this.delivery.toRooms(rooms, frame, except)
  }
}

/**
 * Makes an application from a config (defaults, then `config`, then `WSHUB_*` env vars),
 * with the default chain installed unless `options.defaults` is false.
 *
 * @example
 * ```ts
 * const app = createApp({ http: { port: 0 } })
 * app.route('hello', (ctx) => ctx.reply('hello_reply', { hi: ctx.client.id }))
 * await app.listen()
 * ```
 */
export function createApp(config: ConfigInput | WshubConfig = {}, options: AppOptions = {}): Application {
  const app = new Application(resolveConfig(config as ConfigInput), options)
  if (options.defaults !== false) for (const middleware of defaultChain(app.config)) app.use(middleware)
  return app
}
