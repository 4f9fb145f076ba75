/**
 * The router: the last step of the chain. It finds the handler of the frame's
 * `message_type` in a table built at registration, checks the route's permission, data
 * limit and schema, and runs the handler. A type no route handles fails with 1006.
 */
import type { Context } from '../lib/context.js'
import { AppError, ErrorCode } from '../lib/errors.js'
import { encodeData, isValidType } from '../lib/protocol.js'
import { compileSchema, type DataCheck, type Schema } from '../lib/schema/compile.js'
import { checkReplies, runCheck } from '../lib/schema/run-check.js'

/** A route's handler: answers with `ctx.reply`, fails with `ctx.throw`. */
export type Handler<C = Context> = (ctx: C) => unknown

/** The replies a route may send, by `message_type`, each with the schema of its `data` (types only). */
export type ReplySchemas = { readonly [type: string]: Schema }

/** What a route may ask of the frames it takes. */
export interface RouteOptions<S extends Schema | undefined = Schema | undefined, R extends ReplySchemas | undefined = ReplySchemas | undefined> {
  /**
   * A permission the sender must hold (error 2001 otherwise), e.g. `send:message`. It may
   * end in `:{field}`, a string field of the frame's `data` that names the resource:
   * `send:message:{room_id}` is held with `send:message` (every room), or with
   * `send:message:<data.room_id>` or a glob that covers it (`send:message:team-*`).
   */
  permission?: string
  /** Largest `data`, as JSON bytes; bigger gets error 4002. */
  maxDataBytes?: number
  /**
   * The schema of `data`: any Standard Schema (zod, valibot, arktype, ...) or a JSON
   * Schema object (compiled by ajv). Checked before the handler, which does not run for
   * data it refuses: error 1001 with `details.issues` (each path and reason). A Standard
   * Schema's output replaces `ctx.data`. `ctx.data` is typed from it.
   */
  schema?: S
  /**
   * The replies the handler sends, by `message_type`, each with the schema of its data.
   * Types only: `ctx.reply` takes these types and data, and a typed client knows what
   * `request()` resolves to. Replies are not checked at run time (they are the
   * application's own data).
   */
  replies?: R
}

interface Route {
  handler: Handler
  /** The permission without its `:{field}` tail: held, it covers every resource. */
  permission: string | null
  /** The `data` field that names the resource, from a `:{field}` tail. */
  resourceField: string | null
  maxDataBytes: number
  /** The compiled schema of `data`, or null when the route has none (it then pays nothing). */
  check: DataCheck | null
}

const RESOURCE_TAIL = /^(.+):\{([a-zA-Z0-9_]+)\}$/

/** The resource a frame names in the route's `:{field}`, or null when it names none (or the route has no such tail). */
function resourceOf(ctx: Context, route: Route): string | null {
  const data = ctx.data as Record<string, unknown> | null
  const resource = route.resourceField !== null && typeof data === 'object' && data !== null ? data[route.resourceField] : undefined
  return typeof resource === 'string' ? resource : null
}

/** Fails with 2001 unless the sender holds the route's permission for the resource its frame names. */
function authorizeResource(ctx: Context, route: Route): void {
  const resource = resourceOf(ctx, route)
  const needed = resource === null ? route.permission : `${route.permission}:${resource}`
  if (resource === null || !ctx.client.can(needed!)) throw new AppError(ErrorCode.Forbidden, `missing permission ${needed}`)
}

/**
 * @example
 * ```ts
 * const router = new Router()
 * router.add('echo', {}, (ctx) => ctx.reply('echo_reply', ctx.data))
 * app.use(router.middleware())
 * ```
 */
export class Router {
  private readonly routes = new Map<string, Route>()

  /**
   * Registers the handler of a message type; a later registration replaces an earlier
   * one. The schema is compiled here, once: a bad one throws now, naming the route.
   */
  add(type: string, options: RouteOptions, handler: Handler<any>): this {
    if (!isValidType(type)) throw new TypeError(`route type ${JSON.stringify(type)} must be 1..64 chars of [a-zA-Z0-9_.:-]`)
    if (typeof handler !== 'function') throw new TypeError(`route ${type}: the handler must be a function`)
    if (options.maxDataBytes !== undefined && !(Number.isSafeInteger(options.maxDataBytes) && options.maxDataBytes > 0)) {
      throw new TypeError(`route ${type}: maxDataBytes must be a positive integer`)
    }
    if (options.permission !== undefined && (typeof options.permission !== 'string' || options.permission === '')) {
      throw new TypeError(`route ${type}: permission must be a non-empty string`)
    }
    if (options.replies !== undefined) checkReplies(type, options.replies)
    let check: DataCheck | null = null
    if (options.schema !== undefined) {
      try {
        check = compileSchema(options.schema)
      } catch (err) {
        throw new TypeError(`route ${type}: ${(err as Error).message}`)
      }
    }
    const tail = options.permission === undefined ? null : RESOURCE_TAIL.exec(options.permission)
    this.routes.set(type, {
      handler,
      permission: tail !== null ? tail[1]! : (options.permission ?? null),
      resourceField: tail !== null ? tail[2]! : null,
      maxDataBytes: options.maxDataBytes ?? 0,
      check,
    })
    return this
  }

  has(type: string): boolean {
    return this.routes.has(type)
  }

  /** The message types routed, in registration order. */
  types(): string[] {
    return [...this.routes.keys()]
  }

  /** The router as a middleware. */
  middleware() {
    const routes = this.routes
    return async function router(ctx: Context): Promise<void> {
      const route = routes.get(ctx.type)
      if (route === undefined) throw new AppError(ErrorCode.UnknownMessageType, `unknown message type ${ctx.type}`)
      // The bare permission first: the common grant costs one lookup, with no string made.
      if (route.permission !== null && !ctx.client.can(route.permission)) authorizeResource(ctx, route)
      if (route.maxDataBytes !== 0 && Buffer.byteLength(encodeData(ctx.data)) > route.maxDataBytes) {
        throw new AppError(ErrorCode.MessageTooLarge, `data is larger than ${route.maxDataBytes} bytes`)
      }
      if (route.check !== null) {
        const pending = runCheck(ctx, route.check)
        if (pending !== null) await pending
      }
      await route.handler(ctx)
    }
  }
}
