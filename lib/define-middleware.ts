import type { Middleware } from './application.js'

/**
 * An identity helper for middleware authors: it only gives `ctx` and `next` their types,
 * so a middleware need not spell them out. Its type argument is what it adds to
 * `ctx.state`: the routes of an app it is `use`d on see those fields typed.
 *
 * @example
 * ```ts
 * export const timing = defineMiddleware(async function timing(ctx, next) {
 *   const t = performance.now(); await next(); ctx.log.debug({ ms: performance.now() - t }, 'handled')
 * })
 * export const tenant = defineMiddleware<{ tenant: string }>(async function tenant(ctx, next) {
 *   ctx.state.tenant = String(ctx.client.claims?.tenant ?? 'public'); await next()
 * })
 * const app = createApp().use(tenant)   // app.route(..., (ctx) => ctx.state.tenant) is a string
 * ```
 */
export function defineMiddleware<Adds extends object = {}>(middleware: Middleware<Adds>): Middleware<Adds> {
  return middleware
}
