/**
 * Opens the bus and the cluster state that `cluster.bus` names. Redis and NATS are
 * imported only when chosen, so a memory node never loads their clients; their state's
 * every call is bounded by `cluster.state_timeout_ms` (lib/cluster/bounded-state.ts).
 */
import type { Logger } from 'pino'
import type { WshubConfig } from './config.js'
import type { Bus } from './bus/bus.js'
import type { ClusterState } from './cluster/state.js'
import { MemoryBus } from './bus/memory.js'
import { MemoryState } from './cluster/memory.js'
import type { RedisTarget } from './bus/redis-client.js'
import { BoundedState } from './cluster/bounded-state.js'

export interface Backends {
  bus: Bus
  state: ClusterState
}

/** `cluster.redis` as the connection target of lib/bus/redis-client.ts (a type-only import: nothing of ioredis loads here). */
export function redisTarget(redis: WshubConfig['cluster']['redis']): RedisTarget {
  if (redis.mode === 'sentinel') return { mode: 'sentinel', url: redis.url, sentinels: redis.sentinels, masterName: redis.master_name }
  if (redis.mode === 'cluster') return { mode: 'cluster', url: redis.url, nodes: redis.nodes }
  return { mode: 'standalone', url: redis.url }
}

/**
 * Opens the bus and state that `config.cluster` names.
 *
 * @example
 * ```ts
 * const { bus, state } = await openBackends(resolveConfig({ cluster: { bus: 'redis', redis: { mode: 'cluster', nodes: ['127.0.0.1:7000'] } } }), log)
 * ```
 */
export async function openBackends(config: WshubConfig, log: Logger): Promise<Backends> {
  const { cluster } = config
  switch (cluster.bus) {
    case 'memory':
      return { bus: new MemoryBus(), state: new MemoryState() }
    case 'redis': {
      const [{ RedisBus }, { RedisState }] = await Promise.all([import('./bus/redis.js'), import('./cluster/redis.js')])
      return { bus: new RedisBus(redisTarget(cluster.redis), log), state: new BoundedState(new RedisState(redisTarget(cluster.redis), cluster.prefix, log), cluster.state_timeout_ms) }
    }
    case 'nats': {
      const [{ NatsBus }, { NatsState }] = await Promise.all([import('./bus/nats.js'), import('./cluster/nats.js')])
      return {
        bus: new NatsBus(cluster.nats.servers, log),
        state: new BoundedState(new NatsState(cluster.nats.servers, cluster.prefix, { jetstream: cluster.nats.jetstream, replicas: cluster.nats.replicas, log }), cluster.state_timeout_ms),
      }
    }
  }
}
