/**
 * The three cluster backends (memory, redis, nats) behind one shape, so a contract suite
 * can loop over them: each gives buses and states that share one cluster, on a real
 * server started for the test file (test/support/services.ts).
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
import { skipUnless, startNats, startRedis, testPrefix, type Service } from './services.js'

export type BackendName = 'memory' | 'redis' | 'nats'

export interface Backend {
  readonly name: BackendName
  /** The `skip` option for a suite on this backend. */
  readonly skip: string | false
  /** The server behind it (null for memory), once started. */
  service: Service | null
  /** A new bus joined to every other bus of this backend. */
  bus(): Bus
  /** A new state handle on the cluster named by `prefix`. */
  state(prefix: string, options?: { jetstream?: boolean }): ClusterState
  /** The `cluster` config of a node on this backend. */
  cluster(prefix: string, options?: { jetstream?: boolean }): NonNullable<ConfigInput['cluster']>
}

export const backendNames: BackendName[] = ['memory', 'redis', 'nats']

/**
 * Registers before/after hooks that start the backend's server for this file, and
 * returns the backend.
 */
export function useBackend(name: BackendName): Backend {
  const hub = new MemoryHub()
  const memoryStates = new Map<string, MemoryState>()
  const backend: Backend = {
    name,
    skip: name === 'memory' ? false : skipUnless(name),
    service: null,
    bus() {
      if (name === 'memory') return new MemoryBus(hub)
      if (name === 'redis') return new RedisBus(backend.service!.url)
      return new NatsBus([backend.service!.url])
    },
    state(prefix, options = {}) {
      if (name === 'memory') {
        let state = memoryStates.get(prefix)
        if (state === undefined) memoryStates.set(prefix, (state = new MemoryState()))
        return state
      }
      if (name === 'redis') return new RedisState(backend.service!.url, prefix)
      return new NatsState([backend.service!.url], prefix, { jetstream: options.jetstream ?? false })
    },
    cluster(prefix, options = {}) {
      if (name === 'redis') return { bus: 'redis', prefix, redis: { url: backend.service!.url } }
      if (name === 'nats') return { bus: 'nats', prefix, nats: { servers: [backend.service!.url], jetstream: options.jetstream ?? false } }
      return { bus: 'memory', prefix }
    },
  }
  if (name !== 'memory' && backend.skip === false) {
    before(async () => {
      backend.service = name === 'redis' ? await startRedis() : await startNats()
    })
    after(async () => {
      await backend.service?.close()
    })
  }
  return backend
}

export { testPrefix }
