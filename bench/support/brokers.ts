/**
 * The broker of a multi-node run, started for it on free loopback ports and stopped by
 * PID: one redis-server, one nats-server, or a Redis Cluster of 3 masters and 3 replicas.
 */
import { startNats, startRedis } from '../../test/support/services.js'
import { RedisCluster } from '../../test/support/redis-cluster.js'
import { cpuSeconds } from './proc.js'

export type BrokerKind = 'redis' | 'nats' | 'redis-cluster'

export interface Broker {
  kind: BrokerKind
  /** What the target's `busUrl` takes: a URL, or host:port,... of the cluster's nodes. */
  busUrl: string
  /** CPU seconds used so far by every process of the broker. */
  cpu(): number
  close(): Promise<void>
}

export async function startBroker(kind: BrokerKind): Promise<Broker> {
  if (kind === 'redis-cluster') {
    const cluster = await RedisCluster.start()
    return {
      kind,
      busUrl: cluster.addresses.join(','),
      cpu: () => cluster.nodes.reduce((sum, n) => sum + (n.pid === null ? 0 : cpuSeconds(n.pid)), 0),
      close: () => cluster.close(),
    }
  }
  const service = kind === 'redis' ? await startRedis() : await startNats()
  return { kind, busUrl: service.url, cpu: () => (service.pid === null ? 0 : cpuSeconds(service.pid)), close: () => service.close() }
}
