/**
 * The built-in middleware, and the default chain `createApp` installs:
 * trace → metrics → auth → rate-limit → dedup (the router always comes last).
 */
import type { WshubConfig } from '../lib/config.js'
import type { Middleware } from '../lib/application.js'

export { Router, type Handler, type RouteOptions } from './router.js'

/** The default chain for a config, in order. */
export function defaultChain(_config: WshubConfig): Middleware[] {
  return []
}
