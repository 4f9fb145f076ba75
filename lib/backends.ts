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
import { BoundedState } from './cluster/bounded-state.js'

export interface Backends {
  bus: Bus
  state: ClusterState
}

export async function openBackends(config: WshubConfig, log: Logger): Promise<Backends> {
  const { cluster } = config
  switch (cluster.bus) {
    case 'memory':
      return { bus: new MemoryBus(), state: new MemoryState() }
    case 'redis': {
      const [{ RedisBus }, { RedisState }] = await Promise.all([import('./bus/redis.js'), import('./cluster/redis.js')])
      return { bus: new RedisBus(cluster.redis.url, log), state: new BoundedState(new RedisState(cluster.redis.url, cluster.prefix, log), cluster.state_timeout_ms) }
    }
    case 'nats': {
      const [{ NatsBus }, { NatsState }] = await Promise.all([import('./bus/nats.js'), import('./cluster/nats.js')])
      return {
        bus: new NatsBus(cluster.nats.servers, log),
        state: new BoundedState(new NatsState(cluster.nats.servers, cluster.prefix, { jetstream: cluster.nats.jetstream, log }), cluster.state_timeout_ms),
      }
    }
  }
}
