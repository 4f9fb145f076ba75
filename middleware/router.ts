/**
 * The router: the last step of the chain. It finds the handler of the frame's
 * `message_type` in a table built at registration, checks the route's permission and
 * data limit, and runs the handler. A type no route handles fails with 1006.
 */
import type { Context } from '../lib/context.js'
import { AppError, ErrorCode } from '../lib/errors.js'
import { encodeData, isValidType } from '../lib/protocol.js'

/** A route's handler: answers with `ctx.reply`, fails with `ctx.throw`. */
export type Handler = (ctx: Context) => unknown

/** What a route may ask of the frames it takes. */
export interface RouteOptions {
  /** A permission the sender must hold (error 2001 otherwise), e.g. `send:message`. */
  permission?: string
  /** Largest `data`, as JSON bytes; bigger gets error 4002. */
  maxDataBytes?: number
}

interface Route {
  handler: Handler
  permission: string | null
  maxDataBytes: number
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

  /** Registers the handler of a message type; a later registration replaces an earlier one. */
  add(type: string, options: RouteOptions, handler: Handler): this {
    if (!isValidType(type)) throw new TypeError(`route type ${JSON.stringify(type)} must be 1..64 chars of [a-zA-Z0-9_.:-]`)
    if (typeof handler !== 'function') throw new TypeError(`route ${type}: the handler must be a function`)
    if (options.maxDataBytes !== undefined && !(Number.isSafeInteger(options.maxDataBytes) && options.maxDataBytes > 0)) {
      throw new TypeError(`route ${type}: maxDataBytes must be a positive integer`)
    }
    this.routes.set(type, { handler, permission: options.permission ?? null, maxDataBytes: options.maxDataBytes ?? 0 })
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
      if (route.permission !== null && !ctx.client.can(route.permission)) {
        throw new AppError(ErrorCode.Forbidden, `missing permission ${route.permission}`)
      }
      if (route.maxDataBytes !== 0 && Buffer.byteLength(encodeData(ctx.data)) > route.maxDataBytes) {
        throw new AppError(ErrorCode.MessageTooLarge, `data is larger than ${route.maxDataBytes} bytes`)
      }
      await route.handler(ctx)
    }
  }
}
