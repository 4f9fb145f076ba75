/**
 * The cluster backends behind one shape, so a contract suite can loop over them: each
 * gives buses and states that share one cluster, on real servers started for the test
 * file. The three single-server backends (memory, redis, nats; test/support/services.ts)
 * and the three multi-process engines: a Redis Cluster of 3 masters and 3 replicas
 * (redis-cluster.ts), Redis with Sentinels (redis-sentinel.ts) and a 3-server NATS
 * cluster with JetStream (nats-cluster.ts).
 */
import { after, before } from 'node:test'
import type { Bus } from '../../lib/bus/bus.js'
import { MemoryBus, MemoryHub } from '../../lib/bus/memory.js'
import { RedisBus } from '../../lib/bus/redis.js'
import { NatsBus } from '../../lib/bus/nats.js'
import type { ClusterState } from '../../lib/cluster/state.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import { RedisState } from '../../lib/cluster/redis.js'
import { NatsState } from '../../lib/cluster/nats.js'
import type { ConfigInput } from '../../lib/config.js'
import { skipUnless, startNats, startRedis, testPrefix, type Service, type ServiceName } from './services.js'
import { RedisCluster } from './redis-cluster.js'
import { MASTER_NAME, RedisSentinels } from './redis-sentinel.js'
import { NatsCluster } from './nats-cluster.js'
import type { RedisTarget } from '../../lib/bus/redis-client.js'

export type EngineName = 'redis-cluster' | 'redis-sentinel' | 'nats-cluster'
export type BackendName = 'memory' | 'redis' | 'nats' | EngineName

export interface Backend {
  readonly name: BackendName
  /** The `skip` option for a suite on this backend. */
  readonly skip: string | false
  /** The server behind it (null for memory and the engines), once started. */
  service: Service | null
  /** The engine behind it (redis-cluster, redis-sentinel, nats-cluster), once started. */
  engine: RedisCluster | RedisSentinels | NatsCluster | null
  /** A new bus joined to every other bus of this backend. */
  bus(): Bus
  /** A new state handle on the cluster named by `prefix`. */
  state(prefix: string, options?: { jetstream?: boolean }): ClusterState
  /** The `cluster` config of a node on this backend. */
  cluster(prefix: string, options?: { jetstream?: boolean }): NonNullable<ConfigInput['cluster']>
}

export const backendNames: Array<'memory' | 'redis' | 'nats'> = ['memory', 'redis', 'nats']
export const engineNames: EngineName[] = ['redis-cluster', 'redis-sentinel', 'nats-cluster']

/** The binary a backend needs. */
export function serviceOf(name: BackendName): ServiceName | null {
  if (name === 'memory') return null
  return name.startsWith('redis') ? 'redis' : 'nats'
}

/** The Redis connection target of a started Redis engine, as `cluster.redis.*` gives it. */
export function redisTargetOf(backend: Backend): RedisTarget {
  const engine = backend.engine
  if (engine instanceof RedisCluster) return { mode: 'cluster', url: '', nodes: engine.addresses }
  if (engine instanceof RedisSentinels) return { mode: 'sentinel', url: 'redis://', sentinels: engine.addresses, masterName: MASTER_NAME }
  return { mode: 'standalone', url: backend.service!.url }
}

/** 3 on a NATS cluster whose servers replicate safely, else 1 (NatsCluster.replicas). */
export function natsReplicasOf(backend: Backend): number {
  return backend.engine instanceof NatsCluster ? backend.engine.replicas : 1
}

function natsServersOf(backend: Backend): string[] {
  return backend.engine instanceof NatsCluster ? backend.engine.urls : [backend.service!.url]
}

/**
 * Registers before/after hooks that start the backend's server for this file, and
 * returns the backend.
 */
export function useBackend(name: BackendName): Backend {
  const backend = backendFor(name, null)
  if (name !== 'memory' && backend.skip === false) {
    before(async () => {
      if (name === 'redis') backend.service = await startRedis()
      else if (name === 'nats') backend.service = await startNats()
      else if (name === 'redis-cluster') backend.engine = await RedisCluster.start()
      else if (name === 'redis-sentinel') backend.engine = await RedisSentinels.start()
      else backend.engine = await NatsCluster.start()
    })
    after(async () => {
      await backend.service?.close()
      await backend.engine?.close()
    })
  }
  return backend
}

/** The backend over an engine already started (or none yet), with no test hooks: for scripts. */
export function backendFor(name: BackendName, engine: Backend['engine']): Backend {
  const hub = new MemoryHub()
  const memoryStates = new Map<string, MemoryState>()
  const backend: Backend = {
    name,
    skip: name === 'memory' ? false : skipUnless(serviceOf(name)!),
    service: null,
    engine,
    bus() {
      if (name === 'memory') return new MemoryBus(hub)
      if (serviceOf(name) === 'redis') return new RedisBus(redisTargetOf(backend))
      return new NatsBus(natsServersOf(backend))
    },
    state(prefix, options = {}) {
      if (name === 'memory') {
        let state = memoryStates.get(prefix)
        if (state === undefined) memoryStates.set(prefix, (state = new MemoryState()))
        return state
      }
      if (serviceOf(name) === 'redis') return new RedisState(redisTargetOf(backend), prefix)
      return new NatsState(natsServersOf(backend), prefix, { jetstream: options.jetstream ?? false, replicas: natsReplicasOf(backend) })
    },
    cluster(prefix, options = {}) {
      if (serviceOf(name) === 'redis') {
        const target = redisTargetOf(backend)
        if (target.mode === 'cluster') return { bus: 'redis', prefix, redis: { mode: 'cluster', nodes: target.nodes } }
        if (target.mode === 'sentinel') return { bus: 'redis', prefix, redis: { mode: 'sentinel', sentinels: target.sentinels, master_name: target.masterName } }
        return { bus: 'redis', prefix, redis: { url: target.url } }
      }
      if (serviceOf(name) === 'nats') {
        return { bus: 'nats', prefix, nats: { servers: natsServersOf(backend), jetstream: options.jetstream ?? false, replicas: natsReplicasOf(backend) } }
      }
      return { bus: 'memory', prefix }
    },
  }
  return backend
}

export { testPrefix }
