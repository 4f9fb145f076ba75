/**
 * wshub-request-timing: a third-party wshub middleware, shaped as its own package would
 * be. It times every frame through the rest of the chain, warns about slow ones, and
 * keeps per-connection counts; what it adds to `ctx.state` and `ctx.client.data` is
 * declared below, so handlers see it typed.
 *
 * @example
 * ```ts
 * import { createApp } from 'wshub'
 * import { requestTiming } from 'wshub-request-timing'
 * const app = createApp()
 * app.use(requestTiming({ slowMs: 50 }))
 * app.route('whoami', (ctx) => ctx.reply('whoami_reply', { since: ctx.state.requestTiming?.startedAt }))
 * ```
 */
import { defineMiddleware, type Application, type Middleware } from 'wshub'

/** What the middleware puts on `ctx.state` for the frame. */
export interface FrameTiming {
  /** `performance.now()` when the frame reached this middleware. */
  startedAt: number
}

/** What the middleware keeps on `ctx.client.data` for the connection. */
export interface ConnectionTiming {
  frames: number
  slowFrames: number
}

declare module 'wshub' {
  interface State {
    requestTiming?: FrameTiming
  }
  interface ClientData {
    requestTiming?: ConnectionTiming
  }
}

export interface RequestTimingOptions {
  /** A frame slower than this (ms) is logged at warn. Default 100. */
  slowMs?: number
}

/** The middleware factory: checks its options now, at `app.use()` time at the latest. */
export function requestTiming(options: RequestTimingOptions = {}): Middleware {
  const slowMs = options.slowMs ?? 100
  if (typeof slowMs !== 'number' || !Number.isFinite(slowMs) || slowMs < 0) {
    throw new TypeError(`requestTiming(options): slowMs must be a number ≥ 0 (got ${String(options.slowMs)})`)
  }

  const middleware: Middleware = defineMiddleware(async function requestTiming(ctx, next) {
    const startedAt = performance.now()
    ctx.state.requestTiming = { startedAt }
    const counts = (ctx.client.data.requestTiming ??= { frames: 0, slowFrames: 0 })
    counts.frames++
    try {
      await next()
    } finally {
      const ms = performance.now() - startedAt
      if (ms >= slowMs) {
        counts.slowFrames++
        ctx.log.warn({ ms }, 'slow frame')
      }
    }
  })

  // Runs once, at app.use(): what the middleware needs beyond frames.
  middleware.setup = (app: Application) => {
    app.on('disconnect', (client) => {
      const counts = client.data.requestTiming
      if (counts !== undefined && app.debug) app.log.debug({ client_id: client.id, ...counts }, 'request timing')
    })
  }
  return middleware
}
