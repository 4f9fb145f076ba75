/**
 * Rate limiting (PROTOCOL.md section 5): a token bucket per connection, kept on the
 * connection and checked in O(1) per frame, and an optional bucket per user shared
 * across the cluster through `app.state.takeToken`. A refused frame gets error 1005 with
 * `details.retry_after_ms`; after `max_violations` refusals in a row, the connection is
 * closed with 1008.
 *
 * Frames refused at the envelope (not JSON, binary, a bad `message_id`) never enter the
 * chain; they take a token from the connection's bucket too (`app.onReject`), so a flood
 * of junk ends like a flood of valid frames: 1005 over the limit, then close 1008.
 */
import type { Application, Middleware } from '../lib/application.js'
import { ConfigError, type WshubConfig } from '../lib/config.js'
import type { Connection } from '../lib/connection.js'
import type { Context } from '../lib/context.js'
import type { Next } from '../lib/compose.js'
import { AppError, ErrorCode } from '../lib/errors.js'

/** A connection's bucket, on `ctx.client.data.rateLimit`. */
export interface ConnectionBucket {
  tokens: number
  /** `performance.now()` of the last refill. */
  at: number
  /** Refusals in a row. */
  violations: number
}

declare module '../lib/connection.js' {
  interface ClientData {
    rateLimit?: ConnectionBucket
  }
}

type Section = WshubConfig['rate_limit']

/** The `rate_limit.*` config keys; any given here win over the app's config (and stay fixed on reload). */
export interface RateLimitOptions {
  per_connection?: Partial<Section['per_connection']>
  per_user?: Partial<Section['per_user']>
  max_violations?: number
}

interface Limits {
  rate: number
  burst: number
  userRate: number
  userBurst: number
  maxViolations: number
}

function resolve(section: Section, options: RateLimitOptions): Limits {
  const limits = {
    rate: options.per_connection?.rate ?? section.per_connection.rate,
    burst: options.per_connection?.burst ?? section.per_connection.burst,
    userRate: options.per_user?.rate ?? section.per_user.rate,
    userBurst: options.per_user?.burst ?? section.per_user.burst,
    maxViolations: options.max_violations ?? section.max_violations,
  }
  const rate = (key: string, value: number) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ConfigError(`rate_limit.${key}: must be a number ≥ 0 (got ${value})`)
  }
  rate('per_connection.rate', limits.rate)
  rate('per_connection.burst', limits.burst)
  rate('per_user.rate', limits.userRate)
  rate('per_user.burst', limits.userBurst)
  if (limits.rate > 0 && limits.burst < 1) throw new ConfigError('rate_limit.per_connection.burst: must be ≥ 1 when per_connection.rate is set')
  if (limits.userRate > 0 && limits.userBurst < 1) throw new ConfigError('rate_limit.per_user.burst: must be ≥ 1 when per_user.rate is set')
  if (!Number.isSafeInteger(limits.maxViolations) || limits.maxViolations < 1) throw new ConfigError(`rate_limit.max_violations: must be an integer ≥ 1 (got ${limits.maxViolations})`)
  return limits
}

function closeAbusive(client: Connection): void {
  client.close(1008, 'rate limit exceeded too many times in a row')
}

/** Takes a token from a connection's bucket; resolves to 0, or the ms until one is free. */
// `now` is when the frame arrived, not when it runs: frames that waited behind a slow one
// (the cluster state slow to answer) and then run in a burst were sent at a legal pace.
// A frame refused at its envelope takes at once, ahead of earlier frames still waiting,
// so `now` may be behind `at`: it then counts as `at`.
function take(bucket: ConnectionBucket, rate: number, burst: number, now = performance.now()): number {
  const tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * rate) / 1000)
  bucket.at = Math.max(bucket.at, now)
  if (tokens >= 1) {
    bucket.tokens = tokens - 1
    return 0
  }
  bucket.tokens = tokens
  return Math.ceil(((1 - tokens) * 1000) / rate)
}

/**
 * The rate-limit middleware. A rate of 0 turns that bucket off. Follows `reload`: new
 * rates apply from the next frame (a bucket keeps its tokens, capped at the new burst).
 *
 * @example
 * ```ts
 * import { rateLimit } from 'wshub/middleware/rate-limit'
 * app.use(rateLimit({ per_connection: { rate: 10, burst: 20 }, max_violations: 5 }))
 * ```
 */
export function rateLimit(options: RateLimitOptions = {}): Middleware {
  if (typeof options !== 'object' || options === null) throw new TypeError('rateLimit(options): options must be an object of rate_limit.* keys')
  let limits: Limits

  function bucketOf(client: Connection): ConnectionBucket {
    return (client.data.rateLimit ??= { tokens: limits.burst, at: performance.now(), violations: 0 })
  }

  /** One more refusal in a row: counted, and the connection closed once there are `max_violations`. */
  function violation(app: Application, client: Connection, bucket: ConnectionBucket, scope: 'connection' | 'user', wait: number): AppError {
    bucket.violations++
    app.emit('rate_limited', client, scope)
    // Closed on the next turn, so the 1005 of this frame goes out before the close frame;
    // until then the frames it already sent are dropped, not answered with more 1005s.
    if (bucket.violations >= limits.maxViolations) {
      client.stopReading()
      setImmediate(closeAbusive, client)
    }
    return new AppError(ErrorCode.RateLimited, `rate limited (${scope}): retry in ${wait} ms`, { retry_after_ms: wait })
  }

  // Not async itself: a frame within the connection's limit (and no per-user limit) goes on
  // with no promise of this step's own.
  const middleware: Middleware = function rateLimit(ctx: Context, next: Next): Promise<void> {
    const bucket = bucketOf(ctx.client)
    const wait = limits.rate > 0 ? take(bucket, limits.rate, limits.burst, ctx.receivedAt) : 0
    if (wait === 0 && (limits.userRate === 0 || ctx.client.userId === null)) {
      bucket.violations = 0
      return next()
    }
    return limited(ctx, next, bucket, wait)
  }

  /** Over the connection's limit, or under a per-user limit: the cluster-wide bucket decides. */
  async function limited(ctx: Context, next: Next, bucket: ConnectionBucket, connectionWait: number): Promise<void> {
    const client = ctx.client
    let wait = connectionWait
    let scope: 'connection' | 'user' = 'connection'
    if (wait === 0 && limits.userRate > 0 && client.userId !== null) {
      wait = await ctx.app.state.takeToken(`rate:user:${client.userId}`, limits.userRate, limits.userBurst)
      scope = 'user'
    }
    if (wait === 0) {
      bucket.violations = 0
      return next()
    }
    throw violation(ctx.app, client, bucket, scope, wait)
  }

  /**
   * A frame refused at the envelope: it costs a token of the connection's bucket like any
   * frame (not of the user's: that would be a round trip to the cluster state per junk
   * frame), and over the limit it is answered 1005 rather than its envelope error.
   */
  function rateLimitRefused(app: Application, client: Connection): AppError | null {
    if (limits.rate === 0) return null
    const bucket = bucketOf(client)
    const wait = take(bucket, limits.rate, limits.burst)
    if (wait === 0) {
      bucket.violations = 0
      return null
    }
    return violation(app, client, bucket, 'connection', wait)
  }

  middleware.setup = (app: Application) => {
    limits = resolve(app.config.rate_limit, options)
    app.onReject(function rateLimit(client) {
      return rateLimitRefused(app, client)
    })
    app.on('reload', (config) => {
      try {
        limits = resolve(config.rate_limit, options)
      } catch (err) {
        app.log.error({ err: (err as Error).message }, 'rate-limit: reload refused, keeping the previous rates')
      }
    })
  }
  return middleware
}
