/**
 * The built-in middleware, and the default chain `createApp` installs:
 * trace → metrics → auth → rate-limit → dedup (the router always comes last).
 */
import type { WshubConfig } from '../lib/config.js'
import type { Middleware } from '../lib/application.js'
import { trace } from './trace.js'
import { metrics } from './metrics/index.js'
import { auth } from './auth/index.js'
import { rateLimit } from './rate-limit.js'
import { dedup } from './dedup/index.js'

export { Router, type Handler, type RouteOptions } from './router.js'

/**
 * The default chain for a config, in order, leaving out what `auth.enabled`,
 * `rate_limit.enabled` and `dedup.enabled` turn off. Each middleware reads its keys from
 * the app's config when `app.use()` sets it up.
 *
 * @example
 * ```ts
 * const app = createApp(config, { defaults: false })
 * for (const m of defaultChain(app.config)) if (m.name !== 'metrics') app.use(m)
 * ```
 */
export function defaultChain(config: WshubConfig): Middleware[] {
  const chain: Middleware[] = [trace(), metrics()]
  if (config.auth.enabled) chain.push(auth())
  if (config.rate_limit.enabled) chain.push(rateLimit())
  if (config.dedup.enabled) chain.push(dedup())
  return chain
}
