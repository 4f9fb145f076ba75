/**
 * The HTTP API of PROTOCOL.md section 7: `/health` and the admin routes under `/api/`,
 * served with Node's `http` from a small table of routes. Every figure and list is
 * cluster-wide (it comes from the cluster state). `/api/*` needs the admin token or a
 * JWT granting `admin:system`. With `http.admin_address` set, `/api/*` answers only on
 * that listener (`/health` on both); other paths (such as `/metrics`) fall through to the
 * next handler.
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { checkAdmin } from './admin-auth.js'
import type { BusStatus } from './bus/bus.js'
import { ErrorCode, isAppError } from './errors.js'
import { HttpError, readJsonBody, sendError, sendJson } from './http-body.js'
import type { HttpHandler } from './http-listeners.js'
import { MAX_PAGE, type Clients } from './clients.js'
import type { RoomRecord } from './cluster/state.js'
import type { RoomOptions, Rooms } from './rooms.js'
import type { WshubConfig } from './config.js'
import { clusterStats, type StatsHost } from './cluster-stats.js'
import { searchClients, type SearchHost } from './client-search.js'
import { statsStream } from './stats-stream.js'
import type { Logger } from 'pino'

/**
 * What the HTTP API uses of the app (application.ts hands it the app itself): the server
 * SDK it serves, the figures it reports, and `onHttp` to install itself. `config` is read
 * per request (`app.reload` replaces it: a new admin token applies at once); `bus` and
 * `state` are read per request too (the app opens them at `listen()`).
 */
export interface HttpApiHost extends StatsHost, SearchHost {
  readonly nodeId: string
  readonly config: Pick<WshubConfig, 'http' | 'auth' | 'rooms'>
  readonly log: Logger
  readonly bus: { readonly status: BusStatus }
  readonly state: StatsHost['state'] & SearchHost['state']
  readonly rooms: Pick<Rooms, 'list' | 'create' | 'delete' | 'members'>
  readonly clients: Pick<Clients, 'count' | 'list' | 'kick' | 'kickUser'>
  broadcast(type: string, data: unknown): Promise<void>
  onHttp(handler: HttpHandler, options?: { admin?: boolean }): unknown
}

type Params = Record<string, string>
type RouteHandler = (app: HttpApiHost, req: IncomingMessage, res: ServerResponse, params: Params, query: URLSearchParams) => Promise<void>

interface Route {
  /** Path segments; a segment starting with `:` captures. */
  segments: string[]
  methods: Record<string, RouteHandler>
  allow: string
}

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

/** Protocol codes an SDK call fails with, as HTTP statuses. */
const statusOfCode: Record<number, number> = {
  [ErrorCode.InvalidFormat]: 400,
  [ErrorCode.RoomNotFound]: 404,
  [ErrorCode.ClientNotFound]: 404,
  [ErrorCode.RoomExists]: 409,
}

// Routes.

async function health(app: HttpApiHost, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const up = app.bus.status === 'up'
  sendJson(res, up ? 200 : 503, {
    status: up ? 'ok' : 'degraded',
    version,
    node_id: app.nodeId,
    uptime_s: Math.floor(process.uptime()),
    bus: up ? 'ok' : 'down',
  })
}

async function broadcast(app: HttpApiHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = objectBody(await readJsonBody(req), ['message'])
  if (!('message' in body)) throw badRequest('message is required: {"message": <any JSON>}')
  await app.broadcast('broadcast', { message: body.message })
  sendJson(res, 202, { status: 'accepted' })
}

async function stats(app: HttpApiHost, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendJson(res, 200, await clusterStats(app))
}

// history_size: the most room messages the room keeps (rooms.history_size; 0 = no history).
function roomView(app: HttpApiHost, room: RoomRecord & { members: number }) {
  return { id: room.id, name: room.name, max_clients: room.max_clients, presence_events: room.presence_events, members: room.members, history_size: app.config.rooms.history_size }
}

async function listRooms(app: HttpApiHost, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rooms = await app.rooms.list()
  rooms.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  sendJson(res, 200, rooms.map((room) => roomView(app, room)))
}

async function createRoom(app: HttpApiHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = objectBody(await readJsonBody(req), ['id', 'name', 'max_clients', 'presence_events'])
  const { id, name, max_clients, presence_events } = body
  if (typeof id !== 'string') throw badRequest('id is required: a string of 1..128 chars of [a-zA-Z0-9_.:-]')
  const options: RoomOptions = { id }
  if (name !== undefined && name !== null) {
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) throw badRequest('name must be a string of 1..256 chars')
    options.name = name
  }
  if (max_clients !== undefined && max_clients !== null) {
    if (!Number.isSafeInteger(max_clients) || (max_clients as number) < 0) throw badRequest('max_clients must be an integer ≥ 0 (0 = no limit)')
    options.max_clients = max_clients as number
  }
  if (presence_events !== undefined && presence_events !== null) {
    if (typeof presence_events !== 'boolean') throw badRequest('presence_events must be true or false')
    options.presence_events = presence_events
  }
  const room = await app.rooms.create(options)
  sendJson(res, 201, roomView(app, { ...room, members: 0 }), { location: `/api/rooms/${encodeURIComponent(room.id)}` })
}

async function deleteRoom(app: HttpApiHost, _req: IncomingMessage, res: ServerResponse, params: Params): Promise<void> {
  await app.rooms.delete(params.id!)
  sendJson(res, 204)
}

async function listClients(app: HttpApiHost, _req: IncomingMessage, res: ServerResponse, _params: Params, query: URLSearchParams): Promise<void> {
  const rawLimit = query.get('limit')
  let limit = 100
  if (rawLimit !== null) {
    limit = /^\d{1,16}$/.test(rawLimit) ? Number(rawLimit) : 0
    if (limit < 1) throw badRequest('limit must be a positive integer (at most 1000 are returned)')
  }
  const cursor = query.get('cursor')
  if (cursor !== null && (cursor.length === 0 || cursor.length > 512)) throw badRequest('cursor must be the next_cursor of the previous page')
  const userId = query.get('user_id')
  const room = query.get('room')
  if (userId !== null && (userId.length === 0 || userId.length > 256)) throw badRequest('user_id must be 1..256 chars')
  const [count, page] =
    userId === null && room === null
      ? await Promise.all([app.clients.count(), app.clients.list({ limit: Math.min(limit, MAX_PAGE), cursor })])
      : await searchClients(app, { userId, room }, Math.min(limit, MAX_PAGE), cursor).then((found) => [found.count, found] as const)
  sendJson(res, 200, {
    count,
    clients: page.clients.map((c) => ({ client_id: c.client_id, user_id: c.user_id, node_id: c.node_id, rooms: c.rooms })),
    next_cursor: page.next,
  })
}

async function kickClient(app: HttpApiHost, _req: IncomingMessage, res: ServerResponse, params: Params): Promise<void> {
  await app.clients.kick(params.id!, 'kicked by an administrator')
  sendJson(res, 204)
}

async function kickUser(app: HttpApiHost, _req: IncomingMessage, res: ServerResponse, params: Params): Promise<void> {
  const userId = params.id!
  const kicked = await app.clients.kickUser(userId, 'kicked by an administrator')
  if (kicked === 0) throw new HttpError(404, ErrorCode.ClientNotFound, `user ${userId} has no connection`)
  sendJson(res, 200, { kicked })
}

// The table.

const table: Array<{ path: string; methods: Record<string, RouteHandler> }> = [
  { path: '/health', methods: { GET: health } },
  { path: '/api/broadcast', methods: { POST: broadcast } },
  { path: '/api/stats', methods: { GET: stats } },
  { path: '/api/stats/stream', methods: { GET: statsStream } },
  { path: '/api/rooms', methods: { GET: listRooms, POST: createRoom } },
  { path: '/api/rooms/:id', methods: { DELETE: deleteRoom } },
  { path: '/api/clients', methods: { GET: listClients } },
  { path: '/api/clients/:id', methods: { DELETE: kickClient } },
  { path: '/api/users/:id/connections', methods: { DELETE: kickUser } },
]

function compile(entries: typeof table): Route[] {
  return entries.map(({ path, methods }) => {
    // GET routes answer HEAD too: Node drops the body.
    const all = 'GET' in methods ? { ...methods, HEAD: methods.GET! } : methods
    return { segments: path.split('/').slice(1), methods: all, allow: Object.keys(all).join(', ') }
  })
}

function match(routes: Route[], segments: string[]): { route: Route; params: Params } | null {
  for (const route of routes) {
    if (route.segments.length !== segments.length) continue
    const params: Params = {}
    let ok = true
    for (let i = 0; i < segments.length && ok; i++) {
      const want = route.segments[i]!
      const got = segments[i]!
      if (want.startsWith(':')) {
        try {
          params[want.slice(1)] = decodeURIComponent(got)
        } catch {
          ok = false
        }
        ok &&= got !== ''
      } else ok = want === got
    }
    if (ok) return { route, params }
  }
  return null
}

function badRequest(message: string): HttpError {
  return new HttpError(400, ErrorCode.InvalidFormat, message)
}

/** The body as an object with only the allowed fields; anything else fails with 400. */
function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object')
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badRequest(`unknown field ${JSON.stringify(key)}; allowed: ${allowed.join(', ')}`)
  }
  return body as Record<string, unknown>
}

function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err
  if (isAppError(err)) return new HttpError(statusOfCode[err.code] ?? 400, err.code, err.message)
  return null
}

/**
 * Serves the HTTP API on the app's listeners (installed by the `Application`
 * constructor unless `httpApi: false`).
 *
 * @example
 * ```ts
 * const app = new Application(resolveConfig(), { httpApi: false })
 * installHttpApi(app)
 * ```
 */
export function installHttpApi(app: HttpApiHost): void {
  app.onHttp(httpApi(app, compile(table), true), { admin: true })
  // /health answers on the main port too when http.admin_address opens an admin listener:
  // a load balancer checks the port it routes to. (Without one, the handler above has it.)
  app.onHttp(httpApi(app, compile(table.filter((route) => route.path === '/health')), false))
}

/** Serves the routes; `/api/*` (behind the admin check) only when `api` is true. */
function httpApi(app: HttpApiHost, routes: Route[], api: boolean): HttpHandler {
  return async function httpApi(req, res) {
    const raw = req.url ?? '/'
    const cut = raw.indexOf('?')
    const pathname = cut === -1 ? raw : raw.slice(0, cut)
    const segments = pathname.split('/').slice(1)
    const isApi = segments[0] === 'api'
    if (isApi ? !api : pathname !== '/health') return false
    try {
      if (isApi) {
        // Several Authorization headers count as none: Node keeps the first, a proxy may keep the last.
        const authorization = (req.headersDistinct.authorization?.length ?? 0) > 1 ? undefined : req.headers.authorization
        const verdict = await checkAdmin(authorization, app.config)
        if (!verdict.ok) throw new HttpError(401, verdict.code, verdict.message, { 'www-authenticate': 'Bearer realm="wshub admin"' })
      }
      const found = match(routes, segments)
      if (found === null) throw new HttpError(404, ErrorCode.InvalidFormat, `no route ${pathname}; see PROTOCOL.md section 7`)
      const handler = found.route.methods[req.method ?? 'GET']
      if (handler === undefined) {
        throw new HttpError(405, ErrorCode.InvalidFormat, `${req.method} is not allowed on ${pathname}`, { allow: found.route.allow })
      }
      await handler(app, req, res, found.params, new URLSearchParams(cut === -1 ? '' : raw.slice(cut + 1)))
    } catch (err) {
      const known = toHttpError(err)
      if (known === null) throw err
      if (!res.headersSent) sendError(res, known)
    }
    return true
  }
}
