import type { Middleware } from './application.js'

/**
 * An identity helper for middleware authors: it only gives `ctx` and `next` their types,
 * so a middleware need not spell them out.
 *
 * @example
 * ```ts
 * export const timing = defineMiddleware(async function timing(ctx, next) {
 *   const t = performance.now(); await next(); ctx.log.debug({ ms: performance.now() - t }, 'handled')
 * })
 * ```
 */
export function defineMiddleware<M extends Middleware>(middleware: M): M {
  return middleware
}
