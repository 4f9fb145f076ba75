/**
 * Routes defined apart from the app, in a map whose type a server exports for its
 * clients: `defineRoute(options, handler)` types the handler from its schema as
 * `app.route` does, `defineRoutes({ type: route, ... })` names them, and
 * `app.routes(map)` registers them all.
 */
import type { Context, ReplyTypes } from './context.js'
import { isValidType } from './protocol.js'
import type { RouteEntry } from './route-map.js'
import type { Schema } from './schema/compile.js'
import type { InferData, InferInput } from './schema/infer.js'
import type { Handler, ReplySchemas, RouteOptions } from '../middleware/router.js'

/** The reply types and data `ctx.reply` takes for declared `replies` (any, where none are declared). */
export type ReplyTypesOf<R> = R extends ReplySchemas ? { [K in keyof R & string]: InferData<R[K]> } : ReplyTypes

/** The replies a client may get for declared `replies` (none known, where none are declared). */
export type RepliesOf<R> = R extends ReplySchemas ? { [K in keyof R & string]: InferData<R[K]> } : {}

/** One route, defined apart from the app. */
export interface RouteDefinition<S extends Schema | undefined = any, R extends ReplySchemas | undefined = any> {
  readonly options: RouteOptions<S, R>
  readonly handler: Handler<any>
  /** Types only: the route as a client sees it. */
  readonly '~route'?: RouteEntry<InferInput<S>, RepliesOf<R>>
}

/** Message types to route definitions. */
export type RouteDefinitions = { readonly [type: string]: RouteDefinition }

/** The route map of a {@link defineRoutes} result. */
export type RoutesOfDefinitions<D> = { [K in keyof D & string]: NonNullable<D[K] extends { readonly '~route'?: infer E } ? E : never> }

/**
 * A route with its options and handler, typed as `app.route` types them.
 *
 * @example
 * ```ts
 * const add = defineRoute({ schema: z.object({ a: z.number(), b: z.number() }), replies: { sum: z.number() } }, (ctx) => ctx.reply('sum', ctx.data.a + ctx.data.b))
 * ```
 */
export function defineRoute<const S extends Schema | undefined = undefined, const R extends ReplySchemas | undefined = undefined>(
  options: RouteOptions<S, R>,
  handler: Handler<Context<[S] extends [undefined] ? any : InferData<S>, {}, ReplyTypesOf<R>>>,
): RouteDefinition<S, R> {
  if (typeof options !== 'object' || options === null) throw new TypeError('defineRoute(options, handler): options must be an object')
  if (typeof handler !== 'function') throw new TypeError('defineRoute(options, handler): the handler must be a function')
  return { options, handler }
}

/**
 * Names routes by message type; `app.routes(map)` registers them, and `typeof map` is
 * the route map a client takes (`WshubClient<typeof map>`).
 *
 * @example
 * ```ts
 * export const routes = defineRoutes({ add })
 * export type Routes = typeof routes
 * app.routes(routes)
 * ```
 */
export function defineRoutes<const D extends RouteDefinitions>(routes: D): D {
  for (const [type, definition] of Object.entries(routes)) {
    if (!isValidType(type)) throw new TypeError(`defineRoutes: route type ${JSON.stringify(type)} must be 1..64 chars of [a-zA-Z0-9_.:-]`)
    if (typeof definition?.handler !== 'function') throw new TypeError(`defineRoutes: ${type} must be made with defineRoute(options, handler)`)
  }
  return routes
}
