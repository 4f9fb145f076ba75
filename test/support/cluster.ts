/**
 * Clusters for integration tests: several real `wshub` processes (spawnNode) or several
 * in-process apps (startNode), joined by a real Redis or NATS started for the test file.
 */
import { spawnNode, stopNode, STOP_WAIT_MS, type NodeProcess } from './process.js'
import { startNode, type TestNode } from './node.js'
import { TestClient } from './ws-client.js'
import type { Backend } from './backends.js'
import type { ConfigInput } from '../../lib/config.js'
import { testPrefix } from './services.js'

export interface ProcessCluster {
  nodes: NodeProcess[]
  prefix: string
  /** A client of node `i`; closed by `close()`. */
  connect(i: number): Promise<TestClient>
  /** Stops every node still running (SIGTERM, by PID) and closes the clients; a node not gone within STOP_WAIT_MS is killed and the close fails. */
  close(): Promise<void>
}

/** The WSHUB_* environment of a node on this backend. */
export function clusterEnv(backend: Backend, prefix: string, nodeId: string, env: Record<string, string> = {}): Record<string, string> {
  const cluster = backend.cluster(prefix)
  const redis = cluster.redis ?? {}
  const where: Record<string, string> =
    cluster.bus === 'redis'
      ? {
          WSHUB_CLUSTER_REDIS_MODE: redis.mode ?? 'standalone',
          ...(redis.url !== undefined ? { WSHUB_CLUSTER_REDIS_URL: redis.url } : {}),
          ...(redis.nodes !== undefined ? { WSHUB_CLUSTER_REDIS_NODES: redis.nodes.join(',') } : {}),
          ...(redis.sentinels !== undefined ? { WSHUB_CLUSTER_REDIS_SENTINELS: redis.sentinels.join(',') } : {}),
          ...(redis.master_name !== undefined ? { WSHUB_CLUSTER_REDIS_MASTER_NAME: redis.master_name } : {}),
        }
      : { WSHUB_CLUSTER_NATS_SERVERS: cluster.nats!.servers!.join(','), WSHUB_CLUSTER_NATS_REPLICAS: String(cluster.nats!.replicas ?? 1) }
  return {
    WSHUB_CLUSTER_BUS: cluster.bus!,
    WSHUB_CLUSTER_PREFIX: prefix,
    WSHUB_CLUSTER_NODE_ID: nodeId,
    ...where,
    WSHUB_LOG_LEVEL: 'info',
    ...env,
  }
}

/** Spawns `count` node processes on one cluster prefix; `nodeEnv(i)` adds to node i's environment. */
export async function spawnCluster(backend: Backend, count: number, env: Record<string, string> = {}, nodeEnv?: (i: number) => Record<string, string>): Promise<ProcessCluster> {
  const prefix = testPrefix()
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => spawnNode(clusterEnv(backend, prefix, `${prefix}n${i + 1}`, { ...env, ...nodeEnv?.(i) }))))
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed !== undefined) {
    // The nodes that did start would keep the test process alive for good: stop them first.
    await Promise.all(started.flatMap((s) => (s.status === 'fulfilled' ? [stopNode(s.value)] : [])))
    throw failed.reason
  }
  const nodes = started.map((s) => (s as PromiseFulfilledResult<NodeProcess>).value)
  const clients: TestClient[] = []
  return {
    nodes,
    prefix,
    async connect(i) {
      const client = await TestClient.connect(`ws://127.0.0.1:${nodes[i]!.port}/ws`)
      clients.push(client)
      return client
    },
    async close() {
      for (const c of clients) c.socket.terminate()
      const stuck = await Promise.all(nodes.map((node) => stopNode(node)))
      if (stuck.some(Boolean)) throw new Error(`node ${stuck.indexOf(true) + 1} did not exit within ${STOP_WAIT_MS / 1000} s of SIGTERM (killed)`)
    },
  }
}

/** Starts `count` apps in this process on one cluster prefix, each with its own bus and state connections. */
export async function startCluster(backend: Backend, count: number, config: ConfigInput = {}): Promise<{ nodes: TestNode[]; prefix: string; close(): Promise<void> }> {
  const prefix = testPrefix()
  const nodes: TestNode[] = []
  for (let i = 0; i < count; i++) {
    nodes.push(await startNode({ ...config, cluster: { ...backend.cluster(prefix), node_id: `${prefix}n${i + 1}`, ...config.cluster } }))
  }
  return { nodes, prefix, close: async () => void (await Promise.all(nodes.map((n) => n.close()))) }
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    if (Date.now() >= until) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
