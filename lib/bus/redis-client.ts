/**
 * The one place that imports ioredis: connections for the Redis bus and state, set up to
 * fail fast while Redis is away and to reconnect by themselves, forever.
 */
import { Redis, ReplyError, type RedisOptions } from 'ioredis'
import type { Logger } from 'pino'

export type { Redis }

/**
 * A lazily connecting ioredis client named `name` (visible in `CLIENT LIST`).
 *
 * @example
 * ```ts
 * const redis = openRedis('redis://127.0.0.1:6379', 'wshub-state')
 * await redis.connect()
 * ```
 */
export function openRedis(url: string, name: string, log?: Logger, overrides: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    // A command issued while Redis is away fails now rather than waiting in a queue:
    // the caller counts it as undelivered or repairs it later, instead of piling it up.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    // Never give up: a retry every ≤ 500 ms, so a returning Redis is found within a second.
    retryStrategy: (times: number) => Math.min(50 * times, 500),
    ...overrides,
  })
  // Without a listener ioredis prints every failed reconnect; the status events say it once.
  redis.on('error', (err: Error) => log?.debug({ err: err.message, connection: name }, 'redis connection error'))
  return redis
}

/**
 * Pings a connection every `everyMs` while it is ready; one without an answer within
 * `timeoutMs` is silent (a frozen server, or a link that stalled: no RST, no FIN, so the
 * socket itself never says) and is dropped and made again, `onSilent` first. Without it
 * a stalled link leaves the connection stuck for good: a command timeout fails the
 * command, not the connection, and a subscriber connection waits for messages forever.
 * A subscribed connection may PING too. Returns the function that stops the watch.
 *
 * @example
 * ```ts
 * const stop = watchSilence(redis, 1000, 2000, () => log.warn('redis went silent'))
 * ```
 */
export function watchSilence(redis: Redis, everyMs: number, timeoutMs: number, onSilent?: () => void): () => void {
  let waiting = false
  const timer = setInterval(() => {
    if (waiting || redis.status !== 'ready') return
    waiting = true
    let settled = false
    const silent = () => {
      if (settled) return
      settled = true
      waiting = false
      clearTimeout(deadline)
      if (redis.status !== 'ready') return
      onSilent?.()
      redis.disconnect(true)
    }
    const deadline = setTimeout(silent, timeoutMs)
    redis.ping().then(() => {
      if (settled) return
      settled = true
      waiting = false
      clearTimeout(deadline)
    }, silent)
  }, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}

/** Connects, or throws an error that names the config key to check. */
export async function connectRedis(redis: Redis, what: string): Promise<void> {
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw new Error(`could not reach Redis for the ${what} (cluster.redis.url): ${(err as Error).message}`)
  }
}

/** Replies of a Redis that is there but not serving yet (loading its data, a script running, a replica without its master). */
const NOT_SERVING = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/

/**
 * Whether a command failed because Redis is out of reach: no connection (with the
 * offline queue off, ioredis fails the command at once), no answer within the command
 * timeout, or a server not serving yet. An error Redis answered with is not: the
 * command reached it and was refused.
 */
export function isRedisUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (err instanceof (ReplyError as unknown as new () => Error)) return NOT_SERVING.test(err.message)
  return true
}
