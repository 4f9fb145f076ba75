/**
 * Prometheus metrics with `prom-client`, in a registry of the app's own (not the global
 * one), served at `GET /metrics`: connections, frames and bytes in and out, errors by
 * code, the chain's duration by message type, rooms and members, the bus, heartbeats,
 * slow consumers, rate-limit and auth refusals, and Node's default metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import type { Application, Middleware } from '../../lib/application.js'
import type { Context } from '../../lib/context.js'
import type { Next } from '../../lib/compose.js'
import { isAppError } from '../../lib/errors.js'
import { Collectors } from './collectors.js'

export interface MetricsOptions {
  /** Where the metrics are served. Default `/metrics`. */
  path?: string
  /** Prefix of every wshub metric name. Default `wshub_`. */
  prefix?: string
  /** Also collect Node's default process metrics. Default true. */
  defaultMetrics?: boolean
}

/** The metrics middleware, with the app's registry once `app.use()` has set it up (add your own metrics to it). */
export type MetricsMiddleware = Middleware & { readonly registry: Registry | null }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/**
 * The metrics middleware; put it early, so its duration covers the rest of the chain.
 *
 * @example
 * ```ts
 * import { metrics } from 'wshub/middleware/metrics'
 * const m = metrics({ prefix: 'chat_' })
 * app.use(m)   // GET /metrics on the node's port; m.registry takes your own metrics
 * ```
 */
export function metrics(options: MetricsOptions = {}): MetricsMiddleware {
  if (typeof options !== 'object' || options === null) throw new TypeError('metrics(options): options must be an object')
  const path = options.path ?? '/metrics'
  const prefix = options.prefix ?? 'wshub_'
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`metrics(options): path must start with / (got ${JSON.stringify(path)})`)
  if (prefix !== '' && !METRIC_NAME.test(prefix)) throw new TypeError(`metrics(options): prefix must match ${METRIC_NAME} (got ${JSON.stringify(prefix)})`)
  let collectors: Collectors | null = null

  const middleware = async function metrics(ctx: Context, next: Next): Promise<void> {
    const c = collectors!
    const stats = c.frames.inbound(ctx.type)
    stats.framesIn++
    const started = performance.now()
    try {
      await next()
    } catch (err) {
      c.errors.get(String(isAppError(err) ? err.code : 1003)).inc()
      throw err
    } finally {
      stats.observe((performance.now() - started) / 1000)
    }
  } as MetricsMiddleware & { registry: Registry | null }

  middleware.registry = null
  middleware.setup = (app: Application) => {
    if (collectors !== null) throw new Error('metrics(): one instance serves one app; call metrics() again for another app')
    collectors = new Collectors(app, prefix, options.defaultMetrics ?? true)
    const registry = (middleware.registry = collectors.registry)
    app.onHttp(async function metricsRoute(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const url = req.url ?? '/'
      const q = url.indexOf('?')
      if ((q === -1 ? url : url.slice(0, q)) !== path || (req.method !== 'GET' && req.method !== 'HEAD')) return false
      const body = await registry.metrics()
      res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body)
      return true
    })
  }
  return middleware
}
