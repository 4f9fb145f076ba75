/**
 * Opens the bus and the cluster state that `cluster.bus` names. Redis and NATS are
 * imported only when chosen, so a memory node never loads their clients.
 */
import type { Logger } from 'pino'
import type { WshubConfig } from './config.js'
import type { Bus } from './bus/bus.js'
import type { ClusterState } from './cluster/state.js'
import { MemoryBus } from './bus/memory.js'
import { MemoryState } from './cluster/memory.js'

export interface Backends {
  bus: Bus
  state: ClusterState
}

export async function openBackends(config: WshubConfig, log: Logger): Promise<Backends> {
  switch (config.cluster.bus) {
    case 'memory':
      return { bus: new MemoryBus(), state: new MemoryState() }
    default:
      log.fatal({ bus: config.cluster.bus }, 'this build has no cluster bus other than memory yet')
      throw new Error(`cluster.bus: ${config.cluster.bus} is not available in this build; use memory`)
  }
}
