/**
 * The one place that imports ioredis: connections for the Redis bus and state, set up to
 * fail fast while Redis is away and to reconnect by themselves, forever. One server, a
 * master found through Sentinels, or a Redis Cluster: all three through ioredis's own
 * support (`sentinels`, `Cluster`), nothing of ours in between.
 */
import { Cluster, Redis, ReplyError, type ClusterOptions, type RedisOptions } from 'ioredis'
import type { Logger } from 'pino'

export type { Redis, Cluster }

/** A connection to one server, to the master the Sentinels name, or to a whole Redis Cluster. */
export type RedisClient = Redis | Cluster

/**
 * Where Redis is (`cluster.redis.*`). In the sentinel and cluster modes the user name and
 * password of `url`, when it has any, are used on every data node.
 */
export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | { mode: 'sentinel'; url: string; sentinels: string[]; masterName: string }
  | { mode: 'cluster'; url: string; nodes: string[] }

/** Options of {@link openRedis} beyond the defaults. */
export interface OpenOptions {
  /** Commands that wait for a reply longer than this fail (default 2000; undefined = never). */
  commandTimeout?: number | undefined
  /** Cluster mode: one subscriber connection per master for SSUBSCRIBE (the bus's). */
  shardedSubscribers?: boolean
}

/** `host:port` or `redis://host:port` into ioredis's `{host, port}`. */
export function parseRedisNode(value: string): { host: string; port: number } {
  const url = new URL(value.includes('://') ? value : `redis://${value}`)
  const port = url.port === '' ? 6379 : Number(url.port)
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port }
}

/** The user name and password a URL carries, for ioredis options. */
function credentials(url: string): { username?: string; password?: string } {
  try {
    const u = new URL(url)
    return {
      ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    }
  } catch {
    return {}
  }
}

// Never give up: a retry every ≤ 500 ms, so a returning Redis is found within a second.
const retry = (times: number) => Math.min(50 * times, 500)

/**
 * A lazily connecting ioredis client named `name` (visible in `CLIENT LIST`).
 *
 * @example
 * ```ts
 * const redis = openRedis({ mode: 'cluster', url: '', nodes: ['127.0.0.1:7000'] }, 'wshub-state')
 * await redis.connect()
 * ```
 */
export function openRedis(target: RedisTarget | string, name: string, log?: Logger, options: OpenOptions = {}): RedisClient {
  const where = typeof target === 'string' ? ({ mode: 'standalone', url: target } as const) : target
  const base: RedisOptions = {
    lazyConnect: true,
    connectionName: name,
    // A command issued while Redis is away fails now rather than waiting in a queue:
    // the caller counts it as undelivered or repairs it later, instead of piling it up.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 'commandTimeout' in options ? options.commandTimeout : 2000,
    retryStrategy: retry,
  }
  let redis: RedisClient
  if (where.mode === 'cluster') {
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: retry,
      // A failover moves slots: ask again soon, and a few times, before failing a command.
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      maxRedirections: 16,
      slotsRefreshTimeout: 2000,
      slotsRefreshInterval: 2000,
      shardedSubscribers: options.shardedSubscribers === true,
      // Per node: the Cluster itself reconnects and finds the new master of a slot (a
      // node's own retry strategy and offline queue are the Cluster's to set).
      redisOptions: {
        connectionName: name,
        connectTimeout: base.connectTimeout,
        commandTimeout: base.commandTimeout,
        maxRetriesPerRequest: 1,
        autoResendUnfulfilledCommands: false,
        autoResubscribe: false,
        ...credentials(where.url),
      },
    }
    redis = new Cluster(where.nodes.map(parseRedisNode), clusterOptions)
  } else if (where.mode === 'sentinel') {
    const url = new URL(where.url)
    redis = new Redis({
      ...base,
      ...credentials(where.url),
      db: Number(url.pathname.slice(1)) || 0,
      sentinels: where.sentinels.map(parseRedisNode),
      name: where.masterName,
      role: 'master',
      sentinelRetryStrategy: retry,
      // Listen to the Sentinels' +switch-master: a failover is followed at once, not at the next error.
      failoverDetector: true,
    })
  } else {
    redis = new Redis(where.url, base)
  }
  // Without a listener ioredis prints every failed reconnect; the status events say it once.
  redis.on('error', (err: Error) => log?.debug({ err: err.message, connection: name }, 'redis connection error'))
  return redis
}

/** The config key to check when `target` cannot be reached. */
function keyOf(target: RedisTarget | string): string {
  if (typeof target === 'string' || target.mode === 'standalone') return 'cluster.redis.url'
  return target.mode === 'sentinel' ? 'cluster.redis.sentinels' : 'cluster.redis.nodes'
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
export function watchSilence(redis: RedisClient, everyMs: number, timeoutMs: number, onSilent?: () => void): () => void {
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
export async function connectRedis(redis: RedisClient, what: string, target: RedisTarget | string = 'standalone'): Promise<void> {
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw new Error(`could not reach Redis for the ${what} (${keyOf(target)}): ${(err as Error).message}`)
  }
}

/** Replies of a Redis that is there but not serving yet (loading its data, a script running, a replica without its master, a cluster failing over). */
const NOT_SERVING = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/

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
